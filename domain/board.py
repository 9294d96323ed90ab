"""The Internal Health Board (docs/process.md, "Internal Health Board"): one row per client,
computed from its score history.

Pure: the caller loads the history and facts with a fixed number of queries and passes them in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel

from domain.health import Band, HistoryItem, days_in_band, next_check_due, trend

BAND_ORDER = {Band.RED: 0, Band.YELLOW: 1, Band.GREEN: 2}
BAND_EMOJI = {
    Band.GREEN: ":large_green_circle:",
    Band.YELLOW: ":large_yellow_circle:",
    Band.RED: ":red_circle:",
}
TREND_ARROW = {"up": "↑", "down": "↓", "flat": "→"}

Action = Literal["health_start_playbook", "health_edit", "health_view"]


class BoardRow(BaseModel):
    client_id: int
    slug: str
    name: str
    cso_id: str
    score: float | None
    band: Band | None
    trend_delta: float | None
    trend_direction: Literal["up", "down", "flat"] | None
    days_in_band: int | None
    last_touchpoint_days: int | None
    open_flags: int
    days_to_renewal: int | None
    playbook: str | None = None  # "low-engagement 2/5"
    check_due: date | None = None
    stage: str | None = None  # the lifecycle stage's label, when the caller knows it
    action: Action
    action_label: str

    @property
    def sort_key(self) -> tuple[int, float, str]:
        order = BAND_ORDER[self.band] if self.band is not None else 3
        return (order, self.score if self.score is not None else 0.0, self.slug)


def board_row(
    *,
    client_id: int,
    slug: str,
    name: str,
    cso_id: str,
    history: Sequence[HistoryItem],
    last_check: date | None,
    today: date,
    last_touchpoint: date | None,
    open_flags: int,
    contract_end: date | None,
    playbook: str | None,
    trend_days: int = 30,
    band_started: date | None = None,
) -> BoardRow:
    """One client's row. The action: start a playbook when Red without one, update the
    signals when the band's health check is due (or it was never scored), else view.
    `band_started` (the first day of the current band's run, when the caller keeps it) saves
    walking the whole history for "days in band"."""
    latest = max(history, key=lambda h: h[0]) if history else None
    band = Band(latest[2]) if latest else None
    t = trend(history, today, trend_days) if history else None
    check_due = next_check_due(band, last_check) if band is not None and last_check else None
    action: Action
    if band is Band.RED and playbook is None:
        action, label = "health_start_playbook", "Start playbook"
    elif band is None or (check_due is not None and check_due <= today):
        action, label = "health_edit", "Update signals"
    else:
        action, label = "health_view", "Breakdown"
    return BoardRow(
        client_id=client_id,
        slug=slug,
        name=name,
        cso_id=cso_id,
        score=float(latest[1]) if latest else None,
        band=band,
        trend_delta=t.delta if t else None,
        trend_direction=t.direction if t else None,
        days_in_band=(
            (today - band_started).days
            if band_started is not None and history
            else days_in_band(history, today)
            if history
            else None
        ),
        last_touchpoint_days=(today - last_touchpoint).days if last_touchpoint else None,
        open_flags=open_flags,
        days_to_renewal=(contract_end - today).days if contract_end else None,
        playbook=playbook,
        check_due=check_due,
        action=action,
        action_label=label,
    )


def sort_rows(rows: Sequence[BoardRow]) -> list[BoardRow]:
    """Red first, then Yellow, Green, unscored; lowest score first within a band."""
    return sorted(rows, key=lambda r: r.sort_key)


def row_line(row: BoardRow) -> str:
    """One mrkdwn line for the board."""
    if row.band is None or row.score is None:
        head = f"*{row.name}* — not scored yet"
    else:
        head = f"{BAND_EMOJI[row.band]} *{row.name}* — {row.score:g} {row.band.value.capitalize()}"
    parts = [head]
    if row.trend_delta is not None and row.trend_direction is not None:
        parts.append(f"{TREND_ARROW[row.trend_direction]} {row.trend_delta:+g} vs 30d")
    if row.days_in_band is not None:
        parts.append(f"{row.days_in_band}d in band")
    return " · ".join(parts)


def row_details(row: BoardRow) -> str:
    last = (
        "no touchpoint yet"
        if row.last_touchpoint_days is None
        else "touched today"
        if row.last_touchpoint_days == 0
        else f"last touch {row.last_touchpoint_days}d ago"
    )
    renewal = (
        "no renewal date"
        if row.days_to_renewal is None
        else f"renewal in {row.days_to_renewal}d"
        if row.days_to_renewal >= 0
        else f"renewal {-row.days_to_renewal}d overdue"
    )
    bits = [last, f"{row.open_flags} open flag{'s' * (row.open_flags != 1)}", renewal]
    if row.playbook:
        bits.append(f"playbook {row.playbook}")
    if row.stage:
        bits.append(f"stage {row.stage}")
    return " · ".join(bits)


# -- which playbook a weak signal suggests ----------------------------------------------------

SIGNAL_KINDS: dict[str, str] = {
    "executive_engagement": "low_engagement",
    "meeting_attendance": "low_engagement",
    "response_time": "low_engagement",
    "nps": "low_engagement",
    "csm_interactions": "low_engagement",
    "champion_access": "low_engagement",
    "login_frequency": "low_adoption",
    "feature_adoption": "low_adoption",
    "active_vs_licensed": "low_adoption",
    "dau_wau_ratio": "low_adoption",
    "depth_of_use": "low_adoption",
    "training_completion": "low_adoption",
}
WEAK_SIGNAL = 5.0


def suggested_playbook(
    band: Band | None, weakest: Sequence[tuple[str, float]], flag_kinds: Sequence[str] = ()
) -> str | None:
    """A detected flag's playbook first (competitor mention → competitor-evaluation...), else,
    when the client is not Green or a signal is below 5, the playbook of its weakest
    engagement or adoption signal."""
    from domain.playbooks import suggest_playbook

    for kind in flag_kinds:
        found = suggest_playbook(kind)
        if found:
            return found
    if band is Band.GREEN and all(v >= WEAK_SIGNAL for _, v in weakest):
        return None
    for name, _ in weakest:
        if name in SIGNAL_KINDS:
            return suggest_playbook(SIGNAL_KINDS[name])
    return None
