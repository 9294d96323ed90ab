"""The configured model hangs (accepts the connection, never answers): nothing else waits on it,
SIGTERM still stops the process promptly, and the classification work left over is finished
after a restart."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date

from storage.models import Flag, InboundMessage, Touchpoint
from tests.faults.harness import (
    ACME_CONTACT,
    ACME_TEAM,
    Rows,
    ServeFactory,
    TrackingEmulator,
    channel_messages,
)
from tests.llm_server import FakeLLMServer

CLIENT_MESSAGES = 50
TEAM_MESSAGES = 10
# The rules flag this as scope creep too, so every message ends up flagged whichever
# classifier answers once the model is back (or the rules, if the model is given up on).
ASK = "Could you also add a churn chart for region {i} while you're at it"


def test_model_hangs(
    sqlite_url: str, serve: ServeFactory, llm: FakeLLMServer, emulator: TrackingEmulator
) -> None:
    llm.hang(label="scope_creep", max_hang=180)
    # CSOBOT_LLM_TIMEOUT is left at its default.
    server = serve.start(sqlite_url, env={"OPENAI_BASE_URL": llm.base_url})
    asks = channel_messages(
        CLIENT_MESSAGES, authors=[ACME_CONTACT], texts=[ASK], start=date(2026, 11, 16)
    )
    notes = channel_messages(TEAM_MESSAGES, authors=ACME_TEAM, start=date(2026, 11, 23))
    problems: list[str] = []
    rows = Rows(sqlite_url)
    try:
        replies = server.post_all(asks.bodies) + server.post_all(notes.bodies)
        pulse_ack, token = server.command("/pulse")
        statuses = Counter(r.status for r in [*replies, pulse_ack])
        assert statuses == {200: CLIENT_MESSAGES + TEAM_MESSAGES + 1}, dict(statuses)

        # While the model still hangs (it is released further down):
        team = rows.wait_count(Touchpoint, TEAM_MESSAGES, timeout=30)
        if team != TEAM_MESSAGES:
            problems.append(
                f"model hanging: {team} of {TEAM_MESSAGES} team touchpoints recorded after 30 s"
            )
        deadline = time.monotonic() + 30
        while not emulator.replies(token) and time.monotonic() < deadline:
            time.sleep(0.1)
        answers = [str(c.get("text", "")) for c in emulator.replies(token)]
        if not any("Partnership Pulse" in a for a in answers):
            problems.append(f"model hanging: /pulse got no cards within 30 s (replies: {answers})")
        if not llm.requests:
            problems.append("the model was never called: the hang was not exercised")

        server.terminate()
        code = server.wait(timeout=30)
        if code is None:
            problems.append("SIGTERM with the model hanging: still running after 30 s")
        elif code != 0:
            problems.append(f"SIGTERM with the model hanging: exit code {code}")
        log = server.log_problems()

        llm.release()  # the model answers again (scope_creep)
        server = serve.restart(server)
        flagged = rows.wait_count(
            Flag, CLIENT_MESSAGES, Flag.channel == "C0ACME", Flag.kind == "scope_creep", timeout=60
        )
        inbound = rows.count(InboundMessage, InboundMessage.channel == "C0ACME")
    finally:
        llm.release()
        rows.dispose()
    if inbound != CLIENT_MESSAGES:
        problems.append(f"{CLIENT_MESSAGES} client messages acked: {inbound} recorded")
    if flagged != CLIENT_MESSAGES:
        problems.append(
            f"{CLIENT_MESSAGES} client messages asking for extra work: {flagged} classified and "
            "flagged 60 s after the restart with the model back"
        )
    assert not problems, "\n".join(problems) + "\n" + log
