"""Cost curves: the tick at the cutoff, the leadership digest, the health board and the KPI at
100, 1,000, 10,000 and 100,000 clients, on SQLite and PostgreSQL.

People (one per five clients, as in bench.tick), touchpoints, wins, exemptions and health
snapshots scale with the clients; they are built once per size with the shared builders of
bench.builders (bulk inserts). Each step is called through the entry point the bot uses:

  * tick      `scheduling.cadence_jobs.enqueue_cadences` at the New York cutoff (as bench.tick);
  * digest    `usecases.digest_actions.load_digest` + `prompts.digest_views.slack_messages`
              (as bench.digest and the scheduled post);
  * board     `active_clients` + `usecases.health_actions.load_board` +
              `prompts.health_views.home_view`, the leadership view (as bench.health);
  * kpi       what `csobot kpi` runs: `require_organization` + `storage.kpi_store.load_week_kpi`
              + `prompts.cli_views.kpi_table`.

Per size and step: seconds (best of the timed runs, warm), SQL statements, the peak of
Python memory allocated during the step (tracemalloc, in a separate untimed first run that is
also the warm-up; for the tick the rows it wrote are deleted before the timed run). Then the
fitted growth: the least-squares slope of log(seconds) against log(clients) (1 = linear) and
whether the statement count stays constant in the number of clients.

History depth shrinks as the size grows to keep the run bounded (the table says how much); a
step whose time at 100,000 clients is predicted (from its 1,000 → 10,000 slope) to exceed the
step budget (30 s) is not run there and is reported as bounded, and so is every size left
when the run's own budget (20 minutes, half per database) is spent.

    python -m bench.curves [--sizes 100,1000] [--no-postgres] [--png bench/curves.png]
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import random
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, text

from bench.builders import (
    add_people_and_clients,
    count_statements,
    record_activity,
    record_health_history,
    scratch_postgres,
)
from bot.heap import settle_heap
from domain.calendar import IsoWeek
from storage.db import Database

NY = ZoneInfo("America/New_York")
WEEK = IsoWeek(2026, 47)
TICK_AT = datetime(2026, 11, 20, 15, 5, tzinfo=NY)  # Friday of WEEK, just past the NY cutoff
REPORT_AT = datetime(2026, 11, 23, 8, 0, tzinfo=NY)  # Monday after: digest, KPI, board
SIZES = (100, 1_000, 10_000, 100_000)
STEPS = ("tick", "digest", "board", "kpi")
STEP_TITLES = {
    "tick": "tick at the cutoff",
    "digest": "leadership digest",
    "board": "health board",
    "kpi": "KPI (`csobot kpi`)",
}
STEP_BUDGET_S = 30.0  # a step predicted slower than this at a size is not run there
RUN_BUDGET_S = 1200.0  # past this, the remaining sizes are reported as bounded, not run
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PNG = Path(__file__).with_name("curves.png")


@dataclass(frozen=True)
class Depth:
    """How much history a size gets: touchpoint/win weeks, health days and snapshot spacing."""

    weeks: int
    health_days: int
    health_every: int = 1

    def describe(self) -> str:
        every = "daily" if self.health_every == 1 else f"every {self.health_every} days"
        return f"{self.weeks} wk touchpoints, {self.health_days} d health ({every})"


def depth_for(clients: int) -> Depth:
    """Shallower history as the size grows; the health history always reaches 35 days back so
    the board finds every client's trend baseline in its window (same queries at every size)."""
    if clients <= 100:
        return Depth(weeks=52, health_days=365)
    if clients <= 1_000:
        return Depth(weeks=13, health_days=90)
    if clients <= 10_000:
        return Depth(weeks=4, health_days=36, health_every=5)
    return Depth(weeks=1, health_days=36, health_every=35)


@dataclass
class Point:
    backend: str
    step: str
    clients: int
    seconds: float | None  # None: bounded (not run at this size)
    statements: int = 0
    peak_mb: float = 0.0
    note: str = ""


@dataclass
class SizeInfo:
    backend: str
    clients: int
    people: int
    touchpoints: int
    snapshots: int
    depth: Depth
    build_s: float


@dataclass
class Run:
    points: list[Point] = field(default_factory=list)
    sizes: list[SizeInfo] = field(default_factory=list)


