"""The garbage collector as a long-running csobot process sets it.

Everything built at start (the app, its listeners, the mapped classes, the settings) lives as
long as the process: frozen out of the collector's generations, it is never scanned again, and
collecting less often keeps GC pauses off the acks and out of the digest and the tick.
"""

from __future__ import annotations

import gc

# Allocations between young collections, then young collections per older one (Python's
# defaults are 700, 10, 10).
THRESHOLDS = (20_000, 50, 100)


def settle_heap() -> None:
    """Once the process has built what it keeps: collect, freeze, and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
