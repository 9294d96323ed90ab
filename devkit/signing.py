"""Build requests exactly as Slack sends them, signed with the signing secret.

Used by the tests, `csobot demo` and the benchmark to drive the real app over HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

_counter = itertools.count(1)


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request-signing headers, from slack_sdk's own verifier (the one the bot checks
    them with)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    try:
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    except UnicodeDecodeError:
        # slack_sdk signs text only; a test of a body that isn't UTF-8 needs the raw bytes
        # signed (Slack's scheme: v0=HMAC-SHA256 of "v0:<timestamp>:<body>").
        mac = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
        signature = "v0=" + mac.hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature or ""}


def slash_command_body(
    command: str,
    text: str,
    *,
    user_id: str,
    channel_id: str = "C0STANDUP",
    response_url: str = "https://hooks.slack.com/commands/T0/1/x",
    trigger_id: str | None = None,
    team_id: str = "T0EMU",
) -> bytes:
    form = {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "team_domain": "emulated",
        "channel_id": channel_id,
        "channel_name": channel_id.lower(),
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A0CSOBOT",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or f"{next(_counter)}.trigger",
    }
    return urlencode(form).encode()


def event_body(
    event: dict[str, Any], *, event_id: str | None = None, team_id: str = "T0EMU"
) -> bytes:
    payload = {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "api_app_id": "A0CSOBOT",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_counter):010d}",
        "event_time": int(float(event.get("event_ts") or event.get("ts") or time.time())),
        "authorizations": [{"team_id": team_id, "user_id": "UBOT", "is_bot": True}],
    }
    return json.dumps(payload).encode()


def interaction_body(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def content_type_for(body: bytes) -> str:
    return "application/json" if body.startswith(b"{") else "application/x-www-form-urlencoded"


def post_signed(
    url: str,
    secret: str,
    body: bytes,
    *,
    headers: dict[str, str] | None = None,
    timestamp: int | None = None,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    all_headers = {"Content-Type": content_type_for(body), **sign(secret, body, timestamp)}
    all_headers.update(headers or {})
    req = urllib.request.Request(url, data=body, headers=all_headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()
