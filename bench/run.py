"""`make bench`: run every benchmark and write bench/RESULTS.md.

Each benchmark runs as its own process (fresh memory, its own numbers). The PostgreSQL
variants run when PostgreSQL answers on 127.0.0.1:5432 (or BENCH_DATABASE_URL is set); each
creates and drops a private database.

`python -m bench.run bench.recovery bench.model_hang` runs only the named benchmarks and
replaces their sections in bench/RESULTS.md, leaving the others as they were.
"""

from __future__ import annotations

import os
import platform
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH_TIMEOUT_S = 1800  # per benchmark
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# (module, title, target)
BENCHES = [
    ("bench.tick", "Cadence tick: 10,000 clients, 2,000 people", "< 0.5 s per tick"),
    (
        "bench.outbox",
        "Outbox delivery throughput to the Slack emulator",
        "paced by Slack's per-method limits, not by our own round trips",
    ),
    (
        "bench.health",
        "Health scores and board: 1,000 clients, a year of history",
        "board < 0.2 s",
    ),
    (
        "bench.digest",
        "Leadership digest: 200 CSOs, 1,000 clients, 52 weeks",
        "< 0.5 s and ≤ 2× one SQL aggregate",
    ),
    ("bench.classify", "Rule classifier, per message", "p99 < 100 µs"),
    ("bench.support", "Support requests on the ingest path, per message", "< 1 ms added (p99)"),
    (
        "bench.brief",
        "Meeting brief: 500 Linear issues and 200 pull requests in the cache, no model",
        "< 200 ms",
    ),
    ("bench.recovery", "Recovery after kill -9: 1,000 acked events", "0 lost"),
    (
        "bench.model_hang",
        "/pulse while the model hangs",
        "/pulse p99 as with no model (ratio ≈ 1×)",
    ),
    (
        "bench.curves",
        "Cost curves: 100 to 100,000 clients",
        "statements constant in clients, time at most linear",
    ),
]
SPINE_HEADING = "## Ack latency"


def _postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    only = set(sys.argv[1:] if argv is None else argv)
    known = {"bench.spine"} | {module for module, _, _ in BENCHES}
    if only - known:
        print(f"unknown benchmark(s): {', '.join(sorted(only - known))}", file=sys.stderr)
        return 2
    env = dict(os.environ)
    if "BENCH_DATABASE_URL" not in env and _postgres_answers():
        env["BENCH_DATABASE_URL"] = PG_DEFAULT
    sections: dict[str, str] = {}
    if not only or "bench.spine" in only:
        from bench import spine

        print("running bench.spine …", flush=True)
        start = time.monotonic()
        sections["bench.spine"] = (
            spine.run(env.get("BENCH_DATABASE_URL"))
            + f"\n\n_(took {time.monotonic() - start:.0f} s)_"
        )
        print(sections["bench.spine"], flush=True)
    for module, title, target in BENCHES:
        if only and module not in only:
            continue
        if not Path(__file__).with_name(module.split(".")[1] + ".py").exists():
            continue
        print(f"running {module} …", flush=True)
        start = time.monotonic()
        try:
            proc = subprocess.run(
                [sys.executable, "-m", module],
                env=env,
                capture_output=True,
                text=True,
                timeout=BENCH_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired as exc:  # one slow bench never loses the others
            stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
            proc = subprocess.CompletedProcess(
                exc.cmd, -1, stdout, f"timed out after {exc.timeout:g} s"
            )
        took = time.monotonic() - start
        out = proc.stdout.strip()
        if proc.returncode != 0 and not out:
            out = "```\n" + proc.stderr.strip()[-3000:] + "\n```"
        elif not out.startswith("#"):
            out = f"## {title}\n\n```\n{out}\n```"
        when = f"; run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC" if only else ""
        section = (
            f"{out}\n\n_(`python -m {module}`: target {target}; exit code "
            f"{proc.returncode}; took {took:.0f} s{when})_"
        )
        print(section, flush=True)
        sections[module] = section
    out_path = Path(__file__).with_name("RESULTS.md")
    if only and out_path.exists():
        out_path.write_text(_merge(out_path.read_text(), sections))
        print(f"updated {', '.join(sections)} in {out_path}")
        return 0
    header = (
        "# Benchmark results\n\n"
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"PostgreSQL variants: {'yes' if 'BENCH_DATABASE_URL' in env else 'no'}. "
        "Shared, noisy machines: read ratios against the baseline measured in the same run.\n"
    )
    out_path.write_text(header + "\n" + "\n\n".join(sections.values()) + "\n")
    print(f"wrote {out_path}")
    return 0


def _merge(existing: str, sections: dict[str, str]) -> str:
    """`existing` RESULTS.md with the sections of the benchmarks in `sections` replaced (a
    section is found by its `python -m module` footer, the spine by its heading); new ones are
    appended."""
    head, *chunks = re.split(r"\n(?=## )", existing.rstrip("\n"))
    parts = [c.strip("\n") for c in chunks]
    for module, section in sections.items():
        marker = f"`python -m {module}`"
        index = next(
            (
                i
                for i, part in enumerate(parts)
                if marker in part or (module == "bench.spine" and part.startswith(SPINE_HEADING))
            ),
            None,
        )
        if index is None:
            parts.append(section)
            continue
        # A section may hold several headings: it starts after the previous section's footer.
        first = index
        while first > 0 and not _FOOTER.search(parts[first - 1]):
            first -= 1
        last = index
        if module == "bench.spine":  # found by its heading: it ends at its own footer
            while last + 1 < len(parts) and not _FOOTER.search(parts[last]):
                last += 1
        parts[first : last + 1] = [section]
    return head.rstrip("\n") + "\n\n" + "\n\n".join(parts) + "\n"


# Every section ends with a footer in italics that says how long it took.
_FOOTER = re.compile(r"^_\(.*\btook \d+ s\b.*\)_$", re.MULTILINE)


if __name__ == "__main__":
    sys.exit(main())
