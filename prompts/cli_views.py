"""What the `csobot` commands print as tables: each one through prompts.tables (tabulate,
80 columns, long cells wrapped, never cut). The same data is what `--json` prints."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from domain import records
from domain.cadence import Catalogue, format_duration
from domain.commands import TouchpointKind
from domain.evaluation import EvalReport
from domain.flags import FLAG_KINDS, FlagKind
from domain.kpi import WeekKpi
from domain.onboarding import Catalogue as OnboardingCatalogue
from domain.portfolio import Role
from domain.support_evaluation import LABELS, SupportEvalReport
from prompts.render import plural
from prompts.tables import table, wrap

NO_DATA = "no data"


def _pct(value: float | None) -> str:
    return NO_DATA if value is None else f"{value * 100:.1f}%"


# -- csobot tick -------------------------------------------------------------------------------

_WAIT_FOR = {
    "quiet hours": "quiet hours to end",
    "out of office": "the person to be back from time off",
    "a day off": "the next working day",
    "the daily cap": "tomorrow (today's cap of DMs is reached)",
    "Do Not Disturb": "Do Not Disturb to end",
}


def tick_text(
    at: datetime,
    new: int,
    deliveries: Sequence[Any],
    waiting: Sequence[Any],
    waits: Mapping[str, Any],
    names: Mapping[str, str],
) -> str:
    """`tick at …: 11 new nudges; 9 sent in 4 messages, 2 wait for quiet hours to end in
    London (08:00)`, then one line per person or channel. Deliveries and waits are the
    outbox's (`Delivery`, `noise_gate.Wait`)."""
    sent = [d for d in deliveries if d.ok]
    failed = [d for d in deliveries if not d.ok]
    parts = [f"{sum(len(d.keys) for d in sent)} sent in {plural(len(sent), 'message')}"]
    if failed:
        parts.append(
            f"{plural(sum(len(d.keys) for d in failed), 'nudge')} not sent "
            f"({plural(len(failed), 'message')} pending for the next tick)"
        )
    held: Counter[str] = Counter()
    for d in waiting:
        held[_wait_phrase(d, waits.get(d.target), at)] += len(d.keys)
    parts += [f"{n} wait for {phrase}" for phrase, n in held.items()]
    head = f"tick at {at.isoformat(timespec='seconds')}: {plural(new, 'new nudge')}; "
    lines = [wrap(head + ", ".join(parts), hang=4)]
    for d in deliveries:
        state = "sent" if d.ok else f"not sent, pending ({d.error})"
        lines.append(
            wrap(
                f"  {names.get(d.target, d.target)}: {plural(len(d.keys), 'nudge')} " + state,
                hang=4,
            )
        )
    for d in waiting:
        lines.append(
            wrap(
                f"  {names.get(d.target, d.target)}: {plural(len(d.keys), 'nudge')} wait for "
                + _wait_phrase(d, waits.get(d.target), at),
                hang=4,
            )
        )
    return "\n".join(lines)


def _wait_phrase(delivery: Any, wait: Any, at: datetime) -> str:
    until: datetime | None = delivery.until
    if wait is None:
        return f"{until.isoformat(timespec='minutes')}" if until else "a later tick"
    tz = ZoneInfo(wait.tz)
    place = wait.tz.rsplit("/", 1)[-1].replace("_", " ")
    if until is None:
        return f"{_WAIT_FOR.get(wait.reason, wait.reason)} in {place}"
    local = until.astimezone(tz)
    when = f"{local:%H:%M}" if local.date() == at.astimezone(tz).date() else f"{local:%a %H:%M}"
    return f"{_WAIT_FOR.get(wait.reason, wait.reason)} in {place} ({when})"


# -- csobot kpi --------------------------------------------------------------------------------


