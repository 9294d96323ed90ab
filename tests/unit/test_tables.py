"""The command line's one table helper: aligned, within 80 columns, nothing cut."""

from __future__ import annotations

from prompts.render import plural
from prompts.tables import table, wrap

LONG = (
    "Reflect on the week; if there is an opportunity, record it and tell leadership, "
    "who decide with you what happens next"
)


def test_a_table_that_fits_is_left_as_tabulate_aligns_it() -> None:
    text = table(
        ["client", "ARR"], [["acme", "240,000"], ["globex", "96,000"]], align=["left", "right"]
    )
    assert text.splitlines() == [
        "client      ARR",
        "------  -------",
        "acme    240,000",
        "globex   96,000",
    ]


def test_long_cells_wrap_within_80_columns_and_keep_every_word() -> None:
    text = table(["cadence", "why", "state"], [["expansion-reflection", LONG, "on"]])
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert len(lines) > 3  # the why went on over more lines
    assert " ".join(text.split()).count("expansion-reflection") == 1
    for word in LONG.split():
        assert word in text.split()
    assert lines[2].startswith("expansion-reflection") and lines[2].rstrip().endswith("on")


def test_a_word_longer_than_any_column_is_split_not_dropped() -> None:
    word = "x" * 150
    text = table(["a", "b"], [[word, "short"]])
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "".join(line.split("short")[0].strip() for line in text.splitlines()[2:]) == word


def test_wrap_keeps_the_indent_and_hangs_the_rest() -> None:
    out = wrap("    " + LONG, hang=2).splitlines()
    assert out[0].startswith("    Reflect") and all(line.startswith("      ") for line in out[1:])
    assert max(len(line) for line in out) <= 80
    assert wrap("short line") == "short line"


def test_plural_says_one_and_many() -> None:
    assert plural(1, "nudge") == "1 nudge"
    assert plural(0, "message") == "0 messages"
    assert plural(2.5, "business hour") == "2.5 business hours"
    assert plural(3, "reply", "replies") == "3 replies"
