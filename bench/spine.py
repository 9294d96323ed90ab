"""Ack latency of `csobot serve` versus a bare Bolt app on the same requests.

2,000 signed `/pulse` requests and 2,000 client-channel `message` events, 32 concurrent
keep-alive connections, against each server in turn in the same run. Reports p50/p99 ack
latency, throughput, peak RSS and the ratios (the machine is shared and noisy: compare
within one run, never across runs).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

from devkit.signing import content_type_for, event_body, sign, slash_command_body

SECRET = "bench-signing-secret"
CONCURRENCY = 32
PULSES = 2000
EVENTS = 2000
ROUNDS = int(os.environ.get("SPINE_ROUNDS", "3"))  # fewer for a quick look, never in RESULTS
# The HTTP server's threads, the same for both servers (csobot's default: `CSOBOT_THREADS`).
THREADS = int(os.environ.get("SPINE_THREADS", "16"))
PROFILE = Path(__file__).resolve().parent / "ack_flame.svg"
CHANNELS = ["C0ACME", "C0GLOBEX", "C0INITECH"]
AUTHORS = ["U0CSO1", "U0SL1", "U0EXT1", "U0CSO2", "U0EXT3"]


@dataclass
class Result:
    name: str
    latencies: list[float]
    wall: float
    errors: int
    rss_kb: int
    write_ms: dict[str, float] | None = None  # the inbox write's own cost, from /healthz
    drained_s: float | None = None  # the last ack → no work left in the inbox
    left: int = 0  # items still pending when the wait for that ended

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p99(self) -> float:
        return self.pct(0.99)

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.wall


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], path: str = "/healthz") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early: {proc.returncode}")
        try:
            urllib.request.urlopen(url + path, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # the bare app answers 404 on /healthz: it is up
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def _requests(emulator_url: str, run: int, count: int | None = None) -> list[bytes]:
    """The requests of one run: new to the server (no event id, timestamp or command body of an
    earlier run, which the inbox would keep once and not work on again)."""
    rng = random.Random(7 + run)
    base = datetime.now(UTC) - timedelta(days=2) + timedelta(seconds=run * EVENTS * 7)
    bodies = []
    for i in range(PULSES):
        bodies.append(
            slash_command_body(
                "/pulse",
                "",
                user_id=rng.choice(["U0CSO1", "U0CSO2"]),
                response_url=f"{emulator_url}/response/r{run}b{i}",
            )
        )
    for i in range(EVENTS):
        ts = f"{(base + timedelta(seconds=i * 7)).timestamp():.6f}"
        event = {
            "type": "message",
            "channel": rng.choice(CHANNELS),
            "user": rng.choice(AUTHORS),
            "text": f"bench message {i}",
            "ts": ts,
            "event_ts": ts,
            "channel_type": "channel",
        }
        bodies.append(event_body(event, event_id=f"EvBench{run:03d}{i:06d}"))
    rng.shuffle(bodies)
    return bodies[:count]


def _load(url: str, bodies: list[bytes]) -> tuple[list[float], float, int]:
    target = urlparse(url)
    host = target.hostname or "127.0.0.1"
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    queue = list(enumerate(bodies))
    queue.reverse()

    def worker() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection(host, target.port, timeout=30)
        while True:
            with lock:
                if not queue:
                    break
                _, body = queue.pop()
            headers = {"Content-Type": content_type_for(body), **sign(SECRET, body)}
            start = time.perf_counter()
            try:
                conn.request("POST", target.path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except OSError:
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(host, target.port, timeout=30)
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                errors += 0 if ok else 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - start, errors


def _peak_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _inbox_report(base: str) -> dict[str, object]:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=5) as resp:
            report = json.loads(resp.read())
    except (OSError, ValueError):
        return {}
    inbox = report.get("inbox", {})
    return inbox if isinstance(inbox, dict) else {}


def _healthz_write_ms(base: str) -> dict[str, float] | None:
    written = _inbox_report(base).get("write_ms")
    return written if isinstance(written, dict) and written.get("samples") else None


DRAIN_LIMIT_S = 60.0


def _drained(base: str, since: float) -> tuple[float | None, int]:
    """Seconds from `since` (the last ack) until the inbox has nothing pending or running
    (None past DRAIN_LIMIT_S), and what was still pending then."""
    pending = -1
    while time.perf_counter() - since < DRAIN_LIMIT_S:
        inbox = _inbox_report(base)
        pending = int(str(inbox.get("pending", -1)))
        if pending == 0 and inbox.get("running") == 0:
            return time.perf_counter() - since, 0
        time.sleep(0.1)
    return None, pending


def _run_server(
    name: str,
    argv: list[str],
    env: dict[str, str],
    emulator_url: str,
    health_path: str,
    *,
    run: int,
    profile_to: Path | None = None,
) -> Result:
    port = _free_port()
    env = {**env, "PORT": str(port)}
    # Its stderr goes to a file: a pipe nobody reads fills up (waitress warns of a deep task
    # queue under this load), and the server's loop then blocks on the write.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=log)
        spy: subprocess.Popen[bytes] | None = None
        try:
            base = f"http://127.0.0.1:{port}"
            try:
                _wait(base, proc, health_path)
            except RuntimeError as exc:
                log.seek(0)
                raise RuntimeError(
                    f"{exc}: {log.read()[-2000:].decode(errors='replace')}"
                ) from None
            _load(base + "/slack/events", _requests(emulator_url, 2 * run, 200))  # warm-up
            if profile_to is not None:  # the burst alone: py-spy attaches now, stops when it ends
                spy = _attach_py_spy(proc.pid, profile_to)
            latencies, wall, errors = _load(
                base + "/slack/events", _requests(emulator_url, 2 * run + 1)
            )
            ended = time.perf_counter()
            if spy is not None:
                spy.send_signal(signal.SIGINT)  # py-spy writes the flame graph on SIGINT
                spy.wait(timeout=120)
            drained, left, written = None, 0, None
            if health_path == "/healthz":  # csobot: its acked work finishes before memory is read
                drained, left = _drained(base, ended)
                written = _healthz_write_ms(base)
            else:
                time.sleep(1.0)
            rss = _peak_rss_kb(proc.pid)
            return Result(name, latencies, wall, errors, rss, written, drained, left)
        finally:
            if spy is not None and spy.poll() is None:
                spy.kill()
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=300)  # csobot drains its acked work before it exits


def _attach_py_spy(pid: int, profile_to: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling `pid` without stopping it, every thread (a thread waiting on a lock is
    sampled too: the graph shows where requests wait), from now until it is sent SIGINT."""
    spy = subprocess.Popen(
        [
            *_py_spy(),
            "record",
            "--pid",
            str(pid),
            "--nonblocking",
            "--threads",
            "--rate",
            "97",
            "--format",
            "flamegraph" if profile_to.suffix == ".svg" else "raw",
            "--output",
            str(profile_to),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # attached before the burst starts
    return spy


def _py_spy() -> list[str]:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return [found] if Path(found).exists() else []


def run(pg_admin_url: str | None = None) -> str:
    """SQLite, then PostgreSQL (a private database next to `pg_admin_url`'s) when given."""
    tmp = Path(tempfile.mkdtemp(prefix="csobot-bench-"))
    emu = subprocess.Popen([sys.executable, "-m", "bench.emulator_proc"], stdout=subprocess.PIPE)
    reports = []
    try:
        assert emu.stdout is not None
        emulator_url = emu.stdout.readline().decode().strip()
        sqlite_url = os.environ.get("SPINE_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
        profile = PROFILE if _py_spy() and os.environ.get("SPINE_PROFILE", "1") != "0" else None
        results = _rounds(sqlite_url, tmp, emulator_url, profile)
        reports.append(_report(results, sqlite_url.split(":")[0], profile))
        if pg_admin_url:
            from bench.builders import scratch_postgres

            with scratch_postgres(pg_admin_url) as pg_url:
                results = _rounds(pg_url, tmp, emulator_url, None)
            reports.append(_report(results, "postgresql", None, heading=False))
    finally:
        emu.terminate()
        emu.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    return "\n\n".join(reports)


def _rounds(db_url: str, tmp: Path, emulator_url: str, profile: Path | None) -> list[Result]:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": emulator_url + "/api/",
        "DATABASE_URL": db_url,
        "HOST": "127.0.0.1",
        "CSOBOT_LOG_LEVEL": "WARNING",
        "CSOBOT_SCHEDULER": "false",
        "CSOBOT_THREADS": str(THREADS),
    }
    from importlib.resources import files

    sample = tmp / "portfolio.yaml"
    sample.write_text(files("devkit").joinpath("sample_portfolio.yaml").read_text())
    for step in (["db", "upgrade"], ["portfolio", "import", str(sample)]):
        subprocess.run(
            [sys.executable, "-m", "bot", *step],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    bare_argv = [sys.executable, "-m", "bench.bare_bolt"]
    bot_argv = [sys.executable, "-m", "bot", "serve"]
    runs = iter(range(100))

    def bare() -> Result:
        return _run_server(
            "bare Bolt (ack only)", bare_argv, env, emulator_url, "/", run=next(runs)
        )

    # bare, csobot, bare, csobot, bare, csobot, bare: each csobot run is compared with the bare
    # runs just before and after it, and the median of the rounds is reported. Every run sends
    # requests the server has not seen (a repeat would be kept once and never worked on).
    results = [bare()]
    for i in range(1, ROUNDS + 1):
        results.append(
            _run_server(
                f"csobot serve, round {i}",
                bot_argv,
                env,
                emulator_url,
                "/healthz",
                run=next(runs),
            )
        )
        results.append(bare())
    if profile is not None:
        _run_server(
            "csobot serve, profiled",
            bot_argv,
            env,
            emulator_url,
            "/healthz",
            run=next(runs),
            profile_to=profile,
        )
    return results


def _report(
    results: list[Result], backend: str, profile: Path | None, *, heading: bool = True
) -> str:
    lines = [
        "## Ack latency: `csobot serve` vs bare Bolt" if heading else f"### On {backend}",
        "",
        f"{PULSES} signed `/pulse` requests + {EVENTS} client-channel `message` events, "
        f"shuffled, {CONCURRENCY} concurrent keep-alive connections, "
        f"waitress with {THREADS} threads, "
        f"database: {backend}; every csobot request is written to the inbox before its ack. "
        f"Bare Bolt and csobot alternate ({ROUNDS} csobot rounds, each compared with the bare "
        "runs just before and after it): the machine is shared and noisy.",
        "",
        "| server | requests | errors | p50 ms | p99 ms | req/s | peak RSS MB"
        " | inbox write p50 / p99 ms | work done s after the last ack |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        w = r.write_ms
        written = f"{w['p50']:.2f} / {w['p99']:.2f}" if w else "—"
        if r.drained_s is not None:
            drained = f"{r.drained_s:.1f}"
        else:
            drained = (
                "—"
                if r.name.startswith("bare")
                else f"over {DRAIN_LIMIT_S:.0f} ({r.left} of {PULSES + EVENTS} left)"
            )
        lines.append(
            f"| {r.name} | {len(r.latencies)} | {r.errors} | {r.p50:.1f} | {r.p99:.1f} | "
            f"{r.rps:.0f} | {r.rss_kb / 1024:.0f} | {written} | {drained} |"
        )
    ratios, rps_ratios = [], []
    for i in range(1, len(results) - 1, 2):
        before, bot, after = results[i - 1], results[i], results[i + 1]
        ratios.append(bot.p99 / min(before.p99, after.p99))
        rps_ratios.append(bot.rps / max(before.rps, after.rps))
    p99_ratio = statistics.median(ratios)
    rps_ratio = statistics.median(rps_ratios)
    bots = [r for r in results if r.name.startswith("csobot")]
    rss = max(r.rss_kb for r in bots) / 1024
    bare_rss = max(r.rss_kb for r in results if r not in bots) / 1024
    writes = [r.write_ms for r in bots if r.write_ms]
    lines += [
        "",
        f"- p99 ratio csobot / bare Bolt, median of {len(ratios)} rounds: **{p99_ratio:.2f}×**"
        f" (rounds: {', '.join(f'{x:.2f}×' for x in ratios)}; target ≤ 1.3×):"
        f" {'meets' if p99_ratio <= 1.3 else 'MISSES'}",
        f"- throughput ratio, median: **{rps_ratio:.2f}×** of bare Bolt (target ≥ 0.8×):"
        f" {'meets' if rps_ratio >= 0.8 else 'MISSES'}",
        f"- peak resident memory of `csobot serve`: **{rss:.0f} MB** (bare Bolt {bare_rss:.0f} MB;"
        f" target < 120 MB): {'meets' if rss < 120 else 'MISSES'}",
    ]
    if writes:
        lines.append(
            "- the price of durability, the inbox write before each ack (from `/healthz`, last"
            f" 2,048 writes of each round): p50 {statistics.median(w['p50'] for w in writes):.2f}"
            f" ms, p99 {statistics.median(w['p99'] for w in writes):.2f} ms"
        )
    if profile is not None:
        lines.append(
            f"- where the time goes: a py-spy flame graph of the burst alone (attached after the"
            f" warm-up, stopped at the last answer) in one more csobot run under the same load,"
            f" `bench/{profile.name}` (sampled, not stopped: it runs a little slower)"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(os.environ.get("BENCH_DATABASE_URL")))
