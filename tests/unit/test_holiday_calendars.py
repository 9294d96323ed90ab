"""Public holidays: each country's calendar loads alone, and says what the library says.

Each side runs in its own interpreter: whether the library's package of countries was imported
is a property of the process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASES = [
    ("US", None),
    ("US", "CA"),
    ("GB", "SCT"),
    ("DE", "BY"),
    ("FR", None),
    ("IN", None),
    ("JP", None),
    ("BR", None),
]
YEARS = (2025, 2027)

OURS = """
import json, sys
from datetime import date
from domain.calendar import holidays_between, validate_holiday_country
first, last = json.loads(sys.argv[2])
out = {}
for country, subdiv in json.loads(sys.argv[1]):
    validate_holiday_country(country, subdiv)
    days = holidays_between(country, date(first, 1, 1), date(last, 12, 31), subdiv)
    out[f"{country}-{subdiv}"] = {d.isoformat(): n for d, n in sorted(days.items())}
loaded = sorted(m for m in sys.modules if m.startswith("holidays.countries."))
print(json.dumps({"days": out, "loaded": loaded}))
"""

LIBRARY = """
import json, sys
import holidays
import holidays.countries  # the package as the library imports it: every country
first, last = json.loads(sys.argv[2])
out = {}
for country, subdiv in json.loads(sys.argv[1]):
    cal = holidays.country_holidays(country, subdiv=subdiv, years=range(first, last + 1))
    out[f"{country}-{subdiv}"] = {d.isoformat(): str(n) for d, n in sorted(cal.items())}
print(json.dumps({"days": out}))
"""


def _run(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(CASES), json.dumps(YEARS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_each_calendar_is_the_librarys_and_loads_only_its_country() -> None:
    ours, library = _run(OURS), _run(LIBRARY)
    assert ours["days"] == library["days"]
    assert all(ours["days"][f"{c}-{s}"] for c, s in CASES)  # type: ignore[index]
    # the countries asked for (and what they import), not the library's ~250
    loaded = ours["loaded"]
    assert isinstance(loaded, list)
    assert "holidays.countries.united_states" in loaded
    assert "holidays.countries.afghanistan" not in loaded
    assert len(loaded) < 20, loaded
