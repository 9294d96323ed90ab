"""Health rendered: the breakdown, the signals modal, the board (App Home), checklists, the
nudges and the replies to /health, /nps, /playbook, /renewal and /qbr."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from domain.board import BAND_EMOJI, BoardRow, row_details, row_line
from domain.health import Band, HealthModel, HealthScore, HistoryItem
from domain.health_inputs import DERIVED_HELP, Change, SignalState
from domain.metrics import NpsCategory
from domain.playbooks import Run, get_playbook
from domain.renewals import Outcome
from prompts import blocks as bk
from prompts.render import escape_mrkdwn, plural

MAX_HOME_BLOCKS = 100
EDIT_ACTION = "health_edit"
VIEW_ACTION = "health_view"
START_ACTION = "health_start_playbook"
STEP_ACTION = "playbook_step_done"
MODAL_CALLBACK = "health_signals"
BREAKDOWN_CALLBACK = "health_breakdown"


def fit_home(out: list[bk.Block], more: str) -> list[bk.Block]:
    """Cut to the Home tab's 100 blocks, saying what was left out."""
    if len(out) <= MAX_HOME_BLOCKS:
        return out
    return [*out[: MAX_HOME_BLOCKS - 1], bk.context(more)]


def _label(model: HealthModel, signal: str) -> str:
    for pillar in model.pillars:
        for s in pillar.signals:
            if s.name == signal:
                return s.label
    return signal.replace("_", " ").capitalize()


def breakdown_blocks(
    *,
    name: str,
    slug: str,
    model: HealthModel,
    result: HealthScore | None,
    state: SignalState,
    day: str | None,
    changed_by: str | None,
    suggestion: str | None,
) -> tuple[list[bk.Block], str]:
    if result is None:
        text = f"{name} has no health score yet."
        empty = [
            bk.section(
                f"*{escape_mrkdwn(name)}* has no health score yet. Set its signals to score it."
            ),
            bk.actions(bk.button("Edit signals", EDIT_ACTION, slug, style="primary")),
        ]
        return empty, text
    band = result.band
    title = f"{name} — {result.score:g} {band.value.capitalize()}"
    out: list[bk.Block] = [bk.header(title)]
    fields = []
    for p in result.pillars:
        mean = "no data" if p.mean is None else f"{p.mean:g}/10"
        fields.append(f"*{p.label}* ({p.weight:.0%})\n{mean} → {p.contribution:g} pts")
    out.append(bk.section(f"{BAND_EMOJI[band]} Model: {model.name}", fields=fields))
    if result.weakest:
        lines = [
            f"• {_label(model, w.name)}: *{w.value:g}*"
            + (
                f" (derived; overridden, measured {state.derived[w.name]:g})"
                if w.name in state.overrides and w.name in state.derived
                else " (derived)"
                if state.sources.get(w.name) == "derived"
                else ""
            )
            for w in result.weakest
        ]
        out.append(bk.section("*Weakest signals*\n" + "\n".join(lines)))
    if result.missing_signals:
        missing = ", ".join(_label(model, s) for s in result.missing_signals)
        out.append(bk.context(f"Not measured yet: {missing}"))
    buttons = [bk.button("Edit signals", EDIT_ACTION, slug)]
    if suggestion:
        book = get_playbook(suggestion)
        out.append(bk.section(f"*Suggested playbook:* {book.name} — {book.description}"))
        buttons.append(bk.button("Start playbook", START_ACTION, f"{slug}:{book.id}", "primary"))
    out.append(bk.actions(*buttons))
    who = f" by <@{changed_by}>" if changed_by and changed_by.startswith(("U", "W")) else ""
    if day:
        out.append(bk.context(f"Scored {day}{who}."))
    weakest = ", ".join(f"{_label(model, w.name)} {w.value:g}" for w in result.weakest)
    text = f"{title}. Weakest: {weakest or 'none'}." + (
        f" Suggested playbook: {suggestion}." if suggestion else ""
    )
    return bk.fit(out), bk.fallback(text)


