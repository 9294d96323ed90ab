"""Every message template, rendered with hostile text in every field a person typed: nothing of
it can mention @channel, @here, a user, or make a link — in the blocks or in the plain-text
fallback Slack notifies from. The mentions and links the bot builds itself stay."""

from __future__ import annotations

from datetime import date
from importlib.resources import files
from types import SimpleNamespace as NS
from typing import Any

import pytest

from domain.commands import TouchpointKind, parse_link
from domain.pulse import Sentiment
from prompts.digest_views import _common
from prompts.render import render

HOSTILE = "<!channel> <!here> <@U123> <https://evil|x> & > <"
# What a person can get through parse_link: a URL with a `<` in it.
HOSTILE_LINK = parse_link("https://ok.example/<!channel>")
FORBIDDEN = ("<!", "<@U123>", "<https://evil")

# Slack ids and links the bot itself puts in (from the portfolio or from Slack's API).
LEAD, CSO, AUTHOR = "U0LEAD", "U0CSO1", "U0EXT1"
PERMALINK = "https://acme.slack.com/archives/C0ACME/p1700000000000100"

flag = NS(
    status="decided",
    decided_by=LEAD,
    flagged_by=CSO,
    author_id=AUTHOR,
    reaction=HOSTILE,
    source="reaction",
)
card = NS(
    name=HOSTILE,
    slug="acme",
    sentiment=Sentiment.ANXIOUS,
    sentiment_at="2026-11-19",
    hook=HOSTILE,
    update=HOSTILE,
    touched_today=False,
    exempt_today=HOSTILE,
    last_touchpoint_days=2,
    win_this_week=True,
)
client = NS(name=HOSTILE)

MESSAGES: dict[str, dict[str, Any]] = {
    "client_update_posted.j2": dict(
        slot="eod", channel="C0ACME", permalink=PERMALINK, client_name=HOSTILE
    ),
    "flag_already.j2": dict(flag=flag, decision_label="In scope"),
    "flag_context.j2": dict(flag=flag, dm=True, internal_channel="C0ACMEINT"),
    "flag_decided.j2": dict(flag=flag, decision_label="In scope", day="2026-11-20"),
    "flag_detected.j2": dict(source="rules", reason=HOSTILE),
    "flag_gone.j2": dict(suggestion=True),
    "flag_internal.j2": dict(
        service_lead=LEAD,
        label="scope creep",
        client_name=HOSTILE,
        quote=HOSTILE,
        permalink=PERMALINK,
    ),
    "flag_reminder.j2": dict(
        step="service_lead",
        client_name=HOSTILE,
        days=2,
        cso=CSO,
        label="risk",
        quote=HOSTILE,
        permalink=PERMALINK,
    ),
    "flag_suggestion.j2": dict(
        label="risk", client_name=HOSTILE, author=AUTHOR, quote=HOSTILE, permalink=PERMALINK
    ),
    "flag_suggestion_done.j2": dict(
        flagged=True, label="risk", client_name=HOSTILE, quote=HOSTILE, dm=False, channel="C0X"
    ),
    "flag_withdrawn.j2": dict(label="risk", client_name=HOSTILE, quote=HOSTILE, by=CSO),
    "internal_error.j2": {},
    "queued.j2": {},
    "refused.j2": dict(reason="not_on_team", client_name=HOSTILE),
    "work_failed.j2": {},
    "post_failed.j2": dict(reason=HOSTILE),
    "pulse_card.j2": dict(card=card, emoji=":grimacing:"),
    "pulse_card_context.j2": dict(card=card),
    "pulse_no_clients.j2": {},
    "pulse_recorded.j2": dict(
        name=HOSTILE,
        update=NS(sentiment=Sentiment.HAPPY, hook=HOSTILE, update=HOSTILE, note=HOSTILE),
    ),
    "pulse_share_refused.j2": {},
    "pulse_text.j2": dict(cards=[card, card]),
    "question_unanswered.j2": dict(
        author=AUTHOR, client_name=HOSTILE, hours=4, quote=HOSTILE, permalink=PERMALINK
    ),
    "skip_recorded.j2": dict(new=True, day=date(2026, 11, 20), client=client, reason=HOSTILE),
    "thread_orphaned.j2": dict(answerer=AUTHOR, channel="C0ACME", quote=HOSTILE),
    "touchpoint_recorded.j2": dict(
        request=NS(kind=TouchpointKind.CALL, note=HOSTILE, link=HOSTILE_LINK),
        client=client,
        day=date(2026, 11, 19),
        today=date(2026, 11, 20),
    ),
    "win_gone.j2": {},
    "win_recorded.j2": dict(
        week="2026-W47",
        name=HOSTILE,
        request=NS(text=HOSTILE, link=HOSTILE_LINK),
        activity=True,
        example="We cut their report time from 2 days to 2 hours.",
    ),
}
# The draft of a client update is the initial value of a plain-text input the CSO edits: plain
# text shows `<!channel>` as typed and never notifies, so it is not mrkdwn-escaped. (What the CSO
# sends is escaped where it is posted.)
PLAIN_TEXT = {"client_update_draft.j2"}

