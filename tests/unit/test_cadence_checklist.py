"""A cadence for each client, closed by a click and due the same day for all of a person's
clients, is one reminder listing the clients (a checklist): the planner writes one row per
person and occurrence, and each client's line reads as a reminder of its own."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from domain.cadence import load_default_catalogue
from domain.cadence_plan import PlanClient, PlanPerson, Snapshot, lists_clients, plan
from domain.nudge import (
    Line,
    checklist_key,
    client_key,
    is_checklist_key,
    line_key,
    lines,
    listed,
    split_line_key,
)
from domain.records import Organization

NY = ZoneInfo("America/New_York")
SYNC = datetime(2026, 11, 18, 11, 1, tzinfo=NY)  # a Wednesday: Triangle Sync
TRIANGLE = "triangle-sync"


def _client(cid: int, slug: str, cso: str = "UCSO", sl: str | None = "USL") -> PlanClient:
    return PlanClient(
        id=cid,
        slug=slug,
        name=slug.title(),
        cso_id=cso,
        service_lead_id=sl,
        engagement_partner_id=None,
        contract_start=date(2025, 1, 1),
        contract_end=date(2027, 12, 31),
    )


def _snapshot(clients: list[PlanClient], existing: set[str] | None = None) -> Snapshot:
    people = [
        PlanPerson("UCSO", "Dana", "cso", "America/New_York"),
        PlanPerson("UCSO2", "Sam", "cso", "America/New_York"),
        PlanPerson("USL", "Lee", "service_lead", "America/New_York"),
    ]
    org = Organization(timezone="America/New_York", holidays_country="US")
    return Snapshot(
        org,
        load_default_catalogue(),
        people,
        clients,
        prefs={},
        ooo={},
        existing=existing or set(),
    )


def _triangle(snap: Snapshot) -> dict[str, list]:
    due, _ = plan(snap, SYNC)
    out: dict[str, list] = {}
    for spec in due:
        if spec.cadence_id == TRIANGLE:
            out.setdefault(spec.target, []).append(spec)
    return out


def test_a_person_with_several_clients_gets_one_reminder_listing_them() -> None:
    clients = [_client(1, "acme"), _client(2, "globex"), _client(3, "initech", cso="UCSO2")]
    found = _triangle(_snapshot(clients))
    [dana] = found["UCSO"]
    assert dana.key == checklist_key(TRIANGLE, "UCSO", "2026-W47") and dana.client_id is None
    assert [c["id"] for c in listed(dana.data)] == [1, 2]
    assert dana.text == "Triangle Sync (CSO + SL + EP) — Acme, Globex"
    [lee] = found["USL"]
    assert [c["slug"] for c in listed(lee.data)] == ["acme", "globex", "initech"]
    # One client: a reminder of its own, as before.
    [sam] = found["UCSO2"]
    assert sam.client_id == 3 and sam.natural_key() == f"{TRIANGLE}:UCSO2:3:2026-W47"
    assert listed(sam.data) == []


def test_a_client_added_after_the_checklist_was_written_gets_its_own_reminder() -> None:
    written = checklist_key(TRIANGLE, "UCSO", "2026-W47")
    existing = {written, client_key(written, 1), client_key(written, 2)}
    clients = [_client(1, "acme"), _client(2, "globex"), _client(4, "hooli")]
    found = _triangle(_snapshot(clients, existing))
    [hooli] = found["UCSO"]
    assert hooli.client_id == 4 and hooli.natural_key() == f"{TRIANGLE}:UCSO:4:2026-W47"


def test_only_click_closed_cadences_on_one_day_for_every_client_are_listed() -> None:
    by_id = {c.id: c for c in load_default_catalogue().cadences}
    assert lists_clients(by_id[TRIANGLE]) and lists_clients(by_id["thursday-prep"])
    assert not lists_clients(by_id["touchpoint-cutoff"])  # closed by a touchpoint
    assert not lists_clients(by_id["project-kickoff"])  # a day of its own per client
    assert not lists_clients(by_id["ai-efficiency-audit"])  # one per person already


class _Row:
    def __init__(self, data: dict, status: str = "sent"):
        self.id, self.key, self.cadence_id = (
            7,
            checklist_key(TRIANGLE, "UCSO", "2026-W47"),
            TRIANGLE,
        )
        self.status, self.text, self.data, self.client_id, self.blocks = (
            status,
            "t",
            data,
            None,
            None,
        )


def test_each_line_reads_as_the_clients_own_reminder() -> None:
    row = _Row(
        {
            "view": "cadence",
            "title": "Triangle Sync",
            "closes": "click",
            "clients": [
                {"id": 1, "name": "Acme", "slug": "acme", "outcome": "Done — Lee"},
                {"id": 2, "name": "Globex", "slug": "globex"},
            ],
        }
    )
    acme, globex = lines(row)
    assert isinstance(acme, Line) and isinstance(globex, Line)
    assert (acme.key, acme.client_id, acme.status) == (line_key(row.key, 1), 1, "closed")
    assert acme.data["outcome"] == "Done — Lee" and acme.data["client"] == "Acme"
    assert (globex.status, globex.data["slug"], "outcome" in globex.data) == (
        "sent",
        "globex",
        False,
    )
    assert "clients" not in globex.data
    # An expired checklist: the lines not closed are dropped with it.
    assert [x.status for x in lines(_Row(row.data, status="dropped"))] == ["closed", "dropped"]
    # Any other reminder is its own one line.
    plain = _Row({"view": "cadence", "client": "Acme"})
    assert lines(plain) == [plain]


def test_a_line_address_names_a_checklist_and_a_client() -> None:
    key = checklist_key(TRIANGLE, "UCSO", "2026-W47")
    assert is_checklist_key(key) and split_line_key(line_key(key, 12)) == (key, 12)
    assert split_line_key(key) is None
    assert split_line_key(f"{TRIANGLE}:UCSO:1:2026-W47|12") is None  # not a checklist
    assert split_line_key(f"{key}|x") is None
    assert client_key(key, 12) == f"{TRIANGLE}:UCSO:12:2026-W47"
