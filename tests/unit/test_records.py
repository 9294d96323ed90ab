"""The plain records' own rules."""

from __future__ import annotations

from domain.records import Client, clients_of_person


def test_a_persons_clients_are_those_they_own_else_those_they_serve_on() -> None:
    acme = Client(id=1, slug="acme", name="Acme", cso_id="U1", service_lead_id="U2")
    globex = Client(id=2, slug="globex", name="Globex", cso_id="U3", engagement_partner_id="U2")
    initech = Client(id=3, slug="initech", name="Initech", cso_id="U3", service_lead_id="U1")
    clients = [acme, globex, initech]
    assert clients_of_person(clients, "U1") == [acme]  # owns one: not the one served on
    assert clients_of_person(clients, "U2") == [acme, globex]  # owns none: served on
    assert clients_of_person(clients, "U9") == []
    assert clients_of_person(iter(clients), "U3") == [globex, initech]
