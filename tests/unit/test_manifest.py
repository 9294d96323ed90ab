"""manifest.yaml is a contract with the code: every slash command, event, interactivity need
and OAuth scope the bot uses is in it, and nothing it doesn't use.

What the code uses is derived, not listed: the commands, events, buttons and forms from the
listeners of the real Bolt app (built as the tests build it, every feature registered), the
Slack Web API methods from the production sources (`client.chat_postMessage(...)`,
`api_call("chat.postMessage")`). The one hand-kept table is METHOD_SCOPES: which scopes a Web
API method needs (api.slack.com/methods); a method missing from it fails the test by name.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient

from bot.app import create_app
from bot.runtime import build_deps
from bot.settings import Settings
from storage.db import Database
from usecases.clock import FixedClock

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "manifest.yaml"
PRODUCTION = ("bot", "handlers", "scheduling", "usecases", "storage", "llm", "connectors")
PRODUCTION += ("prompts", "domain")
URL = "https://csobot.example.com/slack/events"

# Slack Web API method -> the bot scopes it needs, for the channels the bot uses it on.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "chat.postMessage": ("chat:write",),  # channels the bot is in, and its DMs
    "chat.update": ("chat:write",),
    "chat.delete": ("chat:write",),
    "chat.getPermalink": (),
    # client channels (public or private) for a flagged message; the bot's DMs for the
    # outbox's "was this nudge already sent?" lookup
    "conversations.history": ("channels:history", "groups:history", "im:history"),
    "conversations.replies": ("channels:history", "groups:history"),  # a flagged thread reply
    "conversations.info": ("channels:read", "groups:read"),  # is the channel shared?
    "conversations.open": ("im:write",),
    "dnd.info": ("dnd:read",),
    "views.open": (),
    "views.push": (),
    "views.update": (),
    "views.publish": (),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
}
# WebClient helpers that are several Web API methods.
COMPOSITE = {"files_upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal")}
# A registered event type -> the manifest's bot events and the scopes they need. The message
# listener reads channels (client and internal ones, public or private); a DM handler would add
# message.im and im:history (and a writable Messages tab).
EVENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "message": {"message.channels": ("channels:history",), "message.groups": ("groups:history",)},
    "reaction_added": {"reaction_added": ("reactions:read",)},
    "reaction_removed": {"reaction_removed": ("reactions:read",)},
    "app_home_opened": {"app_home_opened": ()},
    "tokens_revoked": {"tokens_revoked": ()},
    "app_uninstalled": {"app_uninstalled": ()},
}
INTERACTIVE = {"action", "view_submission", "view_closed", "shortcut", "options"}


# -- what the code uses ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    settings = Settings(
        SLACK_BOT_TOKEN="xoxb-manifest",  # type: ignore[call-arg]
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL="http://127.0.0.1:9/api/",  # never called: no token check, no listener runs
        DATABASE_URL="sqlite://",
        CSOBOT_SCHEDULER=False,
        CSOBOT_SPOOL_DIR=str(tmp_path_factory.mktemp("spool")),
        _env_file=None,
    )
    db = Database("sqlite://")
    clock = FixedClock(datetime(2026, 11, 20, tzinfo=UTC))
    deps = build_deps(settings, clock=clock, db=db, migrate=False)
    yield create_app(deps, settings, token_verification=False)
    db.dispose()


def registered(app: App) -> dict[str, set[str]]:
    """{matcher kind: ids} from the app's listeners: command names, event types, action ids,
    view callback ids — read off Bolt's built-in matchers."""
    found: dict[str, set[str]] = {}
    for listener in app._listeners:
        for matcher in listener.matchers:
            func = getattr(matcher, "func", None)
            assert func is not None, f"a listener matcher Bolt did not build: {matcher!r}"
            kind = func.__qualname__.split(".")[0]
            values = [v for v in inspect.getclosurevars(func).nonlocals.values()]
            ids = [v if isinstance(v, str) else getattr(v, "pattern", repr(v)) for v in values]
            ids = [i for i in ids if not callable(i)]
            found.setdefault(kind, set()).update(str(i) for i in ids)
    return found


