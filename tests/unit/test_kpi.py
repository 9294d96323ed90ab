"""Communication Consistency arithmetic (docs/process.md, "Communication Consistency")."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import IsoWeek, business_days
from domain.kpi import KpiClient, KpiPerson, kpi_json, week_kpi

NY = ZoneInfo("America/New_York")
W47 = IsoWeek.parse("2026-W47")
AFTER_W47 = datetime(2026, 11, 23, 9, tzinfo=NY)


def test_iso_week_parsing_and_days() -> None:
    assert str(W47) == "2026-W47"
    assert W47.monday == date(2026, 11, 16)
    assert W47.sunday == date(2026, 11, 22)
    assert IsoWeek.of(date(2026, 11, 20)) == W47
    assert IsoWeek.parse("2026w5") == IsoWeek(2026, 5)
    with pytest.raises(ValueError, match="no week 54"):
        IsoWeek.parse("2026-W54")
    with pytest.raises(ValueError, match="write it like"):
        IsoWeek.parse("last week")


def test_thanksgiving_is_not_a_business_day() -> None:
    days = business_days(IsoWeek.parse("2026-W48").days(), "US")
    assert date(2026, 11, 26) not in days
    assert len(days) == 4


def _kpi(**kw: object) -> dict[str, object]:
    clients = [
        KpiClient(slug="acme", name="Acme", cso="U1", timezone="America/Chicago"),
        KpiClient(slug="beta", name="Beta", cso="U1", timezone="America/New_York"),
    ]
    args: dict[str, object] = {
        "people": [KpiPerson(slack_id="U1", name="Dana")],
        "clients": clients,
        "holiday_country": "US",
        "touchpoint_days": {},
        "exemptions": {},
        "wins": {},
    }
    args.update(kw)
    return kpi_json(week_kpi(W47, AFTER_W47, **args))  # type: ignore[arg-type]


def test_daily_and_weekly_parts_sum_to_the_cso_and_overall_totals() -> None:
    mon, tue, wed, thu, fri = W47.days()[:5]
    out = _kpi(
        touchpoint_days={"acme": {mon, tue, thu, fri}, "beta": {mon, tue, wed, thu, fri}},
        wins={"acme": "Demoed the new pipeline"},
    )
    cso = out["csos"][0]  # type: ignore[index]
    acme = cso["clients"][0]
    assert acme["daily"] == {
        "expected": 5,
        "done": 4,
        "missed": ["2026-11-18"],
        "exempt": [],
        "pending": [],
        "evidence": {},  # days given as known to count carry no evidence of their own
        "ignored": [],
    }
    assert acme["weekly_presentation"] == {
        "expected": 1,
        "done": 1,
        "win": "Demoed the new pipeline",
        "tangible": True,
        "status": "done",
    }
    assert cso["expected"] == 12 and cso["done"] == 10
    assert cso["rate"] == pytest.approx(0.8333, abs=1e-4)
    assert out["overall"] == {"expected": 12, "done": 10, "rate": 0.8333}


def test_exemptions_are_not_expected_and_keep_their_reason() -> None:
    mon = W47.monday
    out = _kpi(exemptions={"acme": {mon: "client offsite"}})
    acme = out["csos"][0]["clients"][0]  # type: ignore[index]
    assert acme["daily"]["expected"] == 4
    assert acme["daily"]["exempt"] == [{"date": "2026-11-16", "reason": "client offsite"}]


def test_current_week_counts_only_days_up_to_today_and_today_is_pending() -> None:
    wednesday = datetime(2026, 11, 18, 11, tzinfo=NY)
    kpi = week_kpi(
        W47,
        wednesday,
        people=[],
        clients=[KpiClient(slug="acme", name="Acme", cso="U1", timezone="America/New_York")],
        holiday_country="US",
        touchpoint_days={"acme": {W47.monday}},
        exemptions={},
        wins={},
    )
    daily = kpi_json(kpi)["csos"][0]["clients"][0]["daily"]
    assert daily["expected"] == 3
    assert daily["missed"] == ["2026-11-17"]
    assert daily["pending"] == ["2026-11-18"]


def test_holiday_week_expects_fewer_days() -> None:
    w48 = IsoWeek.parse("2026-W48")
    out = week_kpi(
        w48,
        datetime(2026, 12, 1, tzinfo=NY),
        people=[],
        clients=[KpiClient(slug="acme", name="Acme", cso="U1", timezone="America/New_York")],
        holiday_country="US",
        touchpoint_days={},
        exemptions={},
        wins={},
    )
    client = out.csos[0].clients[0]
    assert client.daily.expected == 4
    assert "2026-11-26" not in client.daily.missed


def test_a_week_with_nothing_recorded_says_so_instead_of_zero() -> None:
    out = week_kpi(
        W47,
        AFTER_W47,
        people=[],
        clients=[],
        holiday_country="US",
        touchpoint_days={},
        exemptions={},
        wins={},
    )
    assert out.overall.rate is None
    assert out.has_data is False


def test_a_csos_days_out_of_office_are_exempt_for_their_clients_only() -> None:
    from domain.kpi import OUT_OF_OFFICE, exemptions_with_out_of_office

    clients = [
        KpiClient(slug="acme", name="Acme", cso="U1", timezone="America/New_York"),
        KpiClient(slug="beta", name="Beta", cso="U2", timezone="America/New_York"),
    ]
    recorded = {"acme": {date(2026, 11, 17): "client offsite"}}
    away = [("U1", date(2026, 11, 13), date(2026, 11, 17))]  # Friday W46 to Tuesday W47
    out = exemptions_with_out_of_office(W47, recorded, away, clients)
    assert out == {
        "acme": {date(2026, 11, 16): OUT_OF_OFFICE, date(2026, 11, 17): "client offsite"}
    }
    assert recorded == {"acme": {date(2026, 11, 17): "client offsite"}}  # not changed
    kpi = week_kpi(
        W47,
        AFTER_W47,
        people=[KpiPerson(slack_id="U1", name="A"), KpiPerson(slack_id="U2", name="B")],
        clients=clients,
        holiday_country="US",
        touchpoint_days={},
        exemptions=out,
        wins={},
    )
    acme = kpi.csos[0].clients[0]
    assert (acme.daily.expected, [e["reason"] for e in acme.daily.exempt]) == (
        3,
        [OUT_OF_OFFICE, "client offsite"],
    )
    assert kpi.csos[1].clients[0].daily.expected == 5
