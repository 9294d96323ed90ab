"""A request reads only the people it names; a whole portfolio's worth is read as everyone."""

from __future__ import annotations

from storage.db import Database
from storage.models import Person
from storage.portfolio_store import MANY_PEOPLE, people_by_id, people_by_slack_ids
from tests.conftest import load_portfolio


def test_people_by_slack_ids_answers_like_everyone_filtered(db: Database) -> None:
    load_portfolio(db)
    with db.transaction() as s:
        for i in range(MANY_PEOPLE + 100):
            s.add(Person(slack_id=f"U{i:06d}", name=f"P {i}", role="cso", timezone="UTC"))
    few = ["U0CSO2", "U0CSO1", "U0NOBODY", "U0CSO1"]
    many = [f"U{i:06d}" for i in range(MANY_PEOPLE + 100)] + ["U0NOBODY2", "U0SL1"]
    with db.session() as s:
        everyone = people_by_id(s)
        for asked in (few, many, []):
            got = people_by_slack_ids(s, asked)
            assert got == {i: everyone[i] for i in asked if i in everyone}
        assert set(people_by_slack_ids(s, few)) == {"U0CSO1", "U0CSO2"}
        assert len(people_by_slack_ids(s, many)) == MANY_PEOPLE + 101
