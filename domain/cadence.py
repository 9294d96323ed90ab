"""The cadence catalogue: every rhythm of the process, as data.

The catalogue is `domain/cadences.yaml`, validated here with errors that name the entry id and
the field; an organization overrides it by id from its portfolio file. When each cadence falls
is `domain.cadence_schedule`; what a tick sends is `domain.cadence_plan`.
docs/process.md, "Cadences".
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from datetime import time, timedelta
from enum import StrEnum
from functools import lru_cache
from importlib.resources import files
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

from domain.commands import TouchpointKind, suggest
from domain.portfolio import Role

CLOSERS = ("win", "pulse", "click")
DAY_SPECS = ("first_business_day", "last_business_day")
SCHEDULE_KINDS = ("daily", "weekly", "monthly", "quarterly", "lifecycle")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")


class CadenceError(ValueError):
    """A bad catalogue or override: each problem names the cadence id and the field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


# -- small parsers -------------------------------------------------------------------------------
def parse_hhmm(value: str | time) -> time:
    """`"15:00"` -> time(15, 0); a `time` passes through."""
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        m = _HHMM.match(value.strip())
        if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
            return time(int(m.group(1)), int(m.group(2)))
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(
            f'write the local time as "HH:MM" in quotes (YAML read {value}, the number an '
            "unquoted 15:00 becomes)"
        )
    raise ValueError(f'"{value}" is not a local time: write it as "HH:MM", e.g. "15:00"')


def parse_duration(value: str | timedelta) -> timedelta:
    """`"1d"`, `"2h"`, `"30m"`, `"1h30m"` -> timedelta."""
    # Hand-written: one regex; no kept library reads this short form (pytimeparse is unmaintained
    # since 2018, isodate wants ISO 8601 "PT1H30M", pandas is far too heavy for it).
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        m = _DURATION.match(text)
        if text and m:
            d, h, mins = (int(g) if g else 0 for g in m.groups())
            return timedelta(days=d, hours=h, minutes=mins)
    raise ValueError(f'"{value}" is not a duration: write it like "30m", "2h", "1d" or "1h30m"')


def format_duration(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    text = (
        (f"{days}d" if days else "") + (f"{hours}h" if hours else "") + (f"{mins}m" if mins else "")
    )
    return text or "0m"


# -- the catalogue models ------------------------------------------------------------------------
class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        """Monday is 0, as `date.weekday()`."""
        return list(Weekday).index(self)


_WEEKDAY_NAMES = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}

DaySpec = int | Literal["first_business_day", "last_business_day"]


def _day_spec(value: Any) -> Any:
    if isinstance(value, str):
        word = value.strip().lower().replace(" ", "_").replace("-", "_")
        if word in DAY_SPECS:
            return word
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 31:
        return value
    raise ValueError(
        f'"{value}" is not a day of the month: write 1-31, first_business_day or last_business_day'
    )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class DailySchedule(_Strict):
    every: Literal["daily"]


class WeeklySchedule(_Strict):
    every: Literal["weekly"]
    weekday: Weekday
    interval_weeks: int = Field(default=1, ge=1, le=4)

    @field_validator("weekday", mode="before")
    @classmethod
    def _weekday(cls, v: Any) -> Any:
        if isinstance(v, str):
            word = v.strip().lower()
            word = _WEEKDAY_NAMES.get(word, word)
            if word in {d.value for d in Weekday}:
                return word
        raise ValueError(f'"{v}" is not a weekday: write mon, tue, wed, thu, fri, sat or sun')


class MonthlySchedule(_Strict):
    every: Literal["monthly"]
    day: DaySpec

    _day = field_validator("day", mode="before")(_day_spec)


class QuarterlySchedule(_Strict):
    every: Literal["quarterly"]
    month: int = Field(ge=1, le=3, description="month of the quarter: 1, 2 or 3")
    day: DaySpec

    _day = field_validator("day", mode="before")(_day_spec)


class LifecycleSchedule(_Strict):
    every: Literal["lifecycle"]
    anchor: Literal["contract_start", "contract_end"]
    offset_days: int = Field(default=0, ge=-366, le=366)


Schedule = Annotated[
    DailySchedule | WeeklySchedule | MonthlySchedule | QuarterlySchedule | LifecycleSchedule,
    Field(discriminator="every"),
]

# The shortest distance between two occurrences: a longer grace would overlap the next one.
_MIN_PERIOD = {
    "daily": timedelta(days=1),
    "weekly": timedelta(days=7),
    "monthly": timedelta(days=28),
    "quarterly": timedelta(days=89),
    "lifecycle": timedelta(days=366),
}


