"""A card's sentiment, hook and update are each the newest of their kind, read in SQL however
long the client's pulse history is."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from domain.pulse import Sentiment
from storage.activity_store import record_touchpoint
from storage.db import Database
from storage.models import Pulse
from storage.portfolio_store import active_clients, client_by_slug, organization, people_by_id
from storage.pulse_store import load_cards
from tests.conftest import load_portfolio
from usecases.pulse_actions import cards_of

NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)
SUBSTANTIVE = "Here is the renewal summary we discussed on the call"


def test_each_card_shows_the_newest_sentiment_hook_and_update_of_its_history(
    db: Database,
) -> None:
    load_portfolio(db)
    rnd = random.Random(5)
    with db.transaction() as s:
        clients = active_clients(s)
        with_history = clients[:-1]  # the last client has no pulse at all
        spoken = [x.value for x in Sentiment if x != Sentiment.FRUSTRATED]

        def pulse(i: int, client_id: int, source: str, hook: str | None, update: str | None,
                  hours_ago: int) -> Pulse:  # fmt: skip
            # A detected row's sentiment is never the card's: it is one no person said here.
            sentiment = rnd.choice(spoken) if source != "detected" else Sentiment.FRUSTRATED.value
            return Pulse(
                client_id=client_id, sentiment=sentiment, hook=hook, update=update, source=source,
                created_by="U0CSO1", created_at=NOW - timedelta(hours=hours_ago),
                request_key=f"k{i}",
            )  # fmt: skip

        for i in range(400):
            source = rnd.choice(["command", "detected", "detected"])
            hook = rnd.choice([None, "", f"hook {i}"])
            update = rnd.choice([None, "", None, f"update {i}"])
            # hours apart, some at the same moment: the later row wins a tie
            client_id = rnd.choice(with_history).id
            s.add(pulse(i, client_id, source, hook, update, rnd.randint(1, 1500)))
        # The newest row of each lacks what the card shows: it comes from older rows.
        s.add(pulse(400, with_history[0].id, "detected", None, None, 0))
        s.add(pulse(401, with_history[1].id, "command", "", None, 0))
        s.flush()
        cards = {
            c.slug: c
            for c in load_cards(s, clients, NOW, people=people_by_id(s), org=organization(s))
        }
        rows = list(s.scalars(select(Pulse)))
    for client in clients:
        mine = sorted(
            (r for r in rows if r.client_id == client.id),
            key=lambda r: (r.created_at, r.id),
            reverse=True,
        )
        said = [r for r in mine if r.source != "detected"]  # a detected row has a hook only
        hooks = [r.hook for r in mine if r.hook]
        updates = [r.update for r in mine if r.update]
        card = cards[client.slug]
        assert card.sentiment == (Sentiment(said[0].sentiment) if said else None)
        assert (card.sentiment_at is None) == (not said)
        assert card.hook == (hooks[0] if hooks else None)
        assert card.update == (updates[0] if updates else None)
    assert cards[clients[-1].slug].sentiment is None and cards[clients[-1].slug].hook is None


def test_a_client_without_its_own_timezone_is_on_its_csos_day(db: Database) -> None:
    """Initech has no timezone of its own; its CSO is in London. At 04:30 in London (23:30 the
    evening before in New York, the organization's timezone) a touch from 04:20 is today's."""
    load_portfolio(db)
    now = datetime(2026, 11, 21, 4, 30, tzinfo=UTC)
    with db.transaction() as s:
        initech = client_by_slug(s, "initech")
        assert initech is not None and not initech.timezone
        record_touchpoint(
            s, client_id=initech.id, author_id="U0CSO2", kind="slack", source="event",
            occurred_at=now - timedelta(minutes=10), tz=ZoneInfo("Europe/London"),
            dedupe_key="t1", now=now, text=SUBSTANTIVE, channel="C0INITECH", message_ts="1.1",
        )  # fmt: skip
        [card] = cards_of(s, "U0CSO2", now).cards
    assert card.slug == "initech" and card.touched_today and card.last_touchpoint_days == 0
