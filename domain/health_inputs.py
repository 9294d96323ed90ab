"""Where a health score's inputs come from (docs/process.md, "Health model"): the signals
the bot derives itself, the product-usage CSV, and how a new set of inputs is composed from
the previous one without losing a derived value under a manual override ("CSM override without
tracking" is the failure mode this prevents).
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.health import DEFAULT_MODEL, SIGNAL_MAX, SIGNAL_MIN, HealthModel, parse_health_model

# -- which model --------------------------------------------------------------------------------


def model_from_settings(settings: Mapping[str, Any] | None) -> HealthModel:
    """The organisation's model: `settings.health_model` is a shipped model id
    ("three-pillar", "five-category") or a whole model (pillars, weights, bands,
    segment_weights). Absent → the three pillars. Raises HealthModelError."""
    from domain.health import get_model

    raw = (settings or {}).get("health_model")
    if raw is None:
        return DEFAULT_MODEL
    if isinstance(raw, str):
        return get_model(raw)
    return parse_health_model(raw)


# -- derived signals ----------------------------------------------------------------------------

DERIVED_SIGNALS: tuple[str, ...] = (
    "response_time",
    "nps",
    "meeting_attendance",
    "support_tickets_inverse",  # from the support requests; a usage CSV value overrides it
)
DERIVED_HELP: dict[str, str] = {
    "response_time": "median time from a client message to the team's next message in the "
    "client channel, last 30 days",
    "nps": "mean of the NPS answers (/nps) of the last 180 days",
    "meeting_attendance": "logged meeting touchpoints in the last 28 days against one a week",
    "support_tickets_inverse": "support requests of the last 30 days per active client person,"
    ' breaches and open blockers (docs/process.md, "Support")',
}
RESPONSE_WINDOW_DAYS = 30
NPS_WINDOW_DAYS = 180
MEETING_WINDOW_DAYS = 28
MEETINGS_EXPECTED_PER_WEEK = 1.0

# (hours at most, signal value): answered within the hour is a 10, two days or more a 0.
RESPONSE_STEPS: tuple[tuple[float, float], ...] = (
    (1, 10.0),
    (4, 8.0),
    (8, 6.0),
    (24, 4.0),
    (48, 2.0),
)
UNANSWERED_AFTER = timedelta(hours=48)


def response_delays(
    asked: Sequence[datetime], answered: Sequence[datetime], now: datetime
) -> list[timedelta]:
    """For each client message, the wait until the team's next message. A message still
    unanswered counts as its wait so far once that passes 48 hours, and is left out before
    (it may yet be answered in time)."""
    replies = sorted(answered)
    out: list[timedelta] = []
    for at in sorted(asked):
        i = bisect_right(replies, at)
        if i < len(replies):
            out.append(replies[i] - at)
        elif now - at >= UNANSWERED_AFTER:
            out.append(now - at)
    return out


def response_time_signal(delays: Sequence[timedelta]) -> float | None:
    """Median wait → 0..10: ≤ 1 h 10 · ≤ 4 h 8 · ≤ 8 h 6 · ≤ 24 h 4 · ≤ 48 h 2 · longer 0.
    None without any client message to answer."""
    if not delays:
        return None
    hours = statistics.median(d.total_seconds() / 3600 for d in delays)
    for limit, value in RESPONSE_STEPS:
        if hours <= limit:
            return value
    return 0.0


def nps_signal(answers: Iterable[int]) -> float | None:
    """Mean of the 0–10 NPS answers, one decimal; None without answers."""
    values = list(answers)
    if not values:
        return None
    return round(math.fsum(values) / len(values), 1)


def meeting_attendance_signal(
    meetings: int,
    window_days: int = MEETING_WINDOW_DAYS,
    per_week: float = MEETINGS_EXPECTED_PER_WEEK,
) -> float:
    """Meetings held against the expected cadence (docs/process.md, "Cadences": a weekly
    presentation): meetings / (window weeks × per_week) × 10, capped at 10."""
    expected = window_days / 7 * per_week
    if expected <= 0:
        raise ValueError("the expected meeting count must be positive")
    return round(min(SIGNAL_MAX, meetings / expected * SIGNAL_MAX), 1)


# -- composing inputs -------------------------------------------------------------------------

Source = Literal["manual", "import", "derived", "override"]


class Change(BaseModel):
    signal: str
    before: float | None
    after: float | None
    source: str


class SignalState(BaseModel):
    """Everything a snapshot keeps about its inputs."""

    values: dict[str, float] = Field(default_factory=dict, description="what the score used")
    derived: dict[str, float] = Field(default_factory=dict)
    overrides: dict[str, float] = Field(default_factory=dict)
    sources: dict[str, str] = Field(default_factory=dict)


def compose(
    previous: SignalState,
    *,
    manual: Mapping[str, float | None] | None = None,
    imported: Mapping[str, float] | None = None,
    derived: Mapping[str, float | None] | None = None,
) -> tuple[SignalState, list[Change]]:
    """The next inputs from the previous ones.

    * derived values are refreshed; they count unless a person overrode that signal;
    * a manual value for a derived signal that differs from the derived value is an
      override (kept beside it); giving the derived value back, or clearing the field,
      drops the override; with nothing derived yet it stands in until a measurement
      arrives; a manual value elsewhere replaces the value, None clears it;
    * imported values count like manual ones.
    Returns the new state and the signals whose effective value changed.
    """
    state = previous.model_copy(deep=True)
    for name, value in (derived or {}).items():
        if value is None:
            state.derived.pop(name, None)
            if name not in state.overrides:
                state.values.pop(name, None)
                state.sources.pop(name, None)
            continue
        state.derived[name] = float(value)
        if name not in state.overrides:
            state.values[name] = float(value)
            state.sources[name] = "derived"
    for name, value in (imported or {}).items():
        _set_person_value(state, name, float(value), "import")
    for name, value in (manual or {}).items():
        _set_person_value(state, name, None if value is None else float(value), "manual")
    changes = [
        Change(
            signal=name,
            before=previous.values.get(name),
            after=state.values.get(name),
            source=state.sources.get(name, "cleared"),
        )
        for name in dict.fromkeys([*previous.values, *state.values])
        if previous.values.get(name) != state.values.get(name)
    ]
    return state, changes


def _set_person_value(state: SignalState, name: str, value: float | None, source: str) -> None:
    derived = state.derived.get(name)
    if name in DERIVED_SIGNALS and derived is not None:
        if value is None or value == derived:
            state.overrides.pop(name, None)
            state.values[name], state.sources[name] = derived, "derived"
        else:
            state.overrides[name] = value
            state.values[name], state.sources[name] = value, "override"
        return
    # Nothing measured yet: the person's value stands in until a measurement arrives.
    state.overrides.pop(name, None)
    if value is None:
        state.values.pop(name, None)
        state.sources.pop(name, None)
        return
    state.values[name], state.sources[name] = value, source


# -- the usage CSV --------------------------------------------------------------------------------

USAGE_CSV_HELP = """\
usage.csv — one value per row, with a header line:

  client,date,signal,value
  acme,2026-11-02,login_frequency,8
  acme,2026-11-02,active_users,34

