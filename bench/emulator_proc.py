"""Run the Slack emulator in its own process (so it does not share the load generator's GIL).

python -m bench.emulator_proc [--latency SECONDS] [--rate METHOD=PER_SECOND]
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

from devkit.emulator import SlackEmulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to answers")
    parser.add_argument(
        "--rate", action="append", default=[], help="METHOD=PER_SECOND: 429 beyond it"
    )
    args = parser.parse_args(argv)
    emulator = SlackEmulator().start()
    if args.latency:
        emulator.set_latency(args.latency)
    for rule in args.rate:
        method, _, per_second = rule.partition("=")
        emulator.rate_limit(method, float(per_second), retry_after=1)
    print(emulator.base_url, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()
    emulator.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
