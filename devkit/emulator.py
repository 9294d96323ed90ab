"""A local Slack Web API emulator: records every call and answers like Slack.

The tests and `csobot demo` run the bot against it through `SLACK_API_URL`. It can be told
to answer 429 (with Retry-After), 5xx or to drop the connection — before or after the call
took effect, to exercise retries and unknown outcomes —, to hold an answer longer than the
client waits (the post is made, the answer is late), to add latency to every answer, to
enforce a per-method rate limit, and to report channels as shared with another organization
(Slack Connect). Messages keep their `metadata`; `conversations.history` returns it when
asked with `include_all_metadata`, like Slack.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # many clients at once (a delivery pool) are queued, not reset


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    token: str | None = None

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)


@dataclass
class _Fault:
    status: int
    retry_after: int | None = None
    times: int = 1
    error: str | None = None  # an ok:false error code, with status 200
    reset: bool = False
    after_apply: bool = False  # the call takes effect, then the fault is answered


@dataclass
class _Delay:
    seconds: float
    times: int = 1


@dataclass
class _RateLimit:
    per_second: float
    retry_after: int = 1
    window: list[float] = field(default_factory=list)


@dataclass
class EmulatorState:
    calls: list[Call] = field(default_factory=list)
    faults: dict[str, list[_Fault]] = field(default_factory=dict)
    shared_channels: set[str] = field(default_factory=set)
    unreadable_channels: set[str] = field(default_factory=set)
    dnd: dict[str, float] = field(default_factory=dict)  # user -> next_dnd_end_ts
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    delays: dict[str, list[_Delay]] = field(default_factory=dict)
    latency: dict[str, float] = field(default_factory=dict)  # method ("*": all) -> seconds
    rate_limits: dict[str, _RateLimit] = field(default_factory=dict)
    in_flight: dict[str, int] = field(default_factory=dict)
    peak_in_flight: dict[str, int] = field(default_factory=dict)


def dm_channel(user: str) -> str:
    """The DM channel the emulator gives a user id (U123 -> D123), in every method."""
    return "D" + user[1:] if user[:1] in ("U", "W") else user


class SlackEmulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.state = EmulatorState()
        self._lock = threading.Condition()
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                emulator._handle(self)

            def do_GET(self) -> None:
                emulator._handle(self)

        self._server = _Server((host, port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = str(self._server.server_address[0]), int(self._server.server_address[1])
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    def response_url(self, token: str = "cmd") -> str:
        return f"{self.base_url}/response/{token}"

    def start(self) -> SlackEmulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases answers held by `delay` / latency
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- programming it ----------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        status: int = 500,
        *,
        times: int = 1,
        retry_after: int | None = None,
        error: str | None = None,
        reset: bool = False,
        after_apply: bool = False,
    ) -> None:
        """The next `times` calls of `method` fail. With `after_apply` the call takes effect
        first (the message is posted) and then fails: an outcome the caller cannot know."""
        with self._lock:
            self.state.faults.setdefault(method, []).append(
                _Fault(status, retry_after, times, error, reset, after_apply)
            )

    def delay(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Hold the answer to the next `times` calls of `method` for `seconds`: the call is
        recorded and takes effect at once; only the answer is late (past a client timeout)."""
        with self._lock:
            self.state.delays.setdefault(method, []).append(_Delay(seconds, times))

    def set_latency(self, seconds: float, method: str = "*") -> None:
        """Answer every call of `method` (default: every method) after `seconds`."""
        with self._lock:
            if seconds > 0:
                self.state.latency[method] = seconds
            else:
                self.state.latency.pop(method, None)

    def rate_limit(self, method: str, per_second: float | None, retry_after: int = 1) -> None:
        """Answer 429 with Retry-After when `method` is called more than `per_second` times
        in a second (Slack's per-method limits); None lifts the limit."""
        with self._lock:
            if per_second is None:
                self.state.rate_limits.pop(method, None)
            else:
                self.state.rate_limits[method] = _RateLimit(per_second, retry_after)

    def set_shared(self, *channels: str) -> None:
        self.state.shared_channels.update(channels)

    def set_unreadable(self, *channels: str) -> None:
        self.state.unreadable_channels.update(channels)

    def add_message(
        self,
        channel: str,
        ts: str,
        text: str,
        user: str,
        *,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Seed a message the emulator then returns from conversations.history / .replies."""
        message: dict[str, Any] = {"type": "message", "user": user, "ts": ts, "text": text}
        if thread_ts and thread_ts != ts:
            message["thread_ts"] = thread_ts
        if metadata is not None:
            message["metadata"] = metadata
        with self._lock:
            self.state.messages[(channel, ts)] = message

    def set_dnd(self, user: str, until: float | None) -> None:
        if until is None:
            self.state.dnd.pop(user, None)
        else:
            self.state.dnd[user] = until

    def reset(self) -> None:
        with self._lock:
            self.state = EmulatorState()

    # -- reading what happened ---------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.state.calls if method is None or c.method == method]

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        """The messages the emulator holds for a channel (a user id means their DM), oldest
        first."""
        channel = dm_channel(channel)
        with self._lock:
            found = [dict(m) for (c, _), m in self.state.messages.items() if c == channel]
        return sorted(found, key=lambda m: float(m["ts"]))

    def peak_in_flight(self, method: str) -> int:
        """The most calls of `method` the emulator was answering at once."""
        with self._lock:
            return self.state.peak_in_flight.get(method, 0)

    def clear(self) -> None:
        with self._lock:
            self.state.calls.clear()

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Wait until `count` calls of `method` (matching `where`) were made; return them."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [
                    c
                    for c in self.state.calls
                    if c.method == method and (where is None or where(c))
                ]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = sorted({c.method for c in self.state.calls})
                    raise AssertionError(
                        f"expected {count} {method} call(s), got {len(found)}; seen: {seen}"
                    )
                self._lock.wait(remaining)

    # -- the HTTP side ------------------------------------------------------------------------
    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        url = urlparse(req.path)
        length = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(length) if length else b""
        if url.path.startswith("/upload/"):
            file_id = url.path.rsplit("/", 1)[-1]
            self.state.uploads[file_id] = raw
            self._record(Call("upload", {"file_id": file_id, "size": len(raw)}, time.time()))
            self._send(req, 200, b"OK - %d" % len(raw), "text/plain")
            return
        params = self._parse(req, raw, url.query)
        if url.path.startswith("/response/"):
            fault = self._take_fault("response_url")
            self._record(Call("response_url", params, time.time()))
            if fault is not None:
                self._send(req, fault.status, b"failed", "text/plain")
                return
            self._send(req, 200, b"ok", "text/plain")
            return
        if not url.path.startswith("/api/"):
            self._send(req, 404, b"not found", "text/plain")
            return
        method = url.path[len("/api/") :]
        auth = req.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth else params.get("token")
        with self._lock:
            n = self.state.in_flight[method] = self.state.in_flight.get(method, 0) + 1
            self.state.peak_in_flight[method] = max(n, self.state.peak_in_flight.get(method, 0))
        try:
            self._call(req, method, params, token)
        finally:
            with self._lock:
                self.state.in_flight[method] -= 1

    def _call(
        self, req: BaseHTTPRequestHandler, method: str, params: dict[str, Any], token: str | None
    ) -> None:
        fault = self._take_fault(method) or self._over_rate(method)
        self._record(Call(method, params, time.time(), token))
        answer: dict[str, Any] | None = None
        if token and (fault is None or fault.after_apply):
            answer = self._answer(method, params)  # the call takes effect
        self._hold(method)
        if fault is not None:
            if fault.reset:
                req.close_connection = True
                req.connection.close()
                return
            if fault.error:
                self._json(req, 200, {"ok": False, "error": fault.error})
                return
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
            body = {"ok": False, "error": "ratelimited" if fault.status == 429 else "fatal_error"}
            self._json(req, fault.status, body, headers)
            return
        if answer is None:
            self._json(req, 200, {"ok": False, "error": "not_authed"})
            return
        self._json(req, 200, answer)

    def _hold(self, method: str) -> None:
        """Latency and held answers: the call has been recorded (and applied) already."""
        with self._lock:
            seconds = self.state.latency.get(method, self.state.latency.get("*", 0.0))
            queue = self.state.delays.get(method)
            if queue:
                seconds += queue[0].seconds
                queue[0].times -= 1
                if queue[0].times <= 0:
                    queue.pop(0)
        if seconds > 0:
            self._stopping.wait(seconds)

    def _over_rate(self, method: str) -> _Fault | None:
        with self._lock:
            limit = self.state.rate_limits.get(method)
            if limit is None:
                return None
            now = time.monotonic()
            limit.window[:] = [t for t in limit.window if t > now - 1.0]
            if len(limit.window) >= limit.per_second:
                return _Fault(429, retry_after=limit.retry_after)
            limit.window.append(now)
            return None

    def _parse(self, req: BaseHTTPRequestHandler, raw: bytes, query: str) -> dict[str, Any]:
        ctype = req.headers.get("Content-Type", "")
        params: dict[str, Any] = {k: v[0] for k, v in parse_qs(query).items()}
        if "json" in ctype and raw:
            params.update(json.loads(raw))
        elif raw:
            for key, values in parse_qs(raw.decode()).items():
                value: Any = values[0]
                if key in {"blocks", "attachments", "view", "files", "metadata"} and isinstance(
                    value, str
                ):
                    with contextlib.suppress(ValueError):
                        value = json.loads(value)
                params[key] = value
        return params

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            queue = self.state.faults.get(method)
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            return fault

    def _record(self, call: Call) -> None:
        with self._lock:
            self.state.calls.append(call)
            self._lock.notify_all()

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def _answer(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        ok: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            return {
                **ok,
                "url": "https://emulated.slack.com/",
                "team": "Emulated",
                "user": "csobot",
                "team_id": "T0EMU",
                "user_id": "UBOT",
                "bot_id": "BBOT",
            }
        if method in ("chat.postMessage", "chat.update"):
            ts = p.get("ts") or self._next_ts()
            channel = dm_channel(str(p.get("channel", "")))
            message = {
                "type": "message",
                "user": "UBOT",
                "bot_id": "BBOT",
                "ts": ts,
                "text": p.get("text", ""),
                "blocks": p.get("blocks", []),
            }
            metadata = p.get("metadata")
            if isinstance(metadata, str):
                with contextlib.suppress(ValueError):
                    metadata = json.loads(metadata)
            with self._lock:
                previous = self.state.messages.get((channel, ts))
                if isinstance(metadata, dict):
                    message["metadata"] = metadata
                elif previous and "metadata" in previous:  # chat.update keeps it
                    message["metadata"] = previous["metadata"]
                self.state.messages[(channel, ts)] = message
            public = {k: v for k, v in message.items() if k != "metadata"}
            return {**ok, "channel": channel, "ts": ts, "message": public}
        if method == "chat.postEphemeral":
            return {**ok, "message_ts": self._next_ts()}
        if method == "chat.getPermalink":
            channel, ts = p.get("channel", ""), str(p.get("message_ts", ""))
            return {
                **ok,
                "channel": channel,
                "permalink": f"{self.base_url}/archives/{channel}/p{ts.replace('.', '')}",
            }
        if method == "conversations.info":
            channel = str(p.get("channel", ""))
            if channel in self.state.unreadable_channels:
                return {"ok": False, "error": "channel_not_found"}
            shared = channel in self.state.shared_channels
            return {
                **ok,
                "channel": {
                    "id": channel,
                    "name": channel.lower(),
                    "is_channel": True,
                    "is_shared": shared,
                    "is_ext_shared": shared,
                    "is_org_shared": False,
                    "is_private": False,
                },
            }
        if method in ("conversations.history", "conversations.replies"):
            return self._history(method, p)
        if method == "conversations.open":
            users = str(p.get("users", "U0")).split(",")
            return {**ok, "channel": {"id": dm_channel(users[0]), "is_im": True}}
        if method in ("views.open", "views.publish", "views.update", "views.push"):
            view = p.get("view") or {}
            if isinstance(view, str):
                view = json.loads(view)
            return {**ok, "view": {**view, "id": f"V{next(self._ids):08d}"}}
        if method == "dnd.info":
            user = str(p.get("user", ""))
            until = self.state.dnd.get(user)
            active = until is not None and until > time.time()
            return {
                **ok,
                "dnd_enabled": active,
                "snooze_enabled": active,
                "next_dnd_start_ts": int(time.time()) - 60 if active else 0,
                "next_dnd_end_ts": int(until or 0),
                "snooze_endtime": int(until or 0),
            }
        if method == "users.info":
            user = str(p.get("user", ""))
            info = self.state.users.get(user, {})
            return {
                **ok,
                "user": {
                    "id": user,
                    "name": user.lower(),
                    "tz": info.get("tz", "UTC"),
                    "is_bot": False,
                    **info,
                },
            }
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ids):08d}"
            return {**ok, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = p.get("files") or []
            if isinstance(files, str):
                files = json.loads(files)
            return {
                **ok,
                "files": [{"id": f.get("id"), "title": f.get("title", "")} for f in files],
            }
        return ok

    def _history(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        """Messages the emulator knows: history leaves thread replies out, replies is a thread."""
        channel = str(p.get("channel", ""))
        if channel in self.state.unreadable_channels:
            return {"ok": False, "error": "channel_not_found"}
        inclusive = str(p.get("inclusive", "")).lower() in ("1", "true")
        latest = float(p["latest"]) if p.get("latest") else None
        oldest = float(p["oldest"]) if p.get("oldest") else None
        with self._lock:
            known = [dict(m) for (c, _), m in self.state.messages.items() if c == channel]
        root = ""
        if method == "conversations.history":
            found = [m for m in known if m.get("thread_ts", m["ts"]) == m["ts"]]
        else:
            root = str(p.get("ts", ""))
            parent = next((m for m in known if m["ts"] == root), None)
            if parent is None:
                return {"ok": False, "error": "thread_not_found"}
            root = parent.get("thread_ts", root)
            found = [m for m in known if m["ts"] == root or m.get("thread_ts") == root]

        def within(m: dict[str, Any]) -> bool:
            ts = float(m["ts"])
            if latest is not None and (ts > latest or (ts == latest and not inclusive)):
                return False
            return not (oldest is not None and (ts < oldest or (ts == oldest and not inclusive)))

        # Like Slack, conversations.replies always starts with the thread's parent.
        found = sorted(
            (m for m in found if within(m) or m["ts"] == root),
            key=lambda m: float(m["ts"]),
        )
        if method == "conversations.history":
            found.reverse()  # newest first, like Slack
        if str(p.get("include_all_metadata", "")).lower() not in ("1", "true"):
            found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
        limit = int(p.get("limit") or 100)
        start = int(p["cursor"]) if str(p.get("cursor") or "").isdigit() else 0
        page = found[start : start + limit]
        more = len(found) > start + limit
        answer: dict[str, Any] = {"ok": True, "messages": page, "has_more": more}
        if more:
            answer["response_metadata"] = {"next_cursor": str(start + limit)}
        return answer

    def _send(
        self,
        req: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        ctype: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        try:
            req.send_response(status)
            req.send_header("Content-Type", ctype)
            req.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                req.send_header(k, v)
            req.end_headers()
            req.wfile.write(body)
        except OSError:  # the caller gave up waiting (a client timeout, a killed process)
            req.close_connection = True

    def _json(
        self,
        req: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        self._send(
            req, status, json.dumps(body).encode(), "application/json; charset=utf-8", headers
        )
