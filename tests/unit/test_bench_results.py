"""bench/RESULTS.md: rerunning one benchmark replaces its whole section, headings and notes."""

from __future__ import annotations

from bench.run import _merge

EXISTING = """# Benchmark results

Run somewhere.

## Ack latency: serve vs bare Bolt

old spine table

### On postgresql

old pg table

_(took 600 s)_

a note on the spine

## Cadence tick

old tick

_(`python -m bench.tick`: target < 0.5 s; exit code 0; took 49 s)_

a note on the tick

## Rule classifier: one client message

old classifier

a note on the classifier

## LLM classifier: the model never answers

old llm

_(`python -m bench.classify`: target p99 < 100 µs; exit code 0; took 7 s)_

## Cost curves

old curves

_(`python -m bench.curves`: target constant; exit code 0; took 900 s)_
"""


def test_a_section_with_two_headings_is_replaced_whole() -> None:
    new = (
        "## Rule classifier: one client message\n\nnew classifier\n\n"
        "## LLM classifier: the model never answers\n\nnew llm\n\n"
        "_(`python -m bench.classify`: target p99 < 100 µs; exit code 0; took 6 s)_"
    )
    merged = _merge(EXISTING, {"bench.classify": new})
    assert merged.count("## Rule classifier") == 1
    assert merged.count("## LLM classifier") == 1
    assert "old classifier" not in merged and "a note on the classifier" not in merged
    assert "new classifier" in merged and "new llm" in merged
    # its neighbours are untouched and in place
    assert merged.index("a note on the tick") < merged.index("new classifier")
    assert merged.index("new llm") < merged.index("old curves")
    assert merged.startswith("# Benchmark results\n\nRun somewhere.\n\n## Ack latency")


def test_the_spine_is_found_by_its_heading_and_replaced_to_its_footer() -> None:
    new = "## Ack latency: serve vs bare Bolt\n\nnew spine\n\n_(took 500 s)_"
    merged = _merge(EXISTING, {"bench.spine": new})
    assert "old spine table" not in merged and "old pg table" not in merged
    assert "a note on the spine" not in merged
    assert merged.count("## Ack latency") == 1 and "old tick" in merged


def test_a_new_benchmark_is_appended() -> None:
    new = "## Brief\n\nbrief\n\n_(`python -m bench.brief`: target < 200 ms; took 3 s)_"
    merged = _merge(EXISTING, {"bench.brief": new})
    assert merged.rstrip().endswith(new) and "old curves" in merged
