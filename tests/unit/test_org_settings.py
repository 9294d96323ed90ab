"""Organization settings: parsed once, checked at portfolio import (entry and field named),
read from storage key by key (a hand-edited key keeps its defaults and says why)."""

from __future__ import annotations

from datetime import time

import pytest

from domain.org_settings import OrgSettings, OrgSettingsError, parse_org_settings
from domain.portfolio import PortfolioError, parse_portfolio

PORTFOLIO = """
organization:
  name: Test
  settings:
{settings}
people:
  - {{slack_id: U1, name: Dana, role: cso}}
clients:
  - {{slug: acme, name: Acme, cso: U1}}
"""


def _portfolio(settings: str) -> str:
    return PORTFOLIO.format(settings="\n".join("    " + line for line in settings.splitlines()))


def test_every_key_the_code_reads_is_parsed() -> None:
    s = parse_org_settings(
        {
            "digest": {"day": "tuesday", "time": "09:30"},
            "flags": {"reply_within_hours": 2},
            "cadences": {"evidence-of-value": False},
            "health_model": "five-category",
            "qbr_arr_threshold": 50_000,
        }
    )
    assert (s.digest.day.value, s.digest.at) == ("tue", time(9, 30))
    assert s.flags.reply_within_hours == 2
    assert s.cadences == {"evidence-of-value": False}
    assert (s.health_model, s.qbr_arr_threshold) == ("five-category", 50_000)
    assert s.problems == {}
    assert parse_org_settings(None) == OrgSettings()


def test_a_bad_field_is_named() -> None:
    with pytest.raises(OrgSettingsError) as err:
        parse_org_settings(
            {
                "digest": {"time": "8am"},
                "flags": {"reply_within_hours": 0},
                "cadences": {"triangle-sync": {"at": "25:00"}},
                "health_model": "four-pillar",
                "qbr_arr_threshold": -1,
                "digst": {},
            }
        )
    problems = err.value.problems
    assert problems[0].startswith('settings.digest.time: "8am" is not a local time')
    assert problems[1].startswith("settings.flags.reply_within_hours:")
    assert problems[2].startswith("settings.cadences: cadence triangle-sync.at:")
    assert problems[3].startswith('settings.health_model: unknown health model "four-pillar"')
    assert problems[4].startswith("settings.qbr_arr_threshold:")
    assert problems[5] == "settings.digst: Extra inputs are not permitted"


def test_the_portfolio_import_refuses_bad_settings_naming_entry_and_field() -> None:
    good = parse_portfolio(_portfolio("digest: {day: friday}\nqbr_arr_threshold: 100"))
    assert good.organization.settings == {"digest": {"day": "friday"}, "qbr_arr_threshold": 100}
    with pytest.raises(PortfolioError) as err:
        parse_portfolio(_portfolio('digest: {time: "25:00"}\nflags: {lookback_days: 0}'))
    assert [p.split(":")[0] for p in err.value.problems] == [
        "organization.settings.digest.time",
        "organization.settings.flags.lookback_days",
    ]


def test_stored_settings_are_read_key_by_key() -> None:
    s = OrgSettings.read({"digest": {"time": "8am"}, "flags": {"reply_within_hours": 2}, "x": 1})
    assert s.digest == OrgSettings().digest  # the defaults, and why
    assert s.problem("digest") == (
        'settings.digest.time: "8am" is not a local time: write it as "HH:MM", e.g. "15:00"'
    )
    assert s.flags.reply_within_hours == 2 and s.problem("flags") is None
    broken = OrgSettings.read(["not", "a", "mapping"])
    assert broken == OrgSettings(problems=broken.problems)
    assert broken.problem("digest") == "settings: must be a mapping of feature -> settings"
