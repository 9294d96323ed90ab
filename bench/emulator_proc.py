"""Run the Slack emulator in its own process (so it does not share the load generator's GIL)."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading

from bot.emulator import SlackEmulator


def main() -> None:
    emulator = SlackEmulator().start()
    print(emulator.base_url, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()
    emulator.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
