"""The one way the command line prints a table or a paragraph: `tabulate` for the alignment,
every line within 80 columns. A cell too long for its column is wrapped onto more lines, never
cut: what a person reads is all there."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence

import tabulate as tabulate_module
from tabulate import tabulate

WIDTH = 80  # columns of a terminal nobody has resized
GAP = 2  # spaces between columns ("simple" format)
LONG_WORD = 16  # a word up to this long is kept whole while other columns can narrow
MIN_COLUMN = 8  # a column is never squeezed below this (or its longest word, if shorter)

__all__ = ["WIDTH", "table", "wrap"]


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    align: Sequence[str] | None = None,
    indent: int = 0,
    width: int = WIDTH,
    keep: Sequence[int] = (),
) -> str:
    """Rows under their headers, aligned; `align` per column ("left", "right", "center").
    When the natural widths don't fit `width`, the widest columns are narrowed and their cells
    wrapped (on words; a word longer than the column is split). Columns in `keep` (indexes)
    keep their width while others can narrow."""
    body = [["" if cell is None else str(cell) for cell in row] for row in rows]
    heads = [str(h) for h in headers]
    columns = len(heads)
    natural = [
        max([_longest_line(heads[i])] + [_longest_line(row[i]) for row in body])
        for i in range(columns)
    ]
    widths = _fit(natural, heads, body, width - indent - GAP * (columns - 1), set(keep))
    wrapped = [[_wrap_cell(cell, w) for cell, w in zip(row, widths, strict=True)] for row in body]
    wrapped_heads = [_wrap_cell(h, w) for h, w in zip(heads, widths, strict=True)]
    # tabulate pads every header by MIN_PADDING (2) unless told otherwise: a column as wide
    # as its header and cells keeps the widths worked out above.
    padding, tabulate_module.MIN_PADDING = tabulate_module.MIN_PADDING, 0
    try:
        text = tabulate(
            wrapped,
            headers=wrapped_heads,
            tablefmt="simple",
            colalign=tuple(align) if align else None,
            disable_numparse=True,
        )
    finally:
        tabulate_module.MIN_PADDING = padding
    pad = " " * indent
    return "\n".join((pad + line).rstrip() for line in text.splitlines())


def wrap(text: str, *, width: int = WIDTH, hang: int = 2) -> str:
    """Each line of `text` within `width` columns: a long line goes on under its own indent,
    `hang` columns further in."""
    out: list[str] = []
    for line in text.splitlines():
        if len(line) <= width:
            out.append(line)
            continue
        lead = len(line) - len(line.lstrip(" "))
        out += textwrap.wrap(
            line.strip(),
            width=width,
            initial_indent=" " * lead,
            subsequent_indent=" " * min(lead + hang, width // 2),
            break_on_hyphens=False,
        ) or [line]
    return "\n".join(out)


def _longest_line(cell: str) -> int:
    return max((len(line) for line in cell.splitlines()), default=0)


def _fit(
    natural: list[int], heads: list[str], cells: list[list[str]], room: int, keep: set[int]
) -> list[int]:
    """Narrow the columns with the most to spare until the row fits `room`: first no column
    below its longest word (up to LONG_WORD), then, if that is not enough, down to MIN_COLUMN."""
    widths = list(natural)
    for floors in (_floors(natural, heads, cells), _floors(natural, heads, None)):
        floors = [
            n if i in keep else f for i, (n, f) in enumerate(zip(natural, floors, strict=True))
        ]
        while sum(widths) > room:
            i = max(range(len(widths)), key=lambda k: widths[k] - floors[k])
            if widths[i] <= floors[i]:
                break  # as narrow as these floors allow
            widths[i] -= 1
    return widths


def _floors(natural: list[int], heads: list[str], cells: list[list[str]] | None) -> list[int]:
    out = []
    for i, (n, h) in enumerate(zip(natural, heads, strict=True)):
        floor = max(MIN_COLUMN, _longest_word(h))
        if cells is not None:
            floor = max(floor, min(LONG_WORD, max((_longest_word(r[i]) for r in cells), default=0)))
        out.append(min(n, floor))
    return out


def _longest_word(text: str) -> int:
    return max((len(w) for w in text.split()), default=0)


def _wrap_cell(cell: str, width: int) -> str:
    lines: list[str] = []
    for line in cell.splitlines() or [""]:
        if len(line) <= width:
            lines.append(line)
        else:
            lines += textwrap.wrap(line, width=max(width, 1), break_on_hyphens=False) or [""]
    return "\n".join(lines)
