"""A stale or forged form gets the form's own answer — never a 500, never a traceback."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.models import Base
from tests.conftest import BotHarness

FORMS: dict[str, dict[str, Any]] = {
    "health_signals": {"nps": {"value": {"type": "number_input", "value": "7"}}},
    "client_update_modal": {"draft": {"value": {"value": "Status: on track."}}},
    "cadence_skip_modal": {"reason": {"value": {"value": "offsite"}}},
}
BAD_METADATA = ["not json {", "[1, 2]", '"a string"', "", '{"slug": 42}', '{"nudge": ["x"]}']


def _rows(bot: BotHarness) -> int:
    with bot.db.session() as s:
        return sum(
            int(s.scalar(select(func.count()).select_from(t)) or 0)
            for t in Base.metadata.sorted_tables
            if t.name not in ("inbox", "service_status")
        )


def _submit(bot: BotHarness, callback: str, metadata: str, values: dict[str, Any]) -> Any:
    return bot.interact(
        {
            "type": "view_submission",
            "team": {"id": "T0EMU"},
            "user": {"id": "U0CSO1"},
            "trigger_id": "t-form",
            "view": {
                "id": "VSTALE",
                "type": "modal",
                "callback_id": callback,
                "private_metadata": metadata,
                "state": {"values": values},
            },
        }
    )


@pytest.mark.parametrize("callback", sorted(FORMS))
def test_stale_or_forged_state_gets_the_forms_own_answer(bot: BotHarness, callback: str) -> None:
    before = _rows(bot)
    for metadata in BAD_METADATA:
        status, raw = _submit(bot, callback, metadata, FORMS[callback])
        assert status == 200, (callback, metadata, raw)
        assert b"Traceback" not in raw
        if raw:
            answer = json.loads(raw)
            assert answer["response_action"] in ("errors", "update"), answer
    # A form with no inputs at all (missing blocks) is answered the same way.
    status, _ = _submit(bot, callback, '{"slug": "acme"}', {})
    assert status == 200
    bot.settle()
    assert _rows(bot) == before
    assert not [c for c in bot.emulator.calls("chat.postMessage") if c.get("channel") != "U0CSO1"]


def test_a_forged_health_form_says_it_is_out_of_date(bot: BotHarness) -> None:
    status, raw = _submit(bot, "health_signals", "not json {", FORMS["health_signals"])
    answer = json.loads(raw)
    assert status == 200 and answer["response_action"] == "update"
    assert "out of date" in json.dumps(answer["view"])
