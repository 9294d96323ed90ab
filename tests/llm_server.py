"""A local OpenAI-compatible chat-completions server on loopback, for tests of the LLM path.

`FakeLLMServer` answers POST /v1/chat/completions with a configurable behaviour and records every
request body; the real `openai` client talks to it over real HTTP.

The "hang" mode is a model outage as it really looks: the connection is accepted and then nothing
comes back. Requests block until the test calls `release()` (then they are answered like
"label"), or until `max_hang` seconds have passed, so nothing hangs forever.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Mode = Literal["label", "slow", "invalid_json", "error", "raw", "hang"]


@dataclass
class Behaviour:
    mode: Mode = "label"
    label: str = "none"
    delay: float = 0.0  # seconds to sleep before answering in "slow" mode
    status: int = 500  # HTTP status in "error" mode
    content: str = ""  # message content in "raw" mode
    # Computes the label from the request body (e.g. to echo what an injection asked for).
    label_for: Callable[[dict[str, Any]], str] | None = None
    max_hang: float = 120.0  # "hang" mode: the longest a request is held before it is answered
    released: threading.Event = field(default_factory=threading.Event)


@dataclass
class Recorded:
    path: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def _completion(content: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


class FakeLLMServer:
    def __init__(self) -> None:
        self.behaviour = Behaviour()
        self.requests: list[Recorded] = []
        self.hanging = 0  # requests blocked right now in "hang" mode
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set(self, **kwargs: Any) -> None:
        self.behaviour.released.set()  # requests held by a previous "hang" go on
        self.behaviour = Behaviour(**kwargs)

    def hang(self, *, label: str = "none", max_hang: float = 120.0) -> None:
        """From now on every request blocks until `release()` (at most `max_hang` s)."""
        self.set(mode="hang", label=label, max_hang=max_hang)

    def release(self) -> None:
        """Let every held request (and every later one) through, answered with the label."""
        self.behaviour.released.set()

    def _hold(self, b: Behaviour) -> None:
        with self._lock:
            self.hanging += 1
        try:
            b.released.wait(timeout=b.max_hang)
        finally:
            with self._lock:
                self.hanging -= 1

    def _record(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append(Recorded(path, body, headers))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): nothing to answer

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"_raw": raw.decode(errors="replace")}
                server._record(self.path, body, dict(self.headers.items()))
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, b'{"error": {"message": "not found"}}')
                    return
                b = server.behaviour
                model = str(body.get("model", "test-model"))
                if b.mode == "error":
                    err = {"error": {"message": "boom", "type": "server_error"}}
                    self._send(b.status, json.dumps(err).encode())
                    return
                if b.mode == "slow":
                    time.sleep(b.delay)
                if b.mode == "hang":
                    server._hold(b)
                if b.mode == "invalid_json":
                    content = "Sure! The label is scope creep."
                elif b.mode == "raw":
                    content = b.content
                else:
                    label = b.label_for(body) if b.label_for else b.label
                    content = json.dumps({"label": label})
                self._send(200, json.dumps(_completion(content, model)).encode())

        return Handler