# -- the steps, through the bot's own entry points -------------------------------------------------
def _tick(db: Database) -> Callable[[], str]:
    from scheduling.cadence_jobs import enqueue_cadences
    from storage.models import Nudge
    from usecases.clock import FixedClock
    from usecases.deps import Deps

    deps = Deps(db=db, clock=FixedClock(TICK_AT))

    def run() -> str:
        return f"{enqueue_cadences(deps, TICK_AT)} nudges written"

    def reset() -> None:
        with db.transaction() as tx:
            tx.execute(delete(Nudge))

    run.reset = reset  # type: ignore[attr-defined]
    return run


def _digest(db: Database) -> Callable[[], str]:
    from prompts.digest_views import slack_messages
    from usecases.digest_actions import load_digest

    def run() -> str:
        with db.transaction() as tx:
            digest = load_digest(tx, WEEK, REPORT_AT)
        slack_messages(digest)
        return f"{len(digest.csos)} CSOs"

    return run


def _board(db: Database) -> Callable[[], str]:
    from prompts.health_views import home_view
    from storage.models import Person
    from storage.portfolio_store import active_clients
    from usecases.health_actions import load_board

    with db.session() as s:
        grouped = {
            sid: name
            for sid, name in s.execute(
                select(Person.slack_id, Person.name).where(Person.role == "cso")
            )
        }

    def run() -> str:
        with db.session() as s:
            clients = active_clients(s)
            rows = load_board(s, clients, REPORT_AT)
        home_view(rows, grouped=grouped, now=REPORT_AT)
        return f"{len(rows)} rows"

    return run


def _kpi(db: Database) -> Callable[[], str]:
    from prompts.cli_views import kpi_table
    from storage.kpi_store import load_week_kpi
    from storage.portfolio_store import require_organization

    def run() -> str:
        with db.transaction() as tx:
            require_organization(tx)
            kpi = load_week_kpi(tx, WEEK, REPORT_AT, evidence=False)  # as the table reads it
        kpi_table(kpi)
        return ""

    return run


MAKERS: dict[str, Callable[[Database], Callable[[], str]]] = {
    "tick": _tick,
    "digest": _digest,
    "board": _board,
    "kpi": _kpi,
}


# -- measuring ---------------------------------------------------------------------------------
def measure(db: Database, step: str, clients: int, backend: str, repeats: int) -> Point:
    """A first, untimed run traced by tracemalloc (the peak of Python memory the step
    allocates; also the warm-up), then the heap settled as the bot's processes settle it, then
    the best of `repeats` timed runs and their statements. The tick's nudges are deleted before
    each run after the first."""
    run = MAKERS[step](db)
    reset: Callable[[], None] | None = getattr(run, "reset", None)
    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        notes = [run()]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if time.perf_counter() - t0 > 2.0:
        repeats = 1  # slow enough that one run is the figure; keeps the whole curve bounded
    settle_heap()  # the collector as `csobot serve`, `csobot scheduler` and the CLI set it
    best, statements = math.inf, 0
    for _ in range(repeats):
        if reset:
            reset()
        with count_statements(db.engine) as seen:
            t0 = time.perf_counter()
            notes.append(run())
            elapsed = time.perf_counter() - t0
        if elapsed < best:
            best, statements = elapsed, len(seen)
    note = notes[0] + ("" if len(set(notes)) == 1 else f" (runs differ: {notes})")
    return Point(backend, step, clients, best, statements, peak / 2**20, note)


