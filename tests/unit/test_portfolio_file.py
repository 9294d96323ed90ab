"""The portfolio file: a bad file names the entry and the field."""

from __future__ import annotations

import pytest

from domain.portfolio import PortfolioError, parse_portfolio
from tests.conftest import SAMPLE_PORTFOLIO


def test_sample_portfolio_parses() -> None:
    p = parse_portfolio(SAMPLE_PORTFOLIO)
    assert [c.slug for c in p.clients] == ["acme", "globex", "initech"]
    assert p.organization.holidays == "US"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("contract_end: 2027-01-15", "contract_end: 2027-13-15"),
            "clients[1] (globex).contract_end",
        ),
        (
            ("timezone: America/Chicago", "timezone: Mars/Base"),
            'clients[0] (acme).timezone: unknown timezone "Mars/Base"',
        ),
        (("cso: U0CSO2", "cso: U0NOBODY"), "clients[2] (initech).cso: U0NOBODY is not in people"),
        (("segment: smb", "segment: tiny"), "clients[2] (initech).segment"),
        (("role: founder", "role: boss"), "people[5] (U0FND).role"),
        (("holidays: US", "holidays: XX"), 'organization: unknown holiday country "XX"'),
        (("slug: globex", "slug: Globex Inc"), "clients[1]"),
    ],
)
def test_bad_entries_are_named(change: tuple[str, str], expected: str) -> None:
    text = SAMPLE_PORTFOLIO.replace(*change)
    with pytest.raises(PortfolioError) as err:
        parse_portfolio(text)
    assert any(expected in p for p in err.value.problems), err.value.problems


def test_yaml_syntax_error_gives_the_line() -> None:
    with pytest.raises(PortfolioError, match="line 4, column 1: not valid YAML"):
        parse_portfolio("organization:\n  timezone: UTC\n  bad: [unclosed\n")
