"""A card's sentiment, hook and update are each the newest of their kind, read in SQL however
long the client's pulse history is."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from domain.pulse import Sentiment
from storage.db import Database
from storage.models import Pulse
from storage.portfolio_store import active_clients, organization, people_by_id
from storage.pulse_store import load_cards
from tests.conftest import load_portfolio

NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)


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
