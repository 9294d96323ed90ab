"""The portfolio's retention figures as a metric source (docs/process.md, "Portfolio metrics"):
GRR, NRR, logo retention, health-score accuracy, QBR completion, NPS and renewal expansion,
for any period. `csobot metrics`, `/metrics` and the digest's monthly section read them."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from domain import metrics as m
from domain.metric import Metric, Period, at_least, quarter_containing
from domain.renewals import RENEWED_OUTCOMES
from prompts.render import plural
from storage import nps_store, qbr_store, renewal_store
from storage.db import Transaction
from storage.org_settings_store import org_settings
from storage.portfolio_store import active_clients
from usecases.metric_sources import with_formulas

GROUP_RETENTION = "Retention"
GROUP_CLIENTS = "Client value"

NPS_AVERAGE_TARGET = 8.5

QBR_NOTE = (
    "QBRs due: active clients with ARR at or above organization.settings.qbr_arr_threshold, "
    "per quarter (a month reads its quarter); delivered: `/qbr acme Q4 delivered`"
)
RENEWAL_NOTE = "renewals: outcomes recorded with /renewal for contracts ending in the period"


def _formula(fn: object, note: str = "") -> str:
    text = m.formula(fn)  # type: ignore[arg-type]
    return f"{text} ({note})" if note else text


FORMULAS: tuple[tuple[str, str], ...] = (
    ("Gross revenue retention", _formula(m.grr, RENEWAL_NOTE)),
    ("Net revenue retention", _formula(m.nrr, RENEWAL_NOTE)),
    ("Logo retention", _formula(m.logo_retention, RENEWAL_NOTE)),
    ("Health-score accuracy", _formula(m.health_score_accuracy)),
    ("QBR completion", _formula(m.qbr_completion, QBR_NOTE)),
    ("NPS", _formula(m.nps, "/nps answers recorded in the period; target 50+ or average 8.5+")),
    ("Renewal expansion", _formula(m.expansion_share, "expansion ARR from renewals in the period")),
)


@with_formulas(*FORMULAS)
def portfolio_metrics(tx: Transaction, period: Period, now: datetime) -> list[Metric]:
    """The retention figures for `period` (None = no data: nothing recorded in it)."""
    del now  # the figures are of recorded outcomes only
    outcomes = renewal_store.outcomes_between(tx, period.start, period.end)
    renewals = [
        m.RenewalRecord(
            client=str(r.client_id),
            arr_before=r.arr_before,
            arr_after=r.arr_after if r.outcome in RENEWED_OUTCOMES else 0,
            outcome=r.outcome,
            band_at_renewal=r.band_at_renewal,
        )
        for r in outcomes
    ]
    clients = active_clients(tx)
    names = {c.id: c.name for c in clients}
    renewal_evidence = tuple(
        f"{names.get(r.client_id, r.client_id)}: {r.outcome.value}, contract end "
        f"{r.contract_end.isoformat()}, ARR {r.arr_before:,.0f} → {r.arr_after or 0:,.0f}"
        for r in outcomes
    )
    quarter = quarter_containing(period.end).label
    threshold = org_settings(tx).qbr_arr_threshold
    delivered = qbr_store.qbrs_for(tx, quarter)
    due = [c for c in clients if c.arr >= threshold]
    qbrs = [
        m.QbrRecord(
            client=c.slug,
            quarter=quarter,
            delivered=c.id in delivered and delivered[c.id].delivered_at is not None,
        )
        for c in due
    ]
    t0 = datetime.combine(period.start, time(0), tzinfo=UTC)
    t1 = datetime.combine(period.end + timedelta(days=1), time(0), tzinfo=UTC)
    answers = nps_store.nps_answers(tx, t0, t1)
    nps = m.nps(answers)
    average = round(sum(answers) / len(answers), 2) if answers else None
    managed = sum(c.arr for c in clients)
    expansion = m.expansion_share(m.renewal_expansion_arr(renewals), managed) if renewals else None
    grr, nrr, logos = m.grr(renewals), m.nrr(renewals), m.logo_retention(renewals)
    accuracy = m.health_score_accuracy(renewals)
    qbr = m.qbr_completion(qbrs)
    f = dict(FORMULAS)
    return [
        Metric(
            "retention.grr", "Gross revenue retention", GROUP_RETENTION, grr, "ratio",
            "≥ 90 %", at_least(grr, m.TARGETS["grr"]), f["Gross revenue retention"],
            renewal_evidence,
        ),
        Metric(
            "retention.nrr", "Net revenue retention", GROUP_RETENTION, nrr, "ratio",
            "≥ 110 %", at_least(nrr, m.TARGETS["nrr"]), f["Net revenue retention"],
            renewal_evidence,
        ),
        Metric(
            "retention.logo", "Logo retention", GROUP_RETENTION, logos, "ratio",
            "≥ 90 %", at_least(logos, m.TARGETS["logo_retention"]), f["Logo retention"],
            renewal_evidence,
        ),
        Metric(
            "retention.health_accuracy", "Health-score accuracy", GROUP_RETENTION, accuracy,
            "ratio", "≥ 80 %", at_least(accuracy, m.TARGETS["health_score_accuracy"]),
            f["Health-score accuracy"], renewal_evidence,
        ),
        Metric(
            "retention.expansion", "Renewal expansion (share of managed ARR)", GROUP_RETENTION,
            expansion, "ratio", "≥ 20 %", at_least(expansion, m.TARGETS["expansion_share"]),
            f["Renewal expansion"], renewal_evidence,
        ),
        Metric(
            "clients.qbr_completion", f"QBR completion ({quarter})", GROUP_CLIENTS, qbr, "ratio",
            "100 % above the ARR threshold", at_least(qbr, m.TARGETS["qbr_completion"]),
            f["QBR completion"],
            tuple(f"{q.client}: {'delivered' if q.delivered else 'not delivered'}" for q in qbrs),
        ),
        Metric(
            "clients.nps", "NPS", GROUP_CLIENTS, nps, "points", "50+ or average 8.5+",
            None if nps is None or average is None
            else nps >= m.TARGETS["nps"] or average >= NPS_AVERAGE_TARGET,
            f["NPS"],
            (f"{plural(len(answers), 'answer')}, average {average}",) if answers else (),
        ),
    ]  # fmt: skip
