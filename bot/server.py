"""HTTP: Bolt behind waitress (a production WSGI server), plus /healthz."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

from bot.deps import InFlight
from storage.db import Database

EVENTS_PATH = "/slack/events"

StartResponse = Callable[..., Any]


class WsgiApp:
    """Routes `/slack/events` to Bolt and answers `/healthz` from the database."""

    def __init__(self, app: App, db: Database, inflight: InFlight | None = None):
        self.bolt = SlackRequestHandler(app, path=EVENTS_PATH)
        self.db = db
        self.inflight = inflight

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            ok = self.db.ping()
            body = json.dumps({"status": "ok" if ok else "database unavailable"}).encode()
            start_response(
                "200 OK" if ok else "503 Service Unavailable",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        if self.inflight is None:
            return self.bolt(environ, start_response)
        with self.inflight:
            return self.bolt(environ, start_response)


class ServerThread:
    """The real server on a background thread (tests and the demo)."""

    def __init__(
        self, wsgi: Callable[..., Any], host: str = "127.0.0.1", port: int = 0, threads: int = 16
    ):
        self.server = create_server(
            wsgi, host=host, port=port, threads=threads, connection_limit=256, channel_timeout=30
        )
        self.thread = threading.Thread(target=self._run, daemon=True)
        self._stopping = False

    def _run(self) -> None:
        try:
            self.server.run()
        except (OSError, ValueError):
            if not self._stopping:  # closing the socket under select() ends the loop
                raise

    @property
    def url(self) -> str:
        port = self.server.effective_port  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}"

    def start(self) -> ServerThread:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stopping = True
        self.server.task_dispatcher.shutdown(timeout=2)
        self.server.close()
        self.thread.join(timeout=5)


def serve_forever(wsgi: Callable[..., Any], host: str, port: int, threads: int) -> None:
    """Serve until SIGTERM/SIGINT, then return so the caller can drain its work."""
    server = create_server(wsgi, host=host, port=port, threads=threads, connection_limit=512)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