class Cadence(_Strict):
    id: str
    title: str = Field(min_length=1)
    why: str = Field(min_length=1, description="one line: why the process asks for it")
    roles: tuple[Role, ...] = Field(min_length=1)
    per_client: bool
    schedule: Schedule
    at: time
    person_time: Literal["standup", "cutoff"] | None = None
    closes_by: tuple[TouchpointKind, ...] | Literal["win", "pulse", "click"]
    grace: timedelta
    bands: tuple[Literal["red", "yellow", "green"], ...] | None = None
    # Only clients in these lifecycle stages (as the tick last recorded them).
    stages: (
        tuple[
            Literal[
                "onboarding", "adoption", "value_realization", "expansion", "advocacy", "closed"
            ],
            ...,
        ]
        | None
    ) = None
    enabled: bool = True

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _SLUG.match(v):
            raise ValueError(f'"{v}" is not a slug: use lowercase letters, digits, - and _')
        return v

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, v: Any) -> time:
        return parse_hhmm(v)

    @field_validator("grace", mode="before")
    @classmethod
    def _grace(cls, v: Any) -> timedelta:
        grace = parse_duration(v)
        if grace <= timedelta(0):
            raise ValueError("grace must be longer than 0m")
        return grace

    @field_validator("closes_by", mode="before")
    @classmethod
    def _closes_by(cls, v: Any) -> Any:
        kinds = [k.value for k in TouchpointKind]
        options = f"a list of touchpoint kinds ({', '.join(kinds)}), win, pulse or click"
        if isinstance(v, str):
            word = v.strip().lower()
            if word in CLOSERS:
                return word
            if word in kinds:
                return (word,)
        elif isinstance(v, list | tuple) and v:
            words = [str(k).strip().lower() for k in v]
            bad = [w for w in words if w not in kinds]
            if not bad:
                return tuple(dict.fromkeys(words))
            raise ValueError(f'"{bad[0]}" is not a touchpoint kind: use {", ".join(kinds)}')
        raise ValueError(f'"{v}" cannot close a cadence: use {options}')

    @field_serializer("at", when_used="json")
    def _dump_at(self, v: time) -> str:
        return v.strftime("%H:%M")

    @field_serializer("grace", when_used="json")
    def _dump_grace(self, v: timedelta) -> str:
        return format_duration(v)

    @model_validator(mode="after")
    def _grace_fits_period(self) -> Cadence:
        limit = _MIN_PERIOD[self.schedule.every]
        if isinstance(self.schedule, WeeklySchedule):
            limit *= self.schedule.interval_weeks
        if self.grace > limit:
            raise ValueError(
                f"grace {format_duration(self.grace)} is longer than a {self.schedule.every} "
                f"period ({format_duration(limit)}): the next occurrence would start first"
            )
        return self

    # -- conveniences for the engine --
    @property
    def closes_on_touchpoint(self) -> bool:
        return isinstance(self.closes_by, tuple)

    @property
    def touchpoint_kinds(self) -> frozenset[str]:
        return (
            frozenset(k.value for k in self.closes_by)
            if isinstance(self.closes_by, tuple)
            else frozenset()
        )

    def applies_to_band(self, band: str | None) -> bool:
        """False when the cadence is limited to health bands and `band` is not one of them."""
        return self.bands is None or band in self.bands

    def with_person_time(self, prefs: Mapping[str, time | str | None]) -> Cadence:
        """This cadence at the person's own time (`prefs["standup"]`, `prefs["cutoff"]`)."""
        if self.person_time is None or prefs.get(self.person_time) is None:
            return self
        pref = prefs[self.person_time]
        assert pref is not None
        return self.model_copy(update={"at": parse_hhmm(pref)})

    def describe_when(self) -> str:
        s = self.schedule
        if isinstance(s, DailySchedule):
            return "daily"
        if isinstance(s, WeeklySchedule):
            day = s.weekday.value.capitalize()
            return (
                f"weekly {day}" if s.interval_weeks == 1 else f"every {s.interval_weeks} wk {day}"
            )
        if isinstance(s, MonthlySchedule):
            return f"monthly {_describe_day(s.day)}"
        if isinstance(s, QuarterlySchedule):
            return f"quarterly m{s.month} {_describe_day(s.day)}"
        return f"{s.anchor} {s.offset_days:+d}d"


def _describe_day(day: DaySpec) -> str:
    if day == "first_business_day":
        return "1st bus. day"
    if day == "last_business_day":
        return "last bus. day"
    return f"day {day}"


class Catalogue(_Strict):
    cadences: tuple[Cadence, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> Catalogue:
        seen: set[str] = set()
        for c in self.cadences:
            if c.id in seen:
                raise ValueError(f'cadence "{c.id}" is listed twice')
            seen.add(c.id)
        return self

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.cadences]

    def get(self, cadence_id: str) -> Cadence:
        for c in self.cadences:
            if c.id == cadence_id:
                return c
        guess = suggest(cadence_id, self.ids)
        hint = f' (did you mean "{guess}"?)' if guess else ""
        raise KeyError(f'no cadence "{cadence_id}"{hint}')

    def enabled(self) -> list[Cadence]:
        return [c for c in self.cadences if c.enabled]

    def for_role(self, role: Role | str) -> list[Cadence]:
        return [c for c in self.enabled() if Role(role) in c.roles]