def signals_modal(
    *, name: str, slug: str, model: HealthModel, state: SignalState
) -> dict[str, Any]:
    out: list[bk.Block] = [
        bk.context("Each signal is 0–10, higher is healthier. Leave a field empty if unknown.")
    ]
    for pillar in model.pillars:
        out.append(bk.header(f"{pillar.label} ({pillar.weight:.0%})"))
        for spec in pillar.signals:
            element: dict[str, Any] = {
                "type": "number_input",
                "action_id": "value",
                "is_decimal_allowed": True,
                "min_value": "0",
                "max_value": "10",
            }
            current = state.values.get(spec.name)
            if current is not None:
                element["initial_value"] = f"{current:g}"
            block: dict[str, Any] = {
                "type": "input",
                "block_id": spec.name,
                "optional": True,
                "label": {"type": "plain_text", "text": bk.clip(spec.label, 2000)},
                "element": element,
            }
            if spec.name in DERIVED_HELP:
                measured = state.derived.get(spec.name)
                hint = (
                    f"Derived: {measured:g} ({DERIVED_HELP[spec.name]}). A different value "
                    "overrides it; empty uses it again."
                    if measured is not None
                    else f"Derived when there is data ({DERIVED_HELP[spec.name]})."
                )
                block["hint"] = {"type": "plain_text", "text": bk.clip(hint, 2000)}
            out.append(block)
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK,
        "private_metadata": json.dumps({"slug": slug}),
        "title": {"type": "plain_text", "text": "Health signals"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [bk.section(f"*{escape_mrkdwn(name)}*"), *out][:100],
    }


def breakdown_modal(out: list[bk.Block]) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": BREAKDOWN_CALLBACK,
        "title": {"type": "plain_text", "text": "Health"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": out[:100],
    }


def home_view(
    rows: Sequence[BoardRow],
    *,
    grouped: dict[str, str] | None,
    now: datetime,
) -> dict[str, Any]:
    """The Internal Health Board. `grouped` maps CSO id → name when leadership is looking."""
    reds = sum(1 for r in rows if r.band is Band.RED)
    out: list[bk.Block] = [
        bk.header("Internal Health Board"),
        bk.context(
            f"{len(rows)} client{'s' * (len(rows) != 1)} · {reds} Red · "
            f"updated {now:%Y-%m-%d %H:%M} UTC · trend vs 30 days ago"
        ),
    ]
    if not rows:
        out.append(bk.section("You don't own any clients yet: ask your lead to add you."))
    groups: list[tuple[str | None, list[BoardRow]]]
    if grouped is not None:
        by_cso: dict[str, list[BoardRow]] = {}
        for r in rows:
            by_cso.setdefault(r.cso_id, []).append(r)
        groups = [
            (grouped.get(k, k), v)
            for k, v in sorted(by_cso.items(), key=lambda kv: grouped.get(kv[0], kv[0]))
        ]
    else:
        groups = [(None, list(rows))]
    shown = 0
    for title, members in groups:
        if title is not None:
            out.append(bk.divider())
            out.append(bk.section(f"*{escape_mrkdwn(title)}*"))
        for r in members:
            out.append(
                bk.section(
                    row_line(r),
                    accessory=bk.button(r.action_label, r.action, r.slug),
                )
            )
            out.append(bk.context(row_details(r)))
            shown += 1
    more = len(rows) - shown
    cut = fit_home(
        out, f"…the board is cut to fit Slack; {more} more — run `csobot` reports for all."
    )
    if len(cut) < len(out):
        listed = sum(1 for b in cut if b.get("type") == "section" and "accessory" in b)
        cut[-1] = bk.context(
            f"…and {plural(len(rows) - listed, 'more client')} not shown (Slack allows 100 "
            "blocks): "
            "open `/health <client>` for any of them."
        )
    return {"type": "home", "blocks": cut}


def checklist_blocks(run: Run, name: str) -> tuple[list[bk.Block], str]:
    book = get_playbook(run.playbook_id)
    done = sum(1 for s in run.steps if s.done_at is not None)
    title = f"{book.name} playbook — {name} ({done}/{len(run.steps)} done)"
    out: list[bk.Block] = [bk.section(f"*{escape_mrkdwn(title)}*")]
    lines = []
    for step in run.steps:
        mark = ":white_check_mark:" if step.done_at else ":white_large_square:"
        due = f"due {step.due:%a %b %-d}"
        text = f"{mark} {escape_mrkdwn(step.text)} _{due}_"
        if step.done_at is None:
            out.append(bk.section(text, accessory=bk.button("Done", STEP_ACTION, str(step.id))))
        else:
            out.append(bk.section(text + (f" — <@{step.done_by}>" if step.done_by else "")))
        lines.append(f"{'[x]' if step.done_at else '[ ]'} {step.text} ({due})")
    if run.status == "completed":
        out.append(bk.context(":tada: Every step is done: the playbook is complete."))
    return bk.fit(out), bk.fallback(title + "\n" + "\n".join(lines))


# -- replies --------------------------------------------------------------------------------------

STALE_FORM = "This form is out of date: close it and run `/health <client> edit` again."
MODEL_INVALID = "The health model in the portfolio settings is not valid: {error}"