def methods_called() -> dict[str, list[str]]:
    """{Slack Web API method: where} for every call in the production sources."""
    client_methods = {n for n in dir(WebClient) if not n.startswith("_")}
    attr_call = re.compile(r"\.([a-z]+_[A-Za-z0-9_]+)\(")
    api_call = re.compile(r"""api_call\(\s*["']([A-Za-z.]+)["']""")
    found: dict[str, list[str]] = {}
    for package in PRODUCTION:
        for path in sorted((ROOT / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            rel = str(path.relative_to(ROOT))
            names: list[str] = []
            for name in attr_call.findall(text):
                if name in client_methods and name not in ("api_call",):
                    names += COMPOSITE.get(name, (name.replace("_", "."),))
            names += api_call.findall(text)
            for method in names:
                found.setdefault(method, []).append(rel)
    return found


def needed(app: App) -> dict[str, Any]:
    listeners = registered(app)
    methods = methods_called()
    unknown = sorted(m for m in methods if m not in METHOD_SCOPES)
    assert unknown == [], (
        f"the code calls {unknown} ({[methods[m][0] for m in unknown]}): add each to "
        "METHOD_SCOPES in tests/unit/test_manifest.py with the scopes it needs, then to "
        "manifest.yaml"
    )
    events = listeners.get("event", set())
    unmapped = sorted(events - EVENTS.keys())
    assert unmapped == [], f"events {unmapped} are handled: add them to EVENTS and the manifest"
    scopes = {scope for m in methods for scope in METHOD_SCOPES[m]}
    bot_events: set[str] = set()
    for event in events:
        for bot_event, event_scopes in EVENTS[event].items():
            bot_events.add(bot_event)
            scopes.update(event_scopes)
    commands = listeners.get("command", set())
    if commands:
        scopes.add("commands")
    return {
        "commands": commands,
        "bot_events": bot_events,
        "scopes": scopes,
        "methods": set(methods),
        "interactive": {k for k in listeners if k in INTERACTIVE},
        "shortcuts": listeners.get("shortcut", set()),
        "options": listeners.get("options", set()),
    }


def load_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


# -- the checks --------------------------------------------------------------------------------
def check(manifest: dict[str, Any], uses: dict[str, Any]) -> list[str]:
    """What is wrong with `manifest` for code that `uses` these; [] when it is exact."""
    problems: list[str] = []
    features = manifest.get("features") or {}
    settings = manifest.get("settings") or {}
    oauth = manifest.get("oauth_config") or {}

    listed = {c["command"] for c in features.get("slash_commands") or []}
    for name in sorted(uses["commands"] - listed):
        problems.append(f"slash command {name} is registered but not in the manifest")
    for name in sorted(listed - uses["commands"]):
        problems.append(f"slash command {name} is in the manifest but nothing answers it")
    for c in features.get("slash_commands") or []:
        if not c.get("description"):
            problems.append(f"slash command {c['command']} has no description")

    scopes = set((oauth.get("scopes") or {}).get("bot") or [])
    for scope in sorted(uses["scopes"] - scopes):
        problems.append(f"scope {scope} is needed but not requested")
    for scope in sorted(scopes - uses["scopes"]):
        problems.append(f"scope {scope} is requested but nothing uses it")
    if (oauth.get("scopes") or {}).get("user"):
        problems.append("user scopes are requested: the bot acts only as itself")

    events = set((settings.get("event_subscriptions") or {}).get("bot_events") or [])
    for event in sorted(uses["bot_events"] - events):
        problems.append(f"event {event} is handled but not subscribed")
    for event in sorted(events - uses["bot_events"]):
        problems.append(f"event {event} is subscribed but nothing handles it")

    interactivity = settings.get("interactivity") or {}
    if bool(uses["interactive"]) != bool(interactivity.get("is_enabled")):
        problems.append(
            f"interactivity is_enabled should be {bool(uses['interactive'])} "
            f"(buttons and forms registered: {sorted(uses['interactive'])})"
        )
    shortcuts = {s.get("callback_id") for s in features.get("shortcuts") or []}
    if shortcuts != uses["shortcuts"]:
        problems.append(f"shortcuts {sorted(shortcuts)} != registered {sorted(uses['shortcuts'])}")
    if bool(interactivity.get("message_menu_options_url")) != bool(uses["options"]):
        problems.append("select-menu options URL without an options listener (or the reverse)")

    home = features.get("app_home") or {}
    wants_home = "app_home_opened" in uses["bot_events"] and "views.publish" in uses["methods"]
    if bool(home.get("home_tab_enabled")) != wants_home:
        problems.append(f"app_home.home_tab_enabled should be {wants_home}")
    dms = "conversations.open" in uses["methods"]
    if bool(home.get("messages_tab_enabled")) != dms:
        problems.append(f"app_home.messages_tab_enabled should be {dms} (the bot's DMs show there)")
    answers_dms = "message.im" in uses["bot_events"]
    if dms and bool(home.get("messages_tab_read_only_enabled")) == answers_dms:
        problems.append(
            f"app_home.messages_tab_read_only_enabled should be {not answers_dms}: "
            + ("a DM to the bot is answered" if answers_dms else "nothing answers a DM")
        )
    if not (features.get("bot_user") or {}).get("display_name"):
        problems.append("features.bot_user.display_name is missing")
    return problems


def request_urls(manifest: dict[str, Any]) -> set[str]:
    settings = manifest.get("settings") or {}
    urls = {c.get("url") for c in (manifest.get("features") or {}).get("slash_commands") or []}
    urls.add((settings.get("event_subscriptions") or {}).get("request_url"))
    urls.add((settings.get("interactivity") or {}).get("request_url"))
    return urls


def test_the_manifest_asks_for_exactly_what_the_code_uses(app: App) -> None:
    assert check(load_manifest(), needed(app)) == []


def test_one_request_url_for_everything_in_http_mode() -> None:
    manifest = load_manifest()
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert request_urls(manifest) == {URL}  # /slack/events, where bot/server.py listens
    assert "/slack/events" in (ROOT / "bot" / "server.py").read_text(encoding="utf-8")


def test_the_socket_mode_variant_is_the_same_app_without_urls(app: App) -> None:
    """The variant the manifest's header and README describe: socket_mode_enabled: true and
    no `url:` / `request_url:` lines. It asks for the same things."""
    lines = MANIFEST.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not re.match(r"\s*(- )?(url|request_url):", line)]
    variant_text = "\n".join(kept).replace(
        "socket_mode_enabled: false", "socket_mode_enabled: true"
    )
    variant = yaml.safe_load(variant_text)
    assert request_urls(variant) == {None}
    assert variant["settings"]["socket_mode_enabled"] is True
    assert check(variant, needed(app)) == []


def test_the_check_fails_on_a_missing_or_an_unused_scope_event_or_command(app: App) -> None:
    uses = needed(app)
    manifest = load_manifest()
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    scopes.remove("im:history")
    scopes.append("users:read")
    manifest["settings"]["event_subscriptions"]["bot_events"].remove("reaction_added")
    manifest["features"]["slash_commands"] = [
        c for c in manifest["features"]["slash_commands"] if c["command"] != "/qbr"
    ] + [{"command": "/nobody", "description": "x"}]
    manifest["features"]["app_home"]["messages_tab_read_only_enabled"] = False
    assert check(manifest, uses) == [
        "slash command /qbr is registered but not in the manifest",
        "slash command /nobody is in the manifest but nothing answers it",
        "scope im:history is needed but not requested",
        "scope users:read is requested but nothing uses it",
        "event reaction_added is handled but not subscribed",
        "app_home.messages_tab_read_only_enabled should be True: nothing answers a DM",
    ]


def test_the_derivation_sees_commands_events_forms_and_methods(app: App) -> None:
    """Guards the walk itself: if Bolt's matchers or the call style change, this fails
    rather than the contract silently passing on empty sets."""
    uses = needed(app)
    assert {"/pulse", "/touchpoint", "/win", "/health", "/qbr"} <= uses["commands"]
    assert {"message.channels", "reaction_added", "app_home_opened"} <= uses["bot_events"]
    assert {"action", "view_submission"} <= uses["interactive"]
    assert {"chat.postMessage", "conversations.open", "views.open", "dnd.info"} <= uses["methods"]
    assert "files.completeUploadExternal" in uses["methods"]  # through files_upload_v2


def test_slacks_request_url_check_is_answered(app: App) -> None:
    """Creating the app from the manifest makes Slack send `url_verification` to the Request
    URL once; the app answers with the challenge, nothing else runs."""
    body = json.dumps({"type": "url_verification", "token": "t", "challenge": "c-123"})
    resp = app.dispatch(BoltRequest(body=body, headers={"content-type": "application/json"}))
    assert resp.status == 200
    assert "c-123" in resp.body