slack = _common("slack")
digest = NS(
    organization=HOSTILE,
    week="2026-W47",
    headline=HOSTILE,
    attention_items=[HOSTILE] * 12,
    has_data=True,
    overall=NS(expected=10, done=7, rate=0.7),
    daily_done=6,
    daily_expected=8,
    weekly_done=1,
    weekly_expected=2,
    updates_expected=8,
    morning_done=5,
    eod_done=4,
    csos=[],
    on_track_line=HOSTILE,
    all_on_track=False,
)
section = NS(
    status="ok",
    title="Flags",
    summary=HOSTILE,
    items=[NS(attention=True, text=HOSTILE)],
    more=0,
)
cso = NS(
    name=HOSTILE,
    clients=2,
    expected=10,
    done=7,
    rate=0.7,
    daily_done=6,
    daily_expected=8,
    weekly_done=1,
    weekly_expected=2,
    misses=[NS(client=HOSTILE, days=[date(2026, 11, 18)])],
    presentations_missing=[HOSTILE],
    exemptions=[NS(client=HOSTILE, day=date(2026, 11, 20), reason=HOSTILE)],
    wins=[NS(client=HOSTILE, text=HOSTILE)],
    not_tangible=[NS(client=HOSTILE, text=HOSTILE)],
    ignored=1,
    ignored_example=HOSTILE,
    updates_expected=5,
    morning_done=3,
    eod_done=2,
)
DIGEST: dict[str, dict[str, Any]] = {
    "bad_week.j2": dict(error=HOSTILE),
    "consistency.j2": dict(d=digest, **slack),
    "cso.j2": dict(c=cso, has_data=True, limit=10, **slack),
    "headline.j2": dict(d=digest, limit=10, threaded=True, **slack),
    "section.j2": dict(s=section, limit=10, **slack),
    "settings_error.j2": dict(error=HOSTILE),
    "text.j2": dict(d=digest, pct=slack["pct"]),
}
# Whole documents for a file, not for Slack: Markdown is not parsed for mentions, HTML is
# autoescaped (and checked below).
DOCUMENTS = {"digest.md.j2", "digest.html.j2"}


def _names(folder: str) -> set[str]:
    return {p.name for p in files("prompts").joinpath(folder).iterdir() if p.name.endswith(".j2")}


def test_every_slack_template_is_checked() -> None:
    # A new template must be added here with hostile text in its user-supplied fields.
    assert _names("messages") == set(MESSAGES) | PLAIN_TEXT
    assert _names("digest") == set(DIGEST) | DOCUMENTS


@pytest.mark.parametrize(
    ("name", "context"),
    [(f"messages/{n}", c) for n, c in MESSAGES.items()]
    + [(f"digest/{n}", c) for n, c in DIGEST.items()]
    + [
        (
            "digest/section.j2",
            dict(s=NS(**{**vars(section), "status": "not_tracked"}), limit=10, **slack),
        ),
        ("digest/cso.j2", dict(c=cso, has_data=False, limit=10, **slack)),
        (
            "messages/flag_suggestion_done.j2",
            {**MESSAGES["flag_suggestion_done.j2"], "flagged": False},
        ),
        ("messages/skip_recorded.j2", {**MESSAGES["skip_recorded.j2"], "new": False}),
    ],
)
def test_hostile_text_cannot_mention_or_link(name: str, context: dict[str, Any]) -> None:
    out = render(name, **context)
    for bad in FORBIDDEN:
        assert bad not in out, f"{name}: {bad!r} survived in {out!r}"
    # Where the same field with harmless text shows up, the hostile text shows up escaped.
    if "MARKER" in render(name, **_swap(context)):
        assert "&lt;!channel&gt;" in out, f"{name} dropped the text instead of escaping it"


def _swap(value: Any) -> Any:
    """The same context with every hostile string replaced by a harmless marker."""
    if type(value) is str:
        return value.replace(HOSTILE, "MARKER").replace(str(HOSTILE_LINK), "https://MARKER")
    if isinstance(value, dict):
        return {k: _swap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(v) for v in value]
    if isinstance(value, NS):
        return NS(**_swap(vars(value)))
    return value


def test_the_bots_own_mentions_and_links_stay() -> None:
    out = render("messages/flag_internal.j2", **MESSAGES["flag_internal.j2"])
    assert out.startswith(f"<@{LEAD}> ") and f"(<{PERMALINK}|link>)" in out
    tp = render("messages/touchpoint_recorded.j2", **MESSAGES["touchpoint_recorded.j2"])
    assert "(<https://ok.example/&lt;!channel|link>)" in tp


def test_the_pulse_fallback_is_escaped_like_its_blocks() -> None:
    text = render("messages/pulse_text.j2", cards=[card])
    assert text.startswith("&lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt;")
    assert "hook: &lt;!channel&gt;" in text and "update: &lt;!channel&gt;" in text


def test_the_html_digest_is_autoescaped() -> None:
    out = render(
        "digest/digest.html.j2",
        d=NS(
            **{**vars(digest), "csos": [NS(**vars(cso), attention=False)]},
            sections=[section],
            chart=NS(weeks=[]),
            generated_at=date(2026, 11, 23),
        ),
        chart_b64="",
        **_common("html"),
    )
    assert "<!channel>" not in out and "&lt;!channel&gt;" in out