def kpi_table(kpi: WeekKpi) -> str:
    """The week per CSO and client: daily touches, the weekly presentation, the rate. The
    overall row adds the daily and weekly columns up; its rate counts both."""
    title = f"Communication Consistency — {kpi.week}"
    if not kpi.csos:
        return f"{title}\nNo clients in the portfolio yet: import one with " + (
            "`csobot portfolio import FILE.yaml`."
        )
    rows: list[list[str]] = []
    for cso in kpi.csos:
        rows.append([cso.name, "", "", "", _pct(cso.rate), ""])
        for c in cso.clients:
            missed = ", ".join(c.daily.missed) or "-"
            if c.daily.exempt:
                missed += " (exempt: " + ", ".join(e["date"] for e in c.daily.exempt) + ")"
            rows.append(
                [
                    "",
                    c.slug,
                    f"{c.daily.done}/{c.daily.expected}",
                    f"{c.weekly_presentation.done}/{c.weekly_presentation.expected}",
                    "",
                    missed,
                ]
            )
        if cso.cadences:
            held = sum(1 for r in cso.cadences if r.done)
            rows.append(["", "cadences held", f"{held}/{len(cso.cadences)}", "", "", ""])
    clients = [c for cso in kpi.csos for c in cso.clients]
    daily = (sum(c.daily.done for c in clients), sum(c.daily.expected for c in clients))
    weekly = (
        sum(c.weekly_presentation.done for c in clients),
        sum(c.weekly_presentation.expected for c in clients),
    )
    rows.append(
        [
            "Overall",
            "",
            f"{daily[0]}/{daily[1]}",
            f"{weekly[0]}/{weekly[1]}",
            _pct(kpi.overall.rate),
            "",
        ]
    )
    lines = [
        title,
        table(
            ["CSO", "client", "daily", "weekly", "rate", "missed days"],
            rows,
            align=["left", "left", "right", "right", "right", "left"],
        ),
    ]
    o = kpi.overall
    if kpi.has_data:
        lines.append(
            f"Rate: daily touches and weekly presentations done, {o.done} of {o.expected}."
        )
    else:
        lines.append("No touchpoints, wins or exemptions were recorded for this week.")
    return "\n".join(lines)


# -- csobot cadence show -----------------------------------------------------------------------

ROLE_SHORT = {
    Role.CSO: "CSO",
    Role.SERVICE_LEAD: "SL",
    Role.ENGAGEMENT_PARTNER: "EP",
    Role.HEAD_OF_DELIVERY: "HoD",
    Role.FOUNDER: "Founder",
}


def catalogue_table(cat: Catalogue) -> str:
    """One row per cadence, its `why` on the line under it."""
    all_kinds = frozenset(k.value for k in TouchpointKind)
    rows: list[list[str]] = []
    for c in cat.cadences:
        mine = f" (or their {c.person_time})" if c.person_time else ""
        closes: str
        if isinstance(c.closes_by, str):
            closes = c.closes_by
        elif c.touchpoint_kinds == all_kinds:
            closes = "touchpoint"
        else:
            closes = ", ".join(k.value for k in c.closes_by)
        scope = "each client" if c.per_client else "once"
        if c.bands:
            scope += f" ({', '.join(c.bands)})"
        rows.append(
            [
                c.id,
                f"{c.at:%H:%M} {c.describe_when()}{mine}",
                "+".join(ROLE_SHORT[r] for r in c.roles) + f", {scope}",
                closes,
                format_duration(c.grace),
                "on" if c.enabled else "off",
            ]
        )
    n_on = len(cat.enabled())
    head = f"{len(cat.cadences)} cadences, {n_on} enabled (times are each person's local time)"
    why = [wrap(f"  {c.id}: {c.why}", hang=4) for c in cat.cadences]
    return "\n".join(
        [
            head,
            "",
            table(["cadence", "when", "for", "closed by", "grace", "state"], rows, keep=[0]),
            "",
            "Why each cadence",
            *why,
        ]
    )


def catalogue_json(cat: Catalogue) -> list[dict[str, Any]]:
    return [
        {
            **c.model_dump(mode="json"),
            "when": c.describe_when(),
            "grace": format_duration(c.grace),
        }
        for c in cat.cadences
    ]


