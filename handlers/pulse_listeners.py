"""/pulse — the stand-up's 60-second Partnership Pulse."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from domain.access import Need
from domain.pulse import PULSE_USAGE, PulseShow, PulseUpdate, parse_pulse
from handlers.slash import Call, Command, Reply, register_command
from prompts.pulse_views import (
    no_clients,
    post_failed,
    pulse_recorded,
    pulse_title,
    render_cards,
    share_refused,
)
from storage.portfolio_store import person_by_slack_id
from usecases import pulse_actions as pulse
from usecases.reminders import after_recorded

PulseRequest = PulseShow | PulseUpdate


def works(call: Call[PulseRequest]) -> Reply:
    if isinstance(call.request, PulseShow):
        return show(call, call.request)
    return record(call, call.request)


def record(call: Call[PulseRequest], update: PulseUpdate) -> Reply:
    client = call.client
    assert client is not None  # slug_of names it; the helper resolved it
    pulse.record_update(
        call.tx,
        client=client,
        update=update,
        by=call.user_id,
        now=call.now,
        request_key=call.request_key,
    )
    deps, user = call.deps, call.user_id

    def close_reminders() -> None:
        # The stand-up's reminder closes once the pulse is committed.
        after_recorded(deps, deps.slack, client.id, "pulse", user)

    return Reply(text=pulse_recorded(client.name, update), after=close_reminders)


def show(call: Call[PulseRequest], request: PulseShow) -> Reply:
    found = pulse.cards_of(call.tx, call.user_id, call.now)
    if not found.cards:
        return Reply(text=no_clients())
    title = pulse_title(_display_name(call) if request.share else None)
    blocks, fallback = render_cards(found.cards, title=title)
    web = call.deps.slack
    if not request.share or web is None:
        return Reply(text=fallback, blocks=blocks)
    guard = call.deps.channel_guard(web)
    if guard.is_shared(call.channel_id, client_channels=set(found.client_channels)):
        return Reply(text=share_refused())
    try:
        web.chat_postMessage(channel=call.channel_id, text=fallback, blocks=blocks)
    except SlackApiError as err:
        reason = err.response.get("error", "") if err.response is not None else ""
        return Reply(text=post_failed(reason))
    return Reply()


def _display_name(call: Call[PulseRequest]) -> str:
    person = person_by_slack_id(call.tx, call.user_id)
    return person.name if person else call.user_id


def _slug(request: PulseRequest) -> str | None:
    return request.slug if isinstance(request, PulseUpdate) else None


PULSE = Command(
    name="/pulse",
    usage=PULSE_USAGE,
    parse=parse_pulse,
    need=Need.CLIENT_TEAM,
    works=works,
    slug_of=_slug,
    help_words=("help", "?"),
)


def register(app: App) -> None:
    register_command(app, PULSE)