def stale_view(text: str = STALE_FORM) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Health signals"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [bk.section(text)],
    }


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def signals_saved_text(name: str, result: HealthScore, changes: Sequence[Change]) -> str:
    changed = ", ".join(f"{c.signal} {_num(c.before)} → {_num(c.after)}" for c in changes)
    return f"Health for *{name}* saved: {result.score:g} {result.band.value.capitalize()}." + (
        f" Changed: {changed}." if changed else " No signal changed."
    )


def nps_text(
    *,
    name: str,
    score: int,
    kind: NpsCategory,
    comment: str,
    signal: float | None,
    health: HealthScore | None,
    new: bool,
) -> str:
    if not new:
        return "That answer was already recorded."
    text = (
        f"NPS {score} ({kind}) recorded for *{name}*"
        + (f": “{comment}”" if comment else "")
        + (f". The NPS signal is now {signal:g}/10." if signal is not None else ".")
    )
    if health is not None:
        text += f" Health: {health.score:g} {health.band.value.capitalize()}."
    return text


NO_CONTRACT_END = (
    "{name} has no contract end in the portfolio: add `contract_end` to its entry and import "
    "it again."
)
NEW_END_TOO_EARLY = "The new end date must be after the current one ({end}). {usage}"
RENEWAL_VERBS = {Outcome.SIGNED: "signed", Outcome.EXTENDED: "extended", Outcome.CHURNED: "churned"}


def renewal_text(
    *, name: str, outcome: Outcome, end: date, new_end: date | None, arr_after: float, created: bool
) -> str:
    text = f"Recorded: *{name}* {RENEWAL_VERBS[outcome]} (the contract ending {end})"
    if new_end:
        text += f"; the new contract runs to {new_end}, ARR {arr_after:,.0f}"
    return text + ("." if created else ". (This corrects the outcome recorded before.)")


def qbr_held_text(quarter: str, name: str) -> str:
    return f"QBR {quarter} for *{name}* recorded as held."


def qbr_sent_text(quarter: str, name: str, cso: str, user_id: str) -> str:
    where = "your DM" if cso == user_id else f"<@{cso}>'s DM"
    return f"The {quarter} QBR for *{name}* is in {where}."


def qbr_not_sent_text(reason: str) -> str:
    return f"I couldn't send the QBR file ({reason or 'Slack error'})."


# -- nudges ---------------------------------------------------------------------------------------


def health_check_text(name: str, band: Band | None, cadence: str, last: date | None) -> str:
    return (
        f"Health check due for *{name}*"
        + (f" ({band.value.capitalize()}: {cadence})" if band else " (never checked)")
        + (f". Last check {last}." if last else ". Set its signals to score it.")
    )


def moved_text(moved: Sequence[tuple[str, float | None, float | None]]) -> str:
    if not moved:
        return "No sub-signal moved by a point or more."
    parts = [
        f"{name.replace('_', ' ')} {'—' if old is None else f'{old:g}'} → "
        f"{'—' if new is None else f'{new:g}'}"
        for name, old, new in moved[:6]
    ]
    return "Signals that moved: " + ", ".join(parts) + "."


def alert_text(
    name: str, message: str, moved: Sequence[tuple[str, float | None, float | None]]
) -> str:
    return f":rotating_light: *{name}*: {message}. {moved_text(moved)}"


def escalation_text(
    name: str, since: date | None, day: date, owner: str, recent: Sequence[HistoryItem]
) -> str:
    history = ", ".join(f"{d} {s:g} {Band(b).value}" for d, s, b in recent)
    return (
        f":warning: *{name}* has been Red since {since} "
        f"({(day - since).days if since else '?'} days) with no active playbook. "
        f"CSO: {owner}. History: {history}."
    )


def renewal_nudge_text(
    name: str, slug: str, left: int, end: date, stage_title: str, activity: str
) -> str:
    return (
        f":calendar: *{name}* renews in {left} days ({end}) — {stage_title}: "
        f"{activity} Record the outcome with `/renewal {slug} signed|churned|"
        f"extended YYYY-MM-DD`."
    )


def step_due_text(name: str, playbook_id: str, due: date, text: str) -> str:
    return f":ballot_box_with_check: *{name}* — {playbook_id} step due {due}: {text}"


WHY = {
    "health_check": "health checks weekly for Red, every two weeks for Yellow, monthly for Green.",
    "health_alert": "a fall of 15 points in 7 days or a change of band is caught the same day.",
    "health_escalation": "no account sits in Red for more than 14 days without an active "
    "intervention plan.",
    "renewal": "renewals start 120 days out; each milestone has an owner.",
}


def why(kind: str) -> bk.Block:
    return bk.context(
        f"Why: {WHY[kind]}",
        "Tune it: `/cso prefs quiet 18:00-09:00`; record outcomes with `/health` or `/renewal`.",
    )
