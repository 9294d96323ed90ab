"""kill -9 right after Slack got its 200s: every acked event is still recorded after a restart.

Slack never resends an event that got a 200, so an acked event lost in a crash is lost for good.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from storage.models import Touchpoint
from tests.faults.harness import ACME_TEAM, Rows, ServeFactory, channel_messages

EVENTS = 600


def test_kill9_after_ack_loses_nothing(fault_db_url: str, serve: ServeFactory) -> None:
    server = serve.start(fault_db_url)
    # Team messages in Acme's channel over five business days (Acme is on Chicago time).
    batch = channel_messages(EVENTS, authors=ACME_TEAM, per_day=120)
    replies = server.post_all(batch.bodies, concurrency=8)
    server.kill()  # immediately: no grace, no drain
    statuses = Counter(r.status for r in replies)
    assert statuses == {200: EVENTS}, f"every event must be acked with 200: {statuses}"

    server = serve.restart(server)
    rows = Rows(fault_db_url)
    try:
        n = rows.wait_count(Touchpoint, EVENTS, Touchpoint.channel == "C0ACME", timeout=90)
        recorded = rows.scalars(select(Touchpoint.message_ts).where(Touchpoint.channel == "C0ACME"))
    finally:
        rows.dispose()
    assert n == EVENTS, (
        f"{EVENTS} events acked before kill -9; {n} touchpoints 90 s after the restart "
        f"({EVENTS - n} lost)\n{server.log_problems()}"
    )
    assert sorted(recorded) == sorted(batch.ts)  # the same messages: none doubled, none lost