client   a client slug from the portfolio
date     YYYY-MM-DD, the day the value was measured
signal   a sub-signal of the health model (0–10; e.g. login_frequency, feature_adoption,
         active_vs_licensed, support_tickets_inverse) or a usage fact:
         active_users (count), premium_feature_requests (count),
         new_department_interest (0 or 1)
value    a number

Bad rows are reported with their line number; good rows are kept."""

FACTS: dict[str, str] = {
    "active_users": "count",
    "premium_feature_requests": "count",
    "new_department_interest": "flag",
}
_HEADER_ALIASES = {
    "client": "client",
    "client_slug": "client",
    "slug": "client",
    "date": "date",
    "day": "date",
    "signal": "signal",
    "value": "value",
}


class UsageRow(BaseModel):
    line: int
    client: str
    day: date
    signal: str
    value: float


class UsageImport(BaseModel):
    rows: list[UsageRow] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)


def parse_usage_csv(
    text: str, known_clients: Iterable[str], model: HealthModel, *, today: date | None = None
) -> UsageImport:
    """Parse a usage export. Each bad row becomes "line N: what is wrong"; the rest are kept.
    A missing or wrong header is one error and no rows."""
    from domain.commands import suggest

    clients = set(known_clients)
    signals = set(model.signal_names)
    out = UsageImport()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header: dict[str, int] | None = None
    for raw in reader:
        line = reader.line_num
        if not raw or all(not cell.strip() for cell in raw) or raw[0].lstrip().startswith("#"):
            continue
        if header is None:
            names = [_HEADER_ALIASES.get(c.strip().lower(), "") for c in raw]
            if not {"client", "date", "signal", "value"} <= set(names):
                out.errors.append(
                    f"line {line}: the first line must be the header client,date,signal,value"
                )
                return out
            header = {n: i for i, n in enumerate(names) if n}
            continue
        cells = {k: (raw[i].strip() if i < len(raw) else "") for k, i in header.items()}
        problems: list[str] = []
        slug = cells["client"].lower()
        if slug not in clients:
            guess = suggest(slug, clients)
            problems.append(
                f'unknown client "{cells["client"]}"'
                + (f" (did you mean {guess}?)" if guess else "")
            )
        day: date | None = None
        try:
            day = date.fromisoformat(cells["date"])
        except ValueError:
            problems.append(f'"{cells["date"]}" is not a date like 2026-11-02')
        if day is not None and today is not None and day > today:
            problems.append(f"{day} is in the future")
        signal = cells["signal"].lower()
        is_fact = signal in FACTS
        if not is_fact and signal not in signals:
            guess = suggest(signal, [*signals, *FACTS])
            problems.append(
                f'unknown signal "{cells["signal"]}"'
                + (f" (did you mean {guess}?)" if guess else f" for model {model.id}")
            )
        value: float | None = None
        try:
            value = float(cells["value"])
            if math.isnan(value) or math.isinf(value):
                raise ValueError
        except ValueError:
            problems.append(f'value "{cells["value"]}" is not a number')
        if value is not None and not problems:
            if is_fact and FACTS[signal] == "flag" and value not in (0, 1):
                problems.append(f"{signal} is 0 or 1, not {value:g}")
            elif is_fact and (value < 0 or value != int(value)):
                problems.append(f"{signal} is a whole count, not {value:g}")
            elif not is_fact and not SIGNAL_MIN <= value <= SIGNAL_MAX:
                problems.append(f"{signal} is 0–10, not {value:g}")
        if problems:
            out.errors.append(f"line {line}: " + "; ".join(problems))
            continue
        assert day is not None and value is not None
        out.rows.append(UsageRow(line=line, client=slug, day=day, signal=signal, value=value))
    if header is None:
        out.errors.append("the file is empty: expected the header client,date,signal,value")
    return out