def build(db: Database, backend: str, clients: int) -> SizeInfo:
    from storage.models import Touchpoint

    depth = depth_for(clients)
    people = max(10, clients // 5)
    t0 = time.perf_counter()
    # every contract live at the tick (the same mix at every size)
    add_people_and_clients(db, clients, people, contracts_end_from=date(2026, 12, 1))
    record_activity(db, depth.weeks, last=WEEK, rate=0.7)
    snapshots = record_health_history(
        db,
        random.Random(5),
        days=depth.health_days,
        today=REPORT_AT.date(),
        every=depth.health_every,
    )
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    with db.session() as s:
        touchpoints = s.scalar(select(func.count()).select_from(Touchpoint)) or 0
    return SizeInfo(
        backend, clients, people, touchpoints, snapshots, depth, time.perf_counter() - t0
    )


def predicted(points: list[Point], step: str, clients: int) -> float | None:
    """The step's time at `clients`, extrapolated from its last two measured sizes."""
    done = sorted(
        (p.clients, p.seconds) for p in points if p.step == step and p.seconds is not None
    )
    if len(done) < 2:
        return None
    (c1, s1), (c2, s2) = done[-2:]
    slope = max(1.0, math.log(max(s2, 1e-6) / max(s1, 1e-6)) / math.log(c2 / c1))
    return s2 * (clients / c2) ** slope


def bench_backend(
    backend: str, url_for: Callable[[], Iterator[str]], sizes: list[int], deadline: float
) -> Run:
    run = Run()
    for clients in sizes:
        if time.monotonic() > deadline:
            note = f"bounded: the run's {RUN_BUDGET_S:.0f} s budget was spent"
            run.points += [Point(backend, step, clients, None, note=note) for step in STEPS]
            continue
        with contextmanager(url_for)() as url:
            db = Database(url)
            db.migrate()
            info = build(db, backend, clients)
            run.sizes.append(info)
            print(
                f"  {backend} {clients:>7,} clients: built in {info.build_s:.0f} s "
                f"({info.touchpoints:,} touchpoints, {info.snapshots:,} snapshots)",
                file=sys.stderr,
                flush=True,
            )
            repeats = 3 if clients <= 1_000 else 1
            for step in STEPS:
                guess = predicted(run.points, step, clients)
                if guess is not None and guess > STEP_BUDGET_S:
                    note = f"bounded: ~{guess:.0f} s predicted"
                    run.points.append(Point(backend, step, clients, None, note=note))
                    continue
                point = measure(db, step, clients, backend, repeats)
                run.points.append(point)
                print(
                    f"    {step:<7} {point.seconds or 0:8.3f} s {point.statements:>4} stmts "
                    f"{point.peak_mb:7.1f} MB  {point.note}",
                    file=sys.stderr,
                    flush=True,
                )
            db.dispose()
    return run


def _sqlite() -> Iterator[str]:
    tmp = tempfile.mkdtemp(prefix="csobot-curves-")
    try:
        yield f"sqlite:///{tmp}/bench.db"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _postgres(admin_url: str) -> Callable[[], Iterator[str]]:
    def scratch() -> Iterator[str]:
        with scratch_postgres(admin_url) as url:
            yield url

    return scratch


# -- the fit and the report ----------------------------------------------------------------------
def slope(points: list[Point]) -> float | None:
    """Least-squares slope of log(seconds) against log(clients)."""
    xy = [(math.log(p.clients), math.log(max(p.seconds, 1e-6))) for p in points if p.seconds]
    if len(xy) < 2:
        return None
    mx = sum(x for x, _ in xy) / len(xy)
    my = sum(y for _, y in xy) / len(xy)
    sxx = sum((x - mx) ** 2 for x, _ in xy)
    return sum((x - mx) * (y - my) for x, y in xy) / sxx if sxx else None


def growth(points: list[Point]) -> tuple[str, str]:
    """(fitted time growth, statement verdict) for one backend's step."""
    k = slope(points)
    measured = [p for p in points if p.seconds is not None]
    counts = [p.statements for p in measured]
    if not counts:
        return "–", "–"
    if max(counts) == min(counts):
        stmt = f"constant ({counts[0]})"
    else:
        steps = ", ".join(f"{p.clients:,}: {p.statements}" for p in measured)
        stmt = f"**GROWS** ({steps})"
    if k is None:
        return "–", stmt
    verdict = "≤ linear" if k <= 1.1 else "**above linear**"
    return f"{k:.2f} ({verdict})", stmt


def chart(runs: dict[str, Run], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = plt.subplots(1, len(runs), figsize=(5.5 * len(runs), 4.2), sharey=True, squeeze=False)
    fig, axes = grid[0], list(grid[1][0])
    for ax, (backend, run) in zip(axes, runs.items(), strict=False):
        for step in STEPS:
            pts = [p for p in run.points if p.step == step and p.seconds is not None]
            if pts:
                ax.plot(
                    [p.clients for p in pts],
                    [p.seconds for p in pts],
                    marker="o",
                    label=STEP_TITLES[step].split(" (")[0],
                )
        lo, hi = min(SIZES), max(SIZES)
        ax.plot([lo, hi], [1e-2, 1e-2 * hi / lo], ls=":", color="grey", label="linear (slope 1)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(backend)
        ax.set_xlabel("clients")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("seconds (warm, best run)")
    axes[-1].legend(loc="upper left", fontsize=8)
    fig.suptitle("csobot cost curves")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def report(runs: dict[str, Run], png: Path | None) -> str:
    out = [
        "## Cost curves: 100 to 100,000 clients",
        "",
        "Tick at the cutoff, leadership digest, health board and `csobot kpi`, each through the "
        "bot's own entry point, at every size on each database. People are one per five "
        "clients; touchpoints on 70 % of business days, a win most weeks, health snapshots "
        "as the depth column says (it shrinks with size to keep the run bounded). Seconds: "
        "best of 3 warm runs (1 from 10,000 up or when a run takes over 2 s); statements: "
        "`before_cursor_execute`, an executemany counting once; peak MB: Python allocations "
        "during the step (tracemalloc, "
        "in a first untimed run that is also the warm-up); after it, the heap is settled as "
        "the bot's processes and its CLI settle it (bot/heap.py). The tick's nudges are "
        "deleted between its runs.",
        "",
        "| database | clients | people | touchpoints | snapshots | history depth | build s |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for backend, run in runs.items():
        for s in run.sizes:
            out.append(
                f"| {backend} | {s.clients:,} | {s.people:,} | {s.touchpoints:,} | "
                f"{s.snapshots:,} | {s.depth.describe()} | {s.build_s:.0f} |"
            )
    out += [
        "",
        "| database | step | clients | seconds | µs per client | SQL statements | peak MB | |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for backend, run in runs.items():
        for step in STEPS:
            for p in (p for p in run.points if p.step == step):
                if p.seconds is None:
                    out.append(
                        f"| {backend} | {STEP_TITLES[step]} | {p.clients:,} | — | — | — | — | "
                        f"{p.note} |"
                    )
                    continue
                out.append(
                    f"| {backend} | {STEP_TITLES[step]} | {p.clients:,} | {p.seconds:.3f} | "
                    f"{p.seconds / p.clients * 1e6:.0f} | {p.statements} | {p.peak_mb:.1f} | "
                    f"{p.note} |"
                )
    out += [
        "",
        "Fitted growth: slope of log(seconds) on log(clients) over the measured sizes "
        "(1 = linear; small sizes are dominated by fixed costs, so a slope well under 1 means "
        "the per-client cost is not yet visible). Statements must not depend on the number of "
        "clients.",
        "",
        "| database | step | time growth (log-log slope) | SQL statements |",
        "|---|---|---|---|",
    ]
    for backend, run in runs.items():
        for step in STEPS:
            time_growth, stmt = growth([p for p in run.points if p.step == step])
            out.append(f"| {backend} | {STEP_TITLES[step]} | {time_growth} | {stmt} |")
    if png is not None:
        out += ["", f"![cost curves]({png.name})"]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--png", default=str(PNG), help="chart path ('' for none)")
    args = parser.parse_args(argv)
    try:
        sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip())
    except ValueError:
        parser.error("--sizes: numbers of clients separated by commas, like 100,1000")
    if not sizes or min(sizes) < 10:
        parser.error("--sizes: at least one size, each of 10 clients or more")
    runs: dict[str, Run] = {}
    t0 = time.monotonic()
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    pg = None if args.no_postgres else pg
    # each database gets its share of the run's budget
    share = RUN_BUDGET_S / (2 if pg else 1)
    runs["SQLite"] = bench_backend("SQLite", _sqlite, sizes, t0 + share)
    if pg:
        runs["PostgreSQL"] = bench_backend(
            "PostgreSQL", _postgres(pg), sizes, time.monotonic() + share
        )
    png = Path(args.png) if args.png else None
    if png is not None:
        chart(runs, png)
    print(report(runs, png))
    if "PostgreSQL" not in runs:
        print("\nPostgreSQL skipped: set BENCH_DATABASE_URL or TEST_DATABASE_URL.")
    print(f"\n_(whole curve: {time.monotonic() - t0:.0f} s)_")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
