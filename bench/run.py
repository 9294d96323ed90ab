"""`make bench`: run every benchmark and write bench/RESULTS.md."""

from __future__ import annotations

import importlib
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCHES = ["bench.spine", "bench.classify"]


def main() -> int:
    sections = []
    for name in BENCHES:
        print(f"running {name} …", flush=True)
        start = time.monotonic()
        section = importlib.import_module(name).run()
        print(section, flush=True)
        sections.append(section + f"\n\n_({name} took {time.monotonic() - start:.0f} s)_")
    header = (
        "# Benchmark results\n\n"
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"Python {platform.python_version()}, {_cores()} cores. Shared, noisy machines: read "
        "the ratios against the baseline measured in the same run.\n"
    )
    out = Path(__file__).with_name("RESULTS.md")
    out.write_text(header + "\n" + "\n\n".join(sections) + "\n")
    print(f"wrote {out}")
    return 0


def _cores() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