# -- csobot portfolio show ---------------------------------------------------------------------


def portfolio_json(
    org: records.Organization,
    people: Sequence[records.Person],
    clients: Sequence[records.Client],
) -> dict[str, Any]:
    def plain(value: Any) -> dict[str, Any]:
        data = asdict(value)
        return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}

    organization = plain(org)
    organization.pop("settings", None)
    return {
        "organization": organization,
        "people": [plain(p) for p in people],
        "clients": [plain(c) for c in clients],
    }


def portfolio_text(
    org: records.Organization,
    people: Sequence[records.Person],
    clients: Sequence[records.Client],
) -> str:
    names = {p.slack_id: p.name for p in people}
    head = (
        f"{org.name} — timezone {org.timezone}, holidays {org.holidays_country or 'none'}, "
        f"leadership channel {org.leadership_channel or 'none'}"
    )
    out = [wrap(head), "", "People"]
    out.append(
        table(
            ["name", "role", "Slack ID", "timezone"],
            [
                [p.name, p.role.replace("_", " "), p.slack_id, p.timezone or org.timezone]
                for p in sorted(people, key=lambda p: (p.role, p.name))
            ],
        )
    )
    out += ["", "Clients"]
    if not clients:
        out.append("None yet: add them to the portfolio file and run `csobot portfolio import`.")
    else:
        out.append(
            table(
                ["client", "name", "CSO", "segment", "ARR", "contract ends", "channel"],
                [
                    [
                        c.slug,
                        c.name,
                        names.get(c.cso_id, c.cso_id),
                        c.segment.replace("_", " "),
                        f"{c.arr:,.0f}",
                        c.contract_end.isoformat() if c.contract_end else "-",
                        c.client_channel or "-",
                    ]
                    for c in clients
                ],
                align=["left", "left", "left", "left", "right", "left", "left"],
            )
        )
    return "\n".join(out)


# -- csobot expansion, csobot renewals ----------------------------------------------------------


def expansion_table(rows: Sequence[Any]) -> str:
    """Rows of storage.expansion_store.ExpansionRow."""
    body = []
    for r in rows:
        if r.points == 0:
            note = "no expansion signal"
        elif not r.allowed:
            note = "held: not Green for 60 days (no expansion prompt)"
        else:
            note = "; ".join(f"{a} → {b}" for a, b in zip(r.reasons, r.actions, strict=True))
        value = f"{r.estimated_value:,.0f}" if r.in_pipeline else "-"
        body.append([r.name, str(r.points), value, note])
    return table(
        ["client", "points", "est. value", "signals → next step"],
        body,
        align=["left", "right", "right", "left"],
    )


