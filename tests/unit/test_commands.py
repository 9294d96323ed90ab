"""Parsing slash-command text: every mistake gets a message that says what to type."""

from __future__ import annotations

from datetime import date

import pytest

from domain.client_update import Slot, update_facts
from domain.commands import (
    CommandError,
    SkipRequest,
    TouchpointKind,
    TouchpointRequest,
    looks_like_activity_list,
    parse_touchpoint,
    parse_win,
    read_touchpoint_form,
    unknown_client_message,
)
from domain.pulse import PulseShow, PulseUpdate, Sentiment, parse_pulse, parse_pulse_update


def test_touchpoint_with_quoted_note_and_link() -> None:
    req = parse_touchpoint('acme email "Sent the attribution deck" <https://x.io/deck>')
    assert req == TouchpointRequest(
        slug="acme",
        kind=TouchpointKind.EMAIL,
        note="Sent the attribution deck",
        link="https://x.io/deck",
    )


def test_touchpoint_with_smart_quotes_from_a_mac() -> None:
    req = parse_touchpoint("Acme call “Weekly check-in”")
    assert isinstance(req, TouchpointRequest)
    assert req.note == "Weekly check-in" and req.slug == "acme"


def test_touchpoint_skip_keeps_the_reason() -> None:
    assert parse_touchpoint('acme skip "client offsite"') == SkipRequest(
        slug="acme", reason="client offsite"
    )


def test_touchpoint_empty_text_means_modal() -> None:
    assert parse_touchpoint("   ") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("acme emial hi there", "did you mean email"),
        ("acme", "I need a client, a kind and a note"),
        ('acme email "unclosed', "quote is not closed"),
        ("acme skip", "I need a client"),
    ],
)
def test_touchpoint_errors_say_what_was_wrong(text: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        parse_touchpoint(text)


def test_win_parsing() -> None:
    win = parse_win('acme "Demoed the new pipeline: reports 2 days faster" https://x.io')
    assert win.slug == "acme" and win.link == "https://x.io"
    assert win.text.startswith("Demoed")


def test_activity_list_versus_outcome_language() -> None:
    assert looks_like_activity_list("Closed 15 tickets, had 3 meetings, wrote 500 lines of code")
    assert looks_like_activity_list("closed 15 tickets")
    assert not looks_like_activity_list("Demoed the new pipeline: reports 2 days faster")
    assert not looks_like_activity_list(
        "We unlocked the new data pipeline, which means reports are 2 days faster"
    )


def test_unknown_client_suggests_the_closest_slug() -> None:
    assert unknown_client_message("acmee", ["acme", "globex"]) == (
        'Unknown client "acmee" — did you mean acme?'
    )
    assert "did you mean" not in unknown_client_message("zzz", ["acme"])


def test_pulse_update_with_hook_and_update() -> None:
    p = parse_pulse_update(
        "acme anxious hook: asking about MCPs | update: sent new analytics report"
    )
    assert p.slug == "acme" and p.sentiment is Sentiment.ANXIOUS
    assert p.hook == "asking about MCPs"
    assert p.update == "sent new analytics report"


@pytest.mark.parametrize(
    ("word", "sentiment"),
    [
        ("worried", Sentiment.ANXIOUS),
        ("at risk", Sentiment.AT_RISK),
        ("Delighted", Sentiment.THRILLED),
        ("ok", Sentiment.NEUTRAL),
        ("at-risk", Sentiment.AT_RISK),
    ],
)
def test_pulse_sentiment_synonyms(word: str, sentiment: Sentiment) -> None:
    assert parse_pulse_update(f"acme {word}").sentiment is sentiment


def test_pulse_unknown_sentiment_suggests_and_lists_the_vocabulary() -> None:
    with pytest.raises(CommandError) as err:
        parse_pulse_update("acme anxius")
    assert "did you mean anxious" in str(err.value)
    assert "thrilled" in str(err.value)


def test_pulse_alone_shows_the_cards_and_share_posts_them() -> None:
    assert parse_pulse("") == PulseShow(share=False)
    assert parse_pulse(" Share ") == PulseShow(share=True)
    assert isinstance(parse_pulse("acme happy"), PulseUpdate)


TODAY = date(2026, 11, 20)


def _form(**fields: str | None) -> dict[str, str | None]:
    values: dict[str, str | None] = {
        "slug": "acme",
        "kind": "call",
        "note": " Weekly call ",
        "link": None,
        "day_text": "2026-11-19",
    }
    values.update(fields)
    return values


def test_touchpoint_form_gives_the_request_and_its_day() -> None:
    form = read_touchpoint_form(**_form(), today=TODAY)
    assert form.errors == {}
    assert form.request == TouchpointRequest(
        slug="acme", kind=TouchpointKind.CALL, note="Weekly call"
    )
    assert form.day == date(2026, 11, 19)


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"slug": None}, {"client": "Choose a client."}),
        ({"note": "  "}, {"note": "Say what happened, in a few words."}),
        ({"link": "not a link"}, {"link": "That doesn't look like a link (https://…)."}),
        ({"day_text": "yesterday"}, {"day": "Pick a date."}),
        ({"day_text": "2026-11-22"}, {"day": "A touchpoint can't be in the future."}),
        ({"day_text": "2026-11-21"}, {}),  # tomorrow: someone ahead of the client's clock
        ({"day_text": "2026-11-05"}, {"day": "Only the last 14 days can be logged."}),
        ({"day_text": "2026-11-06"}, {}),
    ],
)
def test_touchpoint_form_errors_by_field(
    fields: dict[str, str | None], errors: dict[str, str]
) -> None:
    form = read_touchpoint_form(**_form(**fields), today=TODAY)
    assert form.errors == errors
    assert (form.request is None) == bool(errors)


def test_update_facts_keep_only_client_safe_flags_and_the_latest_touchpoints() -> None:
    facts = update_facts(
        client_name="Acme Corp",
        slot=Slot.EOD,
        touchpoints=[f"touchpoint {i}" for i in range(7)],
        open_flags=[
            ("scope_creep", "Can you also build the CRM sync?"),
            ("risk", "We may lose the budget " + "x" * 200),
            ("deadline_change", "The launch moved to Dec 4th."),
        ],
        latest_update="sent the report",
        win=None,
    )
    assert facts.today == [f"touchpoint {i}" for i in range(2, 7)]
    assert len(facts.risks) == 2 and facts.risks[1] == "The launch moved to Dec 4th."
    assert len(facts.risks[0]) == 90 and facts.risks[0].endswith("…")
    assert not any("CRM" in r for r in facts.risks)
