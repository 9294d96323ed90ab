"""Account health (docs/process.md, "Health model"): declarative, validated scoring models
and the rules that read a client's score history (alerts, days in band, trend, cadence, escalation).

A model is data: pillars with weights and 0–10 sub-signals, band thresholds, and optional
per-segment weights. `score()` is pure arithmetic over a dict of sub-signal values:

    score = Σ over pillars with data of  mean(pillar's sub-signals) × weight × 10

Weights of pillars with no data are dropped and the rest renormalised to sum to 1, and the
result says which pillars and sub-signals were missing.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from enum import StrEnum
from importlib.resources import files
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain.onboarding import Stage
from domain.portfolio import Segment

WEIGHT_TOLERANCE = 0.001
SIGNAL_MIN = 0.0
SIGNAL_MAX = 10.0


class Band(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class HealthModelError(ValueError):
    """A bad health model or bad inputs: each problem names the pillar or the signal."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SignalSpec(_Strict):
    """One 0–10 sub-signal; higher is always healthier (e.g. `support_tickets_inverse`)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = ""
    description: str = ""

    @model_validator(mode="after")
    def _default_label(self) -> SignalSpec:
        if not self.label:
            self.label = self.name.replace("_", " ").capitalize()
        return self


class PillarSpec(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = ""
    weight: float = Field(ge=0, le=1, description="fraction of the score, 0..1")
    weight_range: tuple[float, float] | None = Field(
        default=None,
        description="allowed weight range (the process guidance), checked on overrides",
    )
    signals: list[SignalSpec] = Field(min_length=1)

    @field_validator("signals", mode="before")
    @classmethod
    def _names_as_signals(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _check(self) -> PillarSpec:
        if not self.label:
            self.label = self.name.replace("_", " ").capitalize()
        names = [s.name for s in self.signals]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f'pillar "{self.name}" lists {", ".join(dupes)} twice')
        if self.weight_range is not None:
            low, high = self.weight_range
            if not 0 <= low <= high <= 1:
                raise ValueError(
                    f'pillar "{self.name}": weight_range must be 0 <= low <= high <= 1'
                )
        return self

    @property
    def signal_names(self) -> list[str]:
        return [s.name for s in self.signals]


class BandThresholds(_Strict):
    """Green at or above `green`, Yellow at or above `yellow`, Red below."""

    green: float = Field(default=80, gt=0, le=100)
    yellow: float = Field(default=60, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> BandThresholds:
        if self.yellow >= self.green:
            raise ValueError(f"bands: yellow ({self.yellow}) must be below green ({self.green})")
        return self


def _as_fractions(weights: Mapping[str, float]) -> dict[str, float]:
    """Weights may be written as fractions (0.4) or percentages (40)."""
    total = sum(weights.values())
    if abs(total - 100) <= 100 * WEIGHT_TOLERANCE:
        return {k: v / 100 for k, v in weights.items()}
    return dict(weights)


class HealthModel(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    description: str = ""
    pillars: list[PillarSpec] = Field(min_length=1)
    bands: BandThresholds = Field(default_factory=BandThresholds)
    segment_weights: dict[Segment, dict[str, float]] = Field(
        default_factory=dict,
        description="per-segment pillar weights; unnamed pillars keep the default weight",
    )

    @model_validator(mode="before")
    @classmethod
    def _percent_weights(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        pillars = data.get("pillars")
        if isinstance(pillars, list) and all(
            isinstance(p, dict) and isinstance(p.get("weight"), int | float) for p in pillars
        ):
            fractions = _as_fractions({str(i): p["weight"] for i, p in enumerate(pillars)})
            data["pillars"] = [{**p, "weight": fractions[str(i)]} for i, p in enumerate(pillars)]
        overrides = data.get("segment_weights")
        if isinstance(overrides, dict):
            data["segment_weights"] = {
                seg: _as_fractions(w) if isinstance(w, dict) else w for seg, w in overrides.items()
            }
        return data

    @model_validator(mode="after")
    def _check(self) -> HealthModel:
        problems: list[str] = []
        names = [p.name for p in self.pillars]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f'pillar "{dup}" is listed twice')
        seen: dict[str, str] = {}
        for pillar in self.pillars:
            for sig in pillar.signal_names:
                if sig in seen and seen[sig] != pillar.name:
                    problems.append(
                        f'signal "{sig}" is in both pillar "{seen[sig]}" and "{pillar.name}"'
                    )
                seen.setdefault(sig, pillar.name)
        problems += _weight_problems({p.name: p.weight for p in self.pillars}, "pillar weights")
        problems += self._range_problems({p.name: p.weight for p in self.pillars}, "")
        for segment, override in self.segment_weights.items():
            where = f"segment_weights.{segment.value}"
            unknown = sorted(set(override) - set(names))
            if unknown:
                problems.append(
                    f"{where}: unknown pillar {', '.join(unknown)} (pillars: {', '.join(names)})"
                )
                continue
            bad = [k for k, v in override.items() if not 0 <= v <= 1 or math.isnan(v)]
            if bad:
                problems.append(f"{where}: weight of {', '.join(bad)} must be between 0 and 1")
                continue
            merged = {p.name: override.get(p.name, p.weight) for p in self.pillars}
            problems += _weight_problems(merged, where)
            problems += self._range_problems(merged, f"{where}: ")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _range_problems(self, weights: Mapping[str, float], where: str) -> list[str]:
        out = []
        for p in self.pillars:
            if p.weight_range is None:
                continue
            low, high = p.weight_range
            w = weights[p.name]
            if not low - WEIGHT_TOLERANCE <= w <= high + WEIGHT_TOLERANCE:
                out.append(
                    f'{where}pillar "{p.name}" weight {w:.0%} is outside its range '
                    f"{low:.0%}–{high:.0%}"
                )
        return out

    # -- reading the model -------------------------------------------------------------

    @property
    def signal_names(self) -> list[str]:
        return [s for p in self.pillars for s in p.signal_names]

    def pillar_of(self, signal: str) -> PillarSpec:
        for pillar in self.pillars:
            if signal in pillar.signal_names:
                return pillar
        raise HealthModelError([self._unknown_signal_message([signal])])

    def weights(self, segment: Segment | str | None = None) -> dict[str, float]:
        """Pillar weights (fractions summing to 1) for a segment; None → the defaults."""
        base = {p.name: p.weight for p in self.pillars}
        if segment is None:
            return base
        try:
            seg = Segment(segment)
        except ValueError:
            valid = ", ".join(s.value for s in Segment)
            raise HealthModelError([f'unknown segment "{segment}" (use one of: {valid})']) from None
        return {**base, **self.segment_weights.get(seg, {})}

    def band(self, score: float) -> Band:
        if score >= self.bands.green:
            return Band.GREEN
        if score >= self.bands.yellow:
            return Band.YELLOW
        return Band.RED

    def _unknown_signal_message(self, unknown: Sequence[str]) -> str:
        return (
            f"unknown signal {', '.join(sorted(unknown))} for model {self.id} "
            f"(known: {', '.join(self.signal_names)})"
        )


def _weight_problems(weights: Mapping[str, float], where: str) -> list[str]:
    total = sum(weights.values())
    if abs(total - 1) > WEIGHT_TOLERANCE:
        parts = ", ".join(f"{k} {v:.1%}" for k, v in weights.items())
        return [f"{where} sum to {total:.1%}, not 100% ({parts})"]
    return []


def _error_location(loc: Sequence[Any], data: Any) -> str:
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            entry = node[item] if isinstance(node, list) and item < len(node) else None
            name = entry.get("name") if isinstance(entry, dict) else None
            parts.append(f"[{item}]" + (f" ({name})" if name else ""))
            node = entry
        else:
            parts.append(("." if parts else "") + str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts)


def parse_health_model(data: Mapping[str, Any]) -> HealthModel:
    """Validate a model from plain data (e.g. the portfolio's settings), with clear errors."""
    try:
        return HealthModel.model_validate(dict(data))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            where = _error_location(err["loc"], data)
            problems.append(f"{where}: {msg}" if where else msg)
        raise HealthModelError(problems) from None


# -- the shipped models -------------------------------------------------------------------


class _ModelFile(_Strict):
    models: list[dict[str, Any]] = Field(min_length=1)


def parse_health_models(text: str) -> dict[str, HealthModel]:
    """Every model of a YAML file shaped like `domain/health_models.yaml`, validated."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise HealthModelError([f"health models: not valid YAML ({exc})"]) from None
    try:
        parsed = _ModelFile.model_validate(data)
    except ValidationError as exc:
        raise HealthModelError(
            [f"health models: {err['msg'].removeprefix('Value error, ')}" for err in exc.errors()]
        ) from None
    out: dict[str, HealthModel] = {}
    for raw in parsed.models:
        model = parse_health_model(raw)
        if model.id in out:
            raise HealthModelError([f'health models: "{model.id}" is listed twice'])
        out[model.id] = model
    return out


def _shipped_models() -> dict[str, HealthModel]:
    text = files("domain").joinpath("health_models.yaml").read_text(encoding="utf-8")
    return parse_health_models(text)


MODELS: dict[str, HealthModel] = _shipped_models()
THREE_PILLAR = MODELS["three-pillar"]
FIVE_CATEGORY = MODELS["five-category"]
DEFAULT_MODEL = THREE_PILLAR


def get_model(model_id: str) -> HealthModel:
    try:
        return MODELS[model_id]
    except KeyError:
        raise HealthModelError(
            [f'unknown health model "{model_id}" (use one of: {", ".join(MODELS)})']
        ) from None


# -- scoring --------------------------------------------------------------------------------


class SignalValue(BaseModel):
    name: str
    pillar: str
    value: float


class PillarScore(BaseModel):
    name: str
    label: str
    mean: float | None = Field(description="mean of the sub-signals given, 0..10")
    weight: float = Field(description="the weight actually applied (after renormalising)")
    contribution: float = Field(description="points this pillar adds to the score")
    missing_signals: list[str] = Field(default_factory=list)


class HealthScore(BaseModel):
    model_id: str
    segment: Segment | None = None
    score: float = Field(description="0..100, rounded to 1 decimal; the band uses this value")
    band: Band
    pillars: list[PillarScore]
    weakest: list[SignalValue] = Field(description="lowest sub-signals below 10, weakest first")
    missing_signals: list[str] = Field(default_factory=list)
    missing_pillars: list[str] = Field(default_factory=list)
    inputs: dict[str, float] = Field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.missing_signals


def check_signals(model: HealthModel, signals: Mapping[str, float | None]) -> dict[str, float]:
    """The given values (None = not measured), or HealthModelError naming each bad signal."""
    problems: list[str] = []
    known = set(model.signal_names)
    unknown = [name for name in signals if name not in known]
    if unknown:
        problems.append(model._unknown_signal_message(unknown))
    values: dict[str, float] = {}
    for name, value in signals.items():
        if name not in known or value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f'signal "{name}" ({model.pillar_of(name).name}): not a number')
        elif math.isnan(value) or not SIGNAL_MIN <= value <= SIGNAL_MAX:
            problems.append(
                f'signal "{name}" ({model.pillar_of(name).name}): {value} is outside 0..10'
            )
        else:
            values[name] = float(value)
    if problems:
        raise HealthModelError(problems)
    return values


def score(
    model: HealthModel,
    signals: Mapping[str, float | None],
    segment: Segment | str | None = None,
    *,
    weakest: int = 3,
) -> HealthScore:
    """Score 0..100 = Σ pillar_mean × weight × 10 over the pillars that have data.

    A pillar with no sub-signal given is left out and the remaining weights renormalised;
    a pillar with some sub-signals uses the mean of those given. No data at all is an error.
    """
    values = check_signals(model, signals)
    weights = model.weights(segment)
    seg = Segment(segment) if segment is not None else None
    present: list[tuple[PillarSpec, float]] = []
    missing_pillars: list[str] = []
    missing_signals: list[str] = []
    for pillar in model.pillars:
        got = [values[s] for s in pillar.signal_names if s in values]
        missing_signals += [s for s in pillar.signal_names if s not in values]
        if got:
            present.append((pillar, math.fsum(got) / len(got)))
        else:
            missing_pillars.append(pillar.name)
    if not present:
        raise HealthModelError([f"no signals given for model {model.id}: nothing to score"])
    total_weight = math.fsum(weights[p.name] for p, _ in present)
    if total_weight <= 0:
        raise HealthModelError(
            [f"pillars with data ({', '.join(p.name for p, _ in present)}) all weigh 0%"]
        )
    pillar_scores: list[PillarScore] = []
    raw = 0.0
    means = dict((p.name, m) for p, m in present)
    for pillar in model.pillars:
        mean = means.get(pillar.name)
        weight = weights[pillar.name] / total_weight if mean is not None else 0.0
        contribution = mean * weight * 10 if mean is not None else 0.0
        raw += contribution
        pillar_scores.append(
            PillarScore(
                name=pillar.name,
                label=pillar.label,
                mean=round(mean, 2) if mean is not None else None,
                weight=round(weight, 4),
                contribution=round(contribution, 2),
                missing_signals=[s for s in pillar.signal_names if s not in values],
            )
        )
    # Round away float noise first (8.4 × 10 = 83.99999…), then to one decimal.
    final = round(round(raw, 6), 1)
    # Each signal's pillar and place in the model (the first, as pillar_of and index give),
    # read once rather than once per signal.
    pillar_names: dict[str, str] = {}
    for pillar in model.pillars:
        for s in pillar.signal_names:
            pillar_names.setdefault(s, pillar.name)
    order = {s: i for i, s in reversed(list(enumerate(model.signal_names)))}
    ranked = sorted(
        (
            SignalValue(name=s, pillar=pillar_names[s], value=v)
            for s, v in values.items()  # known signals only (check_signals)
            if v < SIGNAL_MAX
        ),
        key=lambda sv: (sv.value, order[sv.name]),
    )
    return HealthScore(
        model_id=model.id,
        segment=seg,
        score=final,
        band=model.band(final),
        pillars=pillar_scores,
        weakest=ranked[:weakest],
        missing_signals=missing_signals,
        missing_pillars=missing_pillars,
        inputs=values,
    )


def signals_moved(
    before: Mapping[str, float | None], after: Mapping[str, float | None], *, min_change: float = 1
) -> list[tuple[str, float | None, float | None]]:
    """Sub-signals that changed by at least `min_change` (or appeared/disappeared), biggest
    fall first — what an alert shows as "the signals that moved"."""
    moved: list[tuple[str, float | None, float | None]] = []
    for name in dict.fromkeys([*before, *after]):
        old, new = before.get(name), after.get(name)
        if old is None and new is None:
            continue
        if old is None or new is None or abs(new - old) >= min_change:
            moved.append((name, old, new))

    def fall(item: tuple[str, float | None, float | None]) -> float:
        _, old, new = item
        return (new or 0.0) - (old or 0.0)

    return sorted(moved, key=fall)


# -- history --------------------------------------------------------------------------------

HistoryItem = tuple[date, float, Band | str]
"""One recorded score: (day, score, band). Several on one day → the last one counts."""

DROP_POINTS = 15.0
DROP_WINDOW_DAYS = 7
ESCALATE_RED_AFTER_DAYS = 14


class HealthAlert(BaseModel):
    kind: Literal["drop", "band_change"]
    on: date = Field(description="day of the score that triggered the alert")
    score: float
    previous_score: float
    since: date = Field(description="day of the score compared against")
    from_band: Band
    to_band: Band
    message: str


class Trend(BaseModel):
    current: float
    previous: float
    baseline_day: date
    delta: float
    direction: Literal["up", "down", "flat"]


def _band(band: Band | str) -> Band:
    """`Band(band)` without the enum's lookup (a history holds thousands of them)."""
    return band if isinstance(band, Band) else _BANDS.get(band) or Band(band)


_BANDS: dict[str, Band] = {b.value: b for b in Band}


def _normalise(history: Sequence[HistoryItem], today: date) -> list[tuple[date, float, Band]]:
    """Points on or before today, oldest first, one per day (the last given wins)."""
    by_day: dict[date, tuple[date, float, Band]] = {}
    for day, value, band in history:
        if day <= today:
            by_day[day] = (day, float(value), _band(band))
    return [by_day[d] for d in sorted(by_day)]


def current_band(history: Sequence[HistoryItem], today: date) -> Band | None:
    """The band of the latest score on or before today (of a day's scores, the last given)."""
    latest: HistoryItem | None = None
    for item in history:
        if item[0] <= today and (latest is None or item[0] >= latest[0]):
            latest = item
    return None if latest is None else _band(latest[2])


def detect_change(history: Sequence[HistoryItem], today: date) -> list[HealthAlert]:
    """Alerts about the latest score on or before `today`:

    * `drop`: it is ≥ 15 points below the highest score of the 7 days before it;
    * `band_change`: its band differs from the previous score's band.

    Each alert carries the day of that score (`on`) so a caller can deduplicate.
    """
    points = _normalise(history, today)
    if len(points) < 2:
        return []
    day, value, band = points[-1]
    alerts: list[HealthAlert] = []
    window = [p for p in points[:-1] if (day - p[0]).days <= DROP_WINDOW_DAYS]
    if window:
        peak = max(window, key=lambda p: (p[1], p[0]))
        fall = round(peak[1] - value, 1)
        if fall >= DROP_POINTS:
            days = (day - peak[0]).days
            alerts.append(
                HealthAlert(
                    kind="drop",
                    on=day,
                    score=value,
                    previous_score=peak[1],
                    since=peak[0],
                    from_band=peak[2],
                    to_band=band,
                    message=f"Health fell {fall:g} points in {days} day{'s' * (days != 1)} "
                    f"({peak[1]:g} → {value:g})",
                )
            )
    prev_day, prev_value, prev_band = points[-2]
    if prev_band != band:
        alerts.append(
            HealthAlert(
                kind="band_change",
                on=day,
                score=value,
                previous_score=prev_value,
                since=prev_day,
                from_band=prev_band,
                to_band=band,
                message=f"Health moved from {prev_band.value.capitalize()} to "
                f"{band.value.capitalize()} ({prev_value:g} → {value:g})",
            )
        )
    return alerts


def band_since(history: Sequence[HistoryItem], today: date) -> date | None:
    """Day of the first score of the current unbroken run in the current band."""
    points = _normalise(history, today)
    if not points:
        return None
    band = points[-1][2]
    start = points[-1][0]
    for day, _, b in reversed(points):
        if b != band:
            break
        start = day
    return start


def days_in_band(history: Sequence[HistoryItem], today: date) -> int:
    """Days from the first score of the current band's run to today (0 with no history).
    History that starts inside the band gives a lower bound."""
    start = band_since(history, today)
    return (today - start).days if start is not None else 0


def trend(
    history: Sequence[HistoryItem], today: date, days: int = 30, *, flat_within: float = 2.0
) -> Trend | None:
    """Latest score against the last score on or before `today − days` (or the oldest score
    when history is shorter). None with fewer than two scores."""
    points = _normalise(history, today)
    if len(points) < 2:
        return None
    cutoff = today - timedelta(days=days)
    older = [p for p in points[:-1] if p[0] <= cutoff]
    base = older[-1] if older else points[0]
    current = points[-1][1]
    delta = round(current - base[1], 1)
    direction: Literal["up", "down", "flat"] = (
        "flat" if abs(delta) < flat_within else "up" if delta > 0 else "down"
    )
    return Trend(
        current=current, previous=base[1], baseline_day=base[0], delta=delta, direction=direction
    )


# -- cadence and escalation -----------------------------------------------------------------

CHECK_CADENCE: dict[Band, str] = {
    Band.RED: "weekly",
    Band.YELLOW: "biweekly",
    Band.GREEN: "monthly",
}


def add_months(day: date, months: int) -> date:
    """Same day `months` later, clamped to the month's end (Jan 31 + 1 → Feb 28/29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_check_due(band: Band | str, last_check: date) -> date:
    """Health-check cadence (docs/process.md, "Health model"): Red weekly (+7 days), Yellow
    biweekly (+14 days), Green monthly (+1 calendar month)."""
    b = Band(band)
    if b is Band.RED:
        return last_check + timedelta(days=7)
    if b is Band.YELLOW:
        return last_check + timedelta(days=14)
    return add_months(last_check, 1)


class HealthCheckSettings(_Strict):
    """`organization.settings.health_checks`: which clients get the health-check nudge.

    `stages: [adoption, value_realization]` limits it to clients in those lifecycle stages
    (like a cadence's `stages:`); a client with no stage (no signature, no contract start) is
    then not nudged. Unset (the default): every client. Alerts and the Red escalation are not
    limited: they follow the score whatever the stage."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    stages: tuple[Stage, ...] | None = None

    def applies(self, stage: Stage | str | None) -> bool:
        return self.stages is None or (stage is not None and Stage(stage) in self.stages)


def needs_escalation(history: Sequence[HistoryItem], today: date, has_active_plan: bool) -> bool:
    """docs/process.md, "Escalation ladder": no account sits in Red for more than 14 days
    without an active intervention plan. True when the current band is Red, it has been for
    more than 14 days, and there is no active plan."""
    if has_active_plan or current_band(history, today) is not Band.RED:
        return False
    return days_in_band(history, today) > ESCALATE_RED_AFTER_DAYS
