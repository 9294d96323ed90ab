"""Ack latency of `csobot serve` versus a bare Bolt app on the same requests.

2,000 signed `/pulse` requests and 2,000 client-channel `message` events, 32 concurrent
keep-alive connections, against each server in turn in the same run. Reports p50/p99 ack
latency, throughput, peak RSS and the ratios (the machine is shared and noisy: compare
within one run, never across runs).
"""

from __future__ import annotations

import http.client
import os
import random
import shutil
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
CHANNELS = ["C0ACME", "C0GLOBEX", "C0INITECH"]
AUTHORS = ["U0CSO1", "U0SL1", "U0EXT1", "U0CSO2", "U0EXT3"]


@dataclass
class Result:
    name: str
    latencies: list[float]
    wall: float
    errors: int
    rss_kb: int

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


def _requests(emulator_url: str) -> list[bytes]:
    rng = random.Random(7)
    base = datetime.now(UTC) - timedelta(days=2)
    bodies = []
    for i in range(PULSES):
        bodies.append(
            slash_command_body(
                "/pulse",
                "",
                user_id=rng.choice(["U0CSO1", "U0CSO2"]),
                response_url=f"{emulator_url}/response/b{i}",
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
        bodies.append(event_body(event, event_id=f"EvBench{i:06d}"))
    rng.shuffle(bodies)
    return bodies


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


def _run_server(
    name: str, argv: list[str], env: dict[str, str], emulator_url: str, health_path: str
) -> Result:
    port = _free_port()
    env = {**env, "PORT": str(port)}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(base, proc, health_path)
        bodies = _requests(emulator_url)
        _load(base + "/slack/events", bodies[:200])  # warm-up, not measured
        latencies, wall, errors = _load(base + "/slack/events", bodies)
        time.sleep(1.0)  # let after-ack work finish before reading peak memory
        return Result(name, latencies, wall, errors, _peak_rss_kb(proc.pid))
    finally:
        proc.terminate()
        proc.wait(timeout=300)  # csobot drains its acked work before it exits


def run() -> str:
    tmp = Path(tempfile.mkdtemp(prefix="csobot-bench-"))
    emu = subprocess.Popen([sys.executable, "-m", "bench.emulator_proc"], stdout=subprocess.PIPE)
    try:
        assert emu.stdout is not None
        emulator_url = emu.stdout.readline().decode().strip()
        db_url = os.environ.get("SPINE_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": emulator_url + "/api/",
            "DATABASE_URL": db_url,
            "HOST": "127.0.0.1",
            "CSOBOT_LOG_LEVEL": "WARNING",
            "CSOBOT_SCHEDULER": "false",
            "CSOBOT_THREADS": "16",
        }
        from importlib.resources import files

        sample = tmp / "portfolio.yaml"
        sample.write_text(files("devkit").joinpath("sample_portfolio.yaml").read_text())
        for argv in (["db", "upgrade"], ["portfolio", "import", str(sample)]):
            subprocess.run(
                [sys.executable, "-m", "bot", *argv],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        bare = _run_server(
            "bare Bolt (ack only)",
            [sys.executable, "-m", "bench.bare_bolt"],
            env,
            emulator_url,
            "/",
        )
        bot = _run_server(
            "csobot serve", [sys.executable, "-m", "bot", "serve"], env, emulator_url, "/healthz"
        )
        bare2 = _run_server(
            "bare Bolt (ack only), again",
            [sys.executable, "-m", "bench.bare_bolt"],
            env,
            emulator_url,
            "/",
        )
    finally:
        emu.terminate()
        emu.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    return _report([bare, bot, bare2], db_url.split(":")[0])


def _report(results: list[Result], backend: str) -> str:
    bare, bot = results[0], results[1]
    lines = [
        "## Ack latency: `csobot serve` vs bare Bolt",
        "",
        f"{PULSES} signed `/pulse` requests + {EVENTS} client-channel `message` events, "
        f"shuffled, {CONCURRENCY} concurrent keep-alive connections, waitress with 16 threads, "
        f"database: {backend}. The bare app runs before and after csobot to show the noise.",
        "",
        "| server | requests | errors | p50 ms | p99 ms | req/s | peak RSS MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {len(r.latencies)} | {r.errors} | {r.p50:.1f} | {r.p99:.1f} | "
            f"{r.rps:.0f} | {r.rss_kb / 1024:.0f} |"
        )
    bare_p99 = min(bare.p99, results[2].p99)
    bare_rps = max(bare.rps, results[2].rps)
    lines += [
        "",
        f"- p99 ratio csobot / bare Bolt: **{bot.p99 / bare_p99:.2f}×** "
        f"(target: p99 < 250 ms and within 2×) — csobot p99 = {bot.p99:.1f} ms",
        f"- throughput ratio: {bot.rps / bare_rps:.2f}× of bare Bolt",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
