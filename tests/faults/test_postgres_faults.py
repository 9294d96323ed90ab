"""PostgreSQL going away under `csobot serve`: refusing connections, and connections killed.

Each test runs on a private database (created for it, dropped after), never on `test`.
"""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import select

from storage.models import Pulse, Touchpoint
from tests.faults.claims import claims_saved
from tests.faults.harness import (
    ACME_TEAM,
    BackendKiller,
    Rows,
    ServeFactory,
    TcpProxy,
    TrackingEmulator,
    channel_messages,
)

REFUSE_SECONDS = 15
PULSE = "acme happy update: sent the report"


def test_postgres_refusing_connections(
    private_pg_url: str, serve: ServeFactory, emulator: TrackingEmulator
) -> None:
    batch = channel_messages(30, authors=ACME_TEAM)
    rows = Rows(private_pg_url)  # the test reads the database directly, not through the proxy
    problems: list[str] = []
    with TcpProxy.for_url(private_pg_url) as proxy:
        server = serve.start(proxy.url_for(private_pg_url), import_db_url=private_pg_url)
        assert proxy.accepted > 0  # the server really talks to PostgreSQL through the proxy

        proxy.refuse()
        refused_at = time.monotonic()
        replies = []
        for i, body in enumerate(batch.bodies):
            replies.append(server.post(body))
            if i == 14:
                pulse_ack, token = server.command("/pulse", PULSE)
            time.sleep(0.3)
        time.sleep(max(0.0, refused_at + REFUSE_SECONDS - time.monotonic()))
        proxy.forward()
        back_at = time.time()  # the emulator stamps calls with time.time()

        statuses = Counter(r.status for r in replies)
        if statuses != {200: 30}:
            problems.append(f"every event must be acked with 200: {dict(statuses)}")
        if pulse_ack.status != 200:
            problems.append(f"/pulse answered {pulse_ack.status}")
        ack_text = pulse_ack.body.decode(errors="replace")
        before = [str(c.get("text", "")) for c in emulator.replies(token) if c.at < back_at]
        false_claims = [t for t in [ack_text, *before] if claims_saved(t)]
        if false_claims:
            problems.append(f"while PostgreSQL refused connections, /pulse said: {false_claims}")

        touchpoints = rows.wait_count(Touchpoint, 30, timeout=60)
        pulses = rows.wait_count(Pulse, 1, Pulse.update == "sent the report", timeout=10)
        deadline = time.monotonic() + 10
        while True:
            after = [str(c.get("text", "")) for c in emulator.replies(token) if c.at >= back_at]
            confirmed = any(claims_saved(t) and "Acme" in t for t in after)
            if confirmed or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    rows.dispose()
    if touchpoints != 30:
        problems.append(
            f"30 events acked while PostgreSQL refused connections: {touchpoints} recorded "
            "within 60 s of it coming back"
        )
    if pulses != 1:
        problems.append(f"the /pulse sent during the outage: {pulses} saved after it")
    if not confirmed:
        problems.append(f"no /pulse confirmation once the database was back (replies: {after})")
    assert not problems, "\n".join(problems) + "\n" + server.log_problems()


TERMINATE_SECONDS = 20
EVENTS = 400


def test_postgres_connections_terminated(private_pg_url: str, serve: ServeFactory) -> None:
    server = serve.start(private_pg_url)
    batch = channel_messages(EVENTS, authors=ACME_TEAM)
    with BackendKiller(private_pg_url, interval=0.2) as killer:
        started = time.monotonic()
        # 20 events a second, answered or retried the way Slack does (3 retries).
        replies = server.post_paced(
            batch.bodies, over=TERMINATE_SECONDS - 2, concurrency=4, slack_retries=3
        )
        time.sleep(max(0.0, started + TERMINATE_SECONDS - time.monotonic()))
    assert killer.terminated > 0, "no backend was terminated: the fault did not happen"

    acked = sum(r.ok for r in replies)
    rows = Rows(private_pg_url)
    try:
        n = rows.wait_count(Touchpoint, EVENTS, Touchpoint.channel == "C0ACME", timeout=60)
        recorded = rows.scalars(select(Touchpoint.message_ts).where(Touchpoint.channel == "C0ACME"))
    finally:
        rows.dispose()
    assert acked == EVENTS, f"{EVENTS - acked} events never got a 2xx, even after Slack's retries"
    assert n == EVENTS, (
        f"{EVENTS} events sent while backends were terminated every 0.2 s "
        f"({killer.terminated} terminated); {n} recorded ({EVENTS - n} lost)\n"
        + server.log_problems()
    )
    assert sorted(recorded) == sorted(batch.ts)
