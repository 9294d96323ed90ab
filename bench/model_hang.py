"""`/pulse` while the model hangs: 50 client messages wait on a model that accepts the connection
and never answers, and 100 `/pulse` commands arrive. The latency of each is the time until its
reply reaches the response_url. The same runs with no model configured, before and after, in
the same run; the report is the ratio of the p99s. Run: python -m bench.model_hang
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tests.faults.harness import (
    ACME_CONTACT,
    ServeFactory,
    TrackingEmulator,
    channel_messages,
)
from tests.llm_server import FakeLLMServer

CLIENT_MESSAGES = 50
PULSES = 100
PULSE_SECONDS = 10.0  # the pulses arrive evenly over this long
ANSWER_BOUND = 90.0  # seconds after the last /pulse before the missing replies count as none
SECRET = "bench-signing-secret"
ASK = "Could you also add a churn chart for region {i} while you're at it"


@dataclass
class Phase:
    name: str
    latencies: list[float]  # seconds, answered pulses only
    unanswered: int
    stop_seconds: float | None  # SIGTERM -> exit (None: not within 30 s, killed)

    def pct(self, p: float) -> float:
        """The p-th latency in ms; infinite when more than (1 - p) of the pulses got no reply."""
        total = len(self.latencies) + self.unanswered
        k = min(total - 1, int(p * total))
        ordered = sorted(self.latencies)
        return ordered[k] * 1000 if k < len(ordered) else float("inf")

    @property
    def p50(self) -> float:
        return self.pct(0.5)

    @property
    def p99(self) -> float:
        return self.pct(0.99)


def _phase(name: str, workdir: Path, llm: FakeLLMServer | None) -> Phase:
    emulator = TrackingEmulator()
    emulator.start()
    factory = ServeFactory(emulator=emulator, secret=SECRET, workdir=workdir)
    env = {"CSOBOT_LOG_LEVEL": "WARNING"}
    if llm is not None:
        llm.hang(label="scope_creep", max_hang=ANSWER_BOUND + 120)
        env["OPENAI_BASE_URL"] = llm.base_url
    try:
        server = factory.start(f"sqlite:///{workdir / 'bench.db'}", env=env)
        asks = channel_messages(
            CLIENT_MESSAGES, authors=[ACME_CONTACT], texts=[ASK], start=date(2026, 11, 16)
        )
        server.post_all(asks.bodies, concurrency=8)
        sent: dict[str, float] = {}
        step = PULSE_SECONDS / PULSES
        start = time.monotonic()
        for i in range(PULSES):
            time.sleep(max(0.0, start + i * step - time.monotonic()))
            at = time.time()
            reply, token = server.command("/pulse", user="U0CSO1" if i % 2 else "U0CSO2")
            if reply.ok:
                sent[token] = at
        deadline = time.monotonic() + ANSWER_BOUND
        arrived: dict[str, float] = {}
        while time.monotonic() < deadline:
            for call in emulator.replies():
                token = str(call.params.get("response_token", ""))
                if token in sent and token not in arrived:
                    arrived[token] = call.at
            if len(arrived) == len(sent):
                break
            time.sleep(0.05)
        latencies = [arrived[t] - sent[t] for t in arrived]
        stopping = time.monotonic()
        server.terminate()
        code = server.wait(30)
        stop_seconds = time.monotonic() - stopping if code is not None else None
        return Phase(name, latencies, PULSES - len(latencies), stop_seconds)
    finally:
        if llm is not None:
            llm.release()
        factory.close()
        emulator.stop()


def run() -> str:
    tmp = Path(tempfile.mkdtemp(prefix="csobot-model-hang-"))
    try:
        with FakeLLMServer() as llm:
            phases = [
                _phase("no model", tmp / "none", None),
                _phase("model hanging", tmp / "hang", llm),
                _phase("no model, again", tmp / "none2", None),
            ]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _report(phases)


def _ms(value: float) -> str:
    return f"{value:.0f}" if value != float("inf") else f"> {ANSWER_BOUND * 1000:.0f}"


def _report(phases: list[Phase]) -> str:
    hang = phases[1]
    base = min((p for p in phases if p is not hang), key=lambda p: p.p99)
    lines = [
        "## `/pulse` while the model hangs",
        "",
        f"{CLIENT_MESSAGES} client messages (each one the classifier sends to the model) "
        f"then {PULSES} `/pulse` over {PULSE_SECONDS:.0f} s; latency = the command sent → its "
        "reply at the response_url. The model accepts the connection and never answers "
        f"(CSOBOT_LLM_TIMEOUT at its default); no reply within {ANSWER_BOUND:.0f} s counts as "
        "unanswered. SQLite; the runs with no model configured come before and after.",
        "",
        "| model | pulses | unanswered | p50 ms | p99 ms | max ms | SIGTERM → exit s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for p in phases:
        worst = max(p.latencies) * 1000 if p.latencies else float("inf")
        stop = f"{p.stop_seconds:.1f}" if p.stop_seconds is not None else "> 30 (killed)"
        lines.append(
            f"| {p.name} | {PULSES} | {p.unanswered} | {_ms(p.p50)} | {_ms(p.p99)} | "
            f"{_ms(worst)} | {stop} |"
        )
    if hang.p99 == float("inf") or not base.latencies:
        ratio = "∞ (replies missing)"
    else:
        ratio = f"{hang.p99 / base.p99:.2f}×"
    mean = statistics.fmean(hang.latencies) * 1000 if hang.latencies else float("inf")
    lines += [
        "",
        f"- `/pulse` p99 with the model hanging / with no model: **{ratio}** "
        f"(mean with the model hanging: {_ms(mean)} ms)",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
