"""A person's nudge settings (`Prefs`), and `/cso prefs` and `/cso ooo` parsed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Literal

from pydantic import BaseModel

from domain.cadence import parse_hhmm
from domain.commands import CommandError, split_words, suggest

CSO_USAGE = (
    "Usage: `/cso prefs` shows your settings; `/cso prefs standup 09:30`, "
    "`/cso prefs cutoff 16:00`, `/cso prefs quiet 18:00-09:00`, `/cso prefs cap 6` change them "
    "(`/cso prefs cutoff default` resets one); `/cso ooo 2026-12-24 2026-12-31` sets time out "
    "of office, `/cso ooo cancel` cancels it, `/cso ooo` shows it."
)
SETTINGS = ("standup", "cutoff", "quiet", "cap")
MAX_OOO_DAYS = 92
_RANGE = re.compile(r"^(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})$")
DEFAULT_QUIET = (time(18, 0), time(9, 0))
DEFAULT_CAP = 6


@dataclass(frozen=True)
class Prefs:
    """A person's nudge settings; unset ones are the defaults."""

    standup: time | None = None
    cutoff: time | None = None
    quiet_start: time = DEFAULT_QUIET[0]
    quiet_end: time = DEFAULT_QUIET[1]
    daily_cap: int = DEFAULT_CAP

    @classmethod
    def of(
        cls,
        *,
        standup: str | None = None,
        cutoff: str | None = None,
        quiet_start: str | None = None,
        quiet_end: str | None = None,
        daily_cap: int | None = None,
    ) -> Prefs:
        """From the stored settings ("HH:MM" strings; None is the default)."""
        return cls(
            standup=parse_hhmm(standup) if standup else None,
            cutoff=parse_hhmm(cutoff) if cutoff else None,
            quiet_start=parse_hhmm(quiet_start) if quiet_start else DEFAULT_QUIET[0],
            quiet_end=parse_hhmm(quiet_end) if quiet_end else DEFAULT_QUIET[1],
            daily_cap=daily_cap if daily_cap is not None else DEFAULT_CAP,
        )

    @property
    def times(self) -> dict[str, time | None]:
        return {"standup": self.standup, "cutoff": self.cutoff}

    @property
    def working_hours(self) -> tuple[time, time]:
        """Quiet hours run evening to morning: working hours are what is left."""
        return self.quiet_end, self.quiet_start


class ShowPrefs(BaseModel):
    action: Literal["show_prefs"] = "show_prefs"


class SetPref(BaseModel):
    action: Literal["set_pref"] = "set_pref"
    setting: Literal["standup", "cutoff", "quiet", "cap"]
    at: time | None = None  # standup / cutoff; None = back to the default
    quiet: tuple[time, time] | None = None  # (evening start, morning end)
    cap: int | None = None


class SetOoo(BaseModel):
    action: Literal["set_ooo"] = "set_ooo"
    start: date
    end: date


class CancelOoo(BaseModel):
    action: Literal["cancel_ooo"] = "cancel_ooo"


class ShowOoo(BaseModel):
    action: Literal["show_ooo"] = "show_ooo"


CsoRequest = ShowPrefs | SetPref | SetOoo | CancelOoo | ShowOoo


def _time(word: str, what: str) -> time:
    try:
        return parse_hhmm(word)
    except ValueError:
        raise CommandError(
            f'"{word}" is not a time for {what}: write it as HH:MM, e.g. 16:00'
        ) from None


def _day(word: str) -> date:
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise CommandError(
            f'"{word}" is not a date: write it as YYYY-MM-DD, e.g. 2026-12-24'
        ) from None


def parse_cso(text: str, today: date | None = None) -> CsoRequest:
    """Parse the text of `/cso`. `today` is the person's local date (for OOO sanity checks:
    without it, `from_today` applies them once the person's date is known)."""
    words = split_words(text)
    if not words or words[0].lower() in ("help", "?"):
        raise CommandError("What would you like to change?")
    head, rest = words[0].lower(), words[1:]
    if head in ("pref", "prefs", "preferences", "settings"):
        return _parse_prefs(rest)
    if head in ("ooo", "out", "away"):
        return _parse_ooo(rest, today)
    guess = suggest(head, ["prefs", "ooo"])
    hint = f" — did you mean `{guess}`?" if guess else ""
    raise CommandError(f'"{head}" is not something `/cso` knows{hint}')


def _parse_prefs(words: list[str]) -> CsoRequest:
    if not words:
        return ShowPrefs()
    setting = words[0].lower().replace("-", "").replace("_", "")
    setting = {"standuptime": "standup", "quiethours": "quiet", "dailycap": "cap"}.get(
        setting, setting
    )
    if setting not in SETTINGS:
        guess = suggest(setting, SETTINGS)
        hint = f" — did you mean `{guess}`?" if guess else ""
        raise CommandError(f'"{words[0]}" is not a setting (standup, cutoff, quiet, cap){hint}')
    value = " ".join(words[1:]).strip()
    if not value:
        raise CommandError(
            f"Give a value for {setting}, e.g. `/cso prefs {setting} {_EX[setting]}`"
        )
    if value.lower() in ("default", "reset"):
        return SetPref(setting=setting)
    if setting in ("standup", "cutoff"):
        return SetPref(setting=setting, at=_time(value, setting))
    if setting == "cap":
        if not value.isdigit() or not 1 <= int(value) <= 30:
            raise CommandError(f'"{value}" is not a daily cap: give a number of DMs from 1 to 30')
        return SetPref(setting="cap", cap=int(value))
    m = _RANGE.match(value)
    if not m:
        raise CommandError(f'"{value}" is not a quiet-hours range: write it like 18:00-09:00')
    start, end = _time(m.group(1), "quiet hours"), _time(m.group(2), "quiet hours")
    if start <= end:
        raise CommandError(
            "Quiet hours run from the evening to the morning (like 18:00-09:00): "
            "the first time must be later than the second"
        )
    return SetPref(setting="quiet", quiet=(start, end))


_EX = {"standup": "09:30", "cutoff": "16:00", "quiet": "18:00-09:00", "cap": "6"}


def _parse_ooo(words: list[str], today: date | None) -> CsoRequest:
    if not words:
        return ShowOoo()
    if words[0].lower() in ("cancel", "off", "back", "clear"):
        return CancelOoo()
    if len(words) > 2:
        raise CommandError("Give a first and a last day: `/cso ooo 2026-12-24 2026-12-31`")
    start = _day(words[0])
    end = _day(words[1]) if len(words) == 2 else start
    if end < start:
        raise CommandError(f"The last day ({end}) is before the first ({start})")
    if today is not None and end < today:
        raise CommandError(f"{end} is in the past: out of office is for today or later")
    if (end - start) > timedelta(days=MAX_OOO_DAYS):
        raise CommandError(f"That is more than {MAX_OOO_DAYS} days: split it, or ask your lead")
    request = SetOoo(start=start, end=end)
    return from_today(request, today) if today is not None else request


def from_today(request: SetOoo, today: date) -> SetOoo:
    """Out of office from the person's today on: an end in the past is refused, a start in
    the past begins today."""
    if request.end < today:
        raise CommandError(f"{request.end} is in the past: out of office is for today or later")
    return SetOoo(start=max(request.start, today), end=request.end)