def renewals_table(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return "No contract ends in this quarter."
    return table(
        ["client", "ends", "ARR", "band", "stage", "call"],
        [
            [
                r["name"],
                r["contract_end"],
                f"{r['arr']:,.0f}",
                r["band"] or "-",
                r["stage"],
                r["call"],
            ]
            for r in rows
        ],
        align=["left", "left", "right", "left", "left", "left"],
    )


# -- csobot onboarding plans -------------------------------------------------------------------


def plans_text(cat: OnboardingCatalogue) -> str:
    """The onboarding catalogue (domain.lifecycle's): each plan, its checklist as a table."""
    out: list[str] = []
    for segment, plan in cat.plans.items():
        low, high = plan.window_days
        out.append(wrap(f"{segment}: {plan.name} — {plan.approach} — {low}-{high} days"))
        out.append(wrap(f"  phases: {' → '.join(plan.phases)}", hang=4))
        out.append(
            table(
                ["section", "item", "due", "owner"],
                [
                    [
                        item.section,
                        item.text + (f" [{item.marks}]" if item.marks else ""),
                        f"{item.anchor} + {item.due} business days",
                        item.owner,
                    ]
                    for item in plan.items
                ],
                indent=2,
            )
        )
        out.append("")
    rules = cat.rules
    out.append(
        wrap(
            f"Rules: kickoff within {rules.kickoff_within_business_days} business days; a "
            f"stall after {rules.stall_hours} h (the head of delivery hears after "
            f"{rules.stall_head_hours} h) in {', '.join(rules.stall_sections)}; renewal "
            f"forecast {rules.renewal_forecast_days} days before the contract ends."
        )
    )
    return "\n".join(out)


# -- csobot eval-flags, csobot eval-support -----------------------------------------------------

# Short column headings for the confusion table.
_ABBREV: dict[FlagKind, str] = {
    FlagKind.SCOPE_CREEP: "scope",
    FlagKind.DEADLINE_CHANGE: "dline",
    FlagKind.RISK: "risk",
    FlagKind.NEGATIVE_SENTIMENT: "neg",
    FlagKind.EXPANSION_SIGNAL: "expan",
    FlagKind.STAKEHOLDER_CHANGE: "stake",
    FlagKind.COMPETITOR_MENTION: "comp",
    FlagKind.NONE: "none",
}
_SCORE_HEADS = ["support", "predicted", "precision", "recall", "f1"]
_SCORE_ALIGN = ["left", "right", "right", "right", "right", "right"]


def flag_report(report: EvalReport, *, mistakes: int = 0) -> str:
    """The scores per flag kind, the averages, and the confusion matrix (rows: expected)."""
    order = (*FLAG_KINDS, FlagKind.NONE)
    rows: list[list[str]] = []
    for kind in order:
        s = report.per_kind[kind]
        rows.append(
            [
                kind.value,
                str(s.support),
                str(s.predicted),
                f"{s.precision:.3f}",
                f"{s.recall:.3f}",
                f"{s.f1:.3f}",
            ]
        )
    for name, avg in (("micro (flags)", report.micro), ("macro (flags)", report.macro)):
        rows.append([name, "", "", f"{avg.precision:.3f}", f"{avg.recall:.3f}", f"{avg.f1:.3f}"])
    lines = [
        table(["kind", *_SCORE_HEADS], rows, align=_SCORE_ALIGN),
        f"accuracy {report.accuracy:.3f} over {report.total} messages; "
        f"{report.mean_ms:.3f} ms per message",
        "",
        "confusion (rows: expected, columns: predicted)",
        table(
            ["expected", *(_ABBREV[k] for k in order)],
            [[e.value, *(str(report.confusion[e][p]) for p in order)] for e in order],
            align=["left"] + ["right"] * len(order),
        ),
    ]
    if mistakes and report.mistakes:
        lines += ["", f"first {min(mistakes, len(report.mistakes))} mistakes"]
        for m in report.mistakes[:mistakes]:
            lines.append(wrap(f"  [{m.expected.value} -> {m.predicted.value}] {m.text}", hang=4))
    return "\n".join(lines)


def support_report(report: SupportEvalReport, *, mistakes: int = 0) -> str:
    scores = [*(report.per_label[k] for k in LABELS), report.opens, *report.feedback.values()]
    lines = [
        table(
            ["support label", *_SCORE_HEADS],
            [
                [
                    s.label,
                    str(s.support),
                    str(s.predicted),
                    f"{s.precision:.3f}",
                    f"{s.recall:.3f}",
                    f"{s.f1:.3f}",
                ]
                for s in scores
            ],
            align=_SCORE_ALIGN,
        ),
        wrap(
            f"severity accuracy {report.accuracy:.3f}, macro F1 {report.macro_f1:.3f}; "
            f"feedback accuracy {report.feedback_accuracy:.3f} over {report.total} messages; "
            f"{report.mean_ms:.3f} ms per message"
        ),
    ]
    if mistakes and report.mistakes:
        lines.append(f"first {min(mistakes, len(report.mistakes))} mistakes")
        for expected, predicted, text in report.mistakes[:mistakes]:
            lines.append(wrap(f"  [{expected} -> {predicted}] {text}", hang=4))
    return "\n".join(lines)
