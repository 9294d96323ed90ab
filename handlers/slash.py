"""Slash commands, all the same way: a command module is a parse function, a works function
and a `Command(...)` value, registered with `register_command(app, command)`.

What the helper does for every command:
  ack — with the usage on a parse error or a help word, ephemeral — then, after the ack
  (from the inbox, retried on failure): one transaction; the client named in the command, if
  any (unknown: a did-you-mean reply); authorization (handlers/authz.py, the one place); the
  command's own `works(call)`; commit; the reply, ephemeral; then `reply.after()` (Slack posts
  that must wait for the commit). A modal (`opens`) is opened while Slack waits, with its
  3-second trigger id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from slack_bolt import Ack, App, BoltContext, Respond

from domain.access import Need
from domain.commands import CommandError, unknown_client_message
from domain.records import Client
from handlers import registry
from handlers.authz import refusal
from handlers.common import SlashCommand, after_ack, deps_of, on_ack
from storage.db import Transaction
from storage.portfolio_store import active_clients, client_by_slug
from usecases.deps import Deps

logger = logging.getLogger(__name__)

R = TypeVar("R")


@dataclass
class Call(Generic[R]):
    """One command, as its `works` (or `opens`) sees it."""

    deps: Deps
    tx: Transaction
    request: R
    user_id: str
    channel_id: str
    now: datetime
    client: Client | None
    trigger_id: str
    request_key: str | None  # "cmd:<trigger_id>": the same command retried writes once


@dataclass
class Reply:
    """What the person who typed the command sees (ephemeral), and what runs after the
    commit."""

    text: str | None = None
    blocks: list[dict[str, Any]] | None = None
    after: Callable[[], None] | None = None


@dataclass(frozen=True)
class Command(Generic[R]):
    name: str  # "/win"
    usage: str  # shown with a parse error
    parse: Callable[[str], R]  # raises domain.commands.CommandError(msg)
    need: Need  # MEMBER | CLIENT_TEAM | LEADERSHIP
    # The command's own lines: runs after the ack, inside ONE transaction (call.tx).
    works: Callable[[Call[R]], Reply]
    # The client to resolve: unknown → did-you-mean reply; CLIENT_TEAM is checked against it.
    slug_of: Callable[[R], str | None] | None = None
    # A modal to open while Slack waits (None: no modal for this request).
    opens: Callable[[Call[R]], dict[str, Any] | None] | None = None
    help_words: tuple[str, ...] = ("help",)  # text that answers with the usage


def register_command(app: App, command: Command[Any]) -> None:
    """Answer `command.name` with `command`, and list it in the authorization registry."""

    def listener(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        slash = SlashCommand.model_validate(body)
        if slash.text.strip().lower() in command.help_words:
            ack(text=command.usage)
            return
        try:
            request = command.parse(slash.text)
        except CommandError as err:
            ack(text=f"{err}\n{command.usage}")
            return
        ack()
        if command.opens is not None:
            on_ack(context, lambda: _open(command, slash, request, context))
        after_ack(context, lambda: run(command, slash, request, respond, context))

    listener.__name__ = f"slash_{command.name.strip('/').replace('-', '_')}"
    registry.command(app, command.name, listener, command.need)


def run(
    command: Command[R],
    slash: SlashCommand,
    request: R,
    respond: Respond,
    context: BoltContext,
) -> None:
    """The work after the ack: one transaction, client, authorization, works; then the reply
    and `after`."""
    deps = deps_of(context)
    with deps.db.transaction() as tx:
        reply = _checked(command, slash, request, deps, tx)
    send(respond, reply)
    if reply.after is not None:
        reply.after()


def _checked(
    command: Command[R], slash: SlashCommand, request: R, deps: Deps, tx: Transaction
) -> Reply:
    found = _client(command, request, tx)
    if isinstance(found, Reply):
        return found
    refused = refusal(tx, slash.user_id, _need(command, found), found)
    if refused:
        return Reply(text=refused)
    return command.works(_call(deps, tx, slash, request, found))


def _need(command: Command[R], client: Client | None) -> Need:
    """A client-scoped command that names no client this time (`/pulse` alone, `/touchpoint`
    alone: the cards, the form) is for anyone on the team; naming one, for that client's."""
    if client is None and command.need is Need.CLIENT_TEAM:
        return Need.MEMBER
    return command.need


def _client(command: Command[R], request: R, tx: Transaction) -> Client | Reply | None:
    """The client the command names (None when it names none), or the did-you-mean reply."""
    slug = command.slug_of(request) if command.slug_of is not None else None
    if slug is None:
        return None
    client = client_by_slug(tx, slug)
    if client is None:
        known = [c.slug for c in active_clients(tx)]
        return Reply(text=unknown_client_message(slug, known))
    return client


def _call(
    deps: Deps, tx: Transaction, slash: SlashCommand, request: R, client: Client | None
) -> Call[R]:
    return Call(
        deps=deps,
        tx=tx,
        request=request,
        user_id=slash.user_id,
        channel_id=slash.channel_id,
        now=deps.clock.now(),
        client=client,
        trigger_id=slash.trigger_id,
        request_key=f"cmd:{slash.trigger_id}" if slash.trigger_id else None,
    )


def _open(command: Command[R], slash: SlashCommand, request: R, context: BoltContext) -> None:
    """While Slack waits: the modal, for whoever may act on the client it names."""
    assert command.opens is not None
    deps = deps_of(context)
    with deps.db.session() as tx:
        found = _client(command, request, tx)
        # An unknown client or a refusal: no modal; the work after the ack says why.
        if isinstance(found, Reply):
            return
        if found is not None and refusal(tx, slash.user_id, command.need, found):
            return
        view = command.opens(_call(deps, tx, slash, request, found))
    if view is not None and context.client is not None:
        context.client.views_open(trigger_id=slash.trigger_id, view=view)


def send(respond: Respond, reply: Reply) -> None:
    """The reply, ephemeral, to whoever typed the command (nothing when it is empty)."""
    if reply.text is None and reply.blocks is None:
        return
    respond(text=reply.text or "", blocks=reply.blocks, response_type="ephemeral")
