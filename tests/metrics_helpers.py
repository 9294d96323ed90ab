"""Recorded outcomes the leadership-metrics tests share: Q4 2026 renewals, NPS answers, a QBR."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from domain.health import Band
from domain.renewals import Outcome
from storage.db import Database
from storage.models import Client, QbrRecord
from storage.nps_store import record_nps
from storage.renewal_store import record_renewal

NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)

# What the records below give for 2026Q4 (and for November 2026, where everything sits).
EXPECTED = {
    "retention.grr": round(240000 / 276000, 4),  # renewed excl. expansion / expiring
    "retention.nrr": round(264000 / 276000, 4),  # (240,000 + 24,000 − 0) / 276,000
    "retention.logo": 0.5,
    "retention.health_accuracy": 1.0,  # the one Green account renewed
    "retention.expansion": round(24000 / 372000, 4),
    "clients.qbr_completion": round(1 / 3, 4),  # acme of three active clients
    "clients.nps": 25.0,  # (2 promoters − 1 detractor) / 4
}


def record_quarter(db: Database) -> None:
    """Q4 2026: initech (36,000) churned while Yellow; a made-up acme contract ending in Q4
    renewed Green at 264,000 (+24,000 expansion); four NPS answers; acme's QBR delivered."""
    with db.transaction() as s:
        clients = {c.slug: c for c in s.scalars(select(Client))}
        record_renewal(
            s, clients["initech"], contract_end=date(2026, 11, 30), outcome=Outcome.CHURNED,
            new_end=None, arr_after=None, band=Band.YELLOW, by="U0CSO2", now=NOW,
        )  # fmt: skip
        record_renewal(
            s, clients["acme"], contract_end=date(2026, 11, 30), outcome=Outcome.SIGNED,
            new_end=date(2027, 11, 30), arr_after=264000, band=Band.GREEN, by="U0CSO1", now=NOW,
        )  # fmt: skip
        for i, answer in enumerate([10, 9, 7, 3]):
            record_nps(
                s, client_id=clients["acme"].id, score=answer, comment="", by="U0CSO1",
                now=NOW, dedupe_key=f"k{i}",
            )  # fmt: skip
        s.add(QbrRecord(client_id=clients["acme"].id, quarter="2026Q4", delivered_at=NOW))