# -- loading and overrides -----------------------------------------------------------------------
def _problem(label: str, exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = list(err["loc"])
        if len(loc) > 1 and loc[0] == "schedule" and loc[1] in SCHEDULE_KINDS:
            del loc[1]  # the discriminated-union tag, not a field the user wrote
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "required field is missing"
        problems.append(f"cadence {label}{where}: {msg}")
    return problems


def _validate_entries(entries: list[tuple[str, Any]]) -> Catalogue:
    problems: list[str] = []
    cadences: list[Cadence] = []
    for label, data in entries:
        if not isinstance(data, Mapping):
            problems.append(f"cadence {label}: must be a mapping of fields")
            continue
        try:
            cadences.append(Cadence.model_validate(dict(data)))
        except ValidationError as exc:
            problems.extend(_problem(label, exc))
    if problems:
        raise CadenceError(problems)
    try:
        return Catalogue(cadences=tuple(cadences))
    except ValidationError as exc:
        raise CadenceError(
            [str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()]
        ) from None


def _entry_label(i: int, data: Any) -> str:
    if isinstance(data, Mapping) and isinstance(data.get("id"), str):
        return str(data["id"])
    return f"[{i}]"


def parse_catalogue(data: Any) -> Catalogue:
    """Validate a catalogue mapping `{"cadences": [entry, ...]}`."""
    if not isinstance(data, Mapping) or not isinstance(data.get("cadences"), list):
        raise CadenceError(["the catalogue must be a mapping with a `cadences:` list"])
    entries = data["cadences"]
    return _validate_entries([(_entry_label(i, e), e) for i, e in enumerate(entries)])


@lru_cache(maxsize=1)
def _default_data() -> Any:
    return yaml.safe_load(files("domain").joinpath("cadences.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def load_default_catalogue() -> Catalogue:
    """The built-in catalogue shipped in `domain/cadences.yaml` (validated, immutable)."""
    return parse_catalogue(_default_data())


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = {**base, **override}
    old, new = base.get("schedule"), override.get("schedule")
    # A partial schedule (`{weekday: thu}`) refines the old one; a new `every` replaces it.
    if (
        isinstance(old, Mapping)
        and isinstance(new, Mapping)
        and new.get("every", old.get("every")) == old.get("every")
    ):
        merged["schedule"] = {**old, **new}
    return merged


def _override_items(overrides: Mapping[str, Any] | Sequence[Any]) -> list[tuple[str, Any]]:
    if isinstance(overrides, Mapping):
        return [(str(k), v) for k, v in overrides.items()]
    if isinstance(overrides, Sequence) and not isinstance(overrides, str):
        items = []
        for i, entry in enumerate(overrides):
            if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
                raise CadenceError([f"cadence override [{i}]: needs an `id`"])
            items.append((str(entry["id"]), {k: v for k, v in entry.items() if k != "id"}))
        return items
    raise CadenceError(["cadence overrides must be a mapping of id -> fields"])


def effective_catalogue(overrides: Mapping[str, Any] | Sequence[Any] | None = None) -> Catalogue:
    """The default catalogue with an organization's overrides applied by id.

    `overrides` maps a cadence id to the fields to change (`{"triangle-sync": {"at": "11:00"}}`),
    to `{"enabled": false}` (or just `false`) to switch it off, or to a full new entry. A list
    of entries with `id` is accepted too. Errors name the id and the field.
    """
    if not overrides:
        return load_default_catalogue()
    entries = {e["id"]: e for e in copy.deepcopy(_default_data()["cadences"])}
    known = list(entries)
    problems: list[str] = []
    for cid, fields in _override_items(overrides):
        if isinstance(fields, bool):
            fields = {"enabled": fields}
        elif fields is None:
            fields = {}
        if not isinstance(fields, Mapping):
            problems.append(f"cadence {cid}: an override must be a mapping of fields (or false)")
            continue
        if "id" in fields and fields["id"] != cid:
            problems.append(f"cadence {cid}.id: cannot be renamed to {fields['id']!r}")
            continue
        if cid in entries:
            entries[cid] = _merge(entries[cid], fields)
        else:
            entry = {"id": cid, **fields}
            try:
                Cadence.model_validate(entry)
            except ValidationError:
                guess = suggest(cid, known)
                if guess:
                    problems.append(
                        f'cadence {cid}: not a built-in cadence (did you mean "{guess}"?)'
                    )
                    continue
            entries[cid] = entry
    if problems:
        raise CadenceError(problems)
    return _validate_entries(list(entries.items()))
