"""HTTP: the Slack request edge behind waitress (a production WSGI server), plus /healthz.

`/slack/events` reads at most 1 MB (waitress refuses a larger Content-Length or chunked body
with 413 before reading it), checks Slack's signature and timestamp, and hands the request to
the inbox, which keeps it before answering. `/healthz` is 200 only when the database takes a
write; it also reports the inbox backlog, the spool, Slack dropping our events and a revoked
token.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier
from waitress.server import create_server

from handlers.inbox import Inbox, describe
from storage import status as service_status

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY = 1024 * 1024  # Slack's own payloads are far smaller
RATE_LIMITED_WINDOW = timedelta(hours=24)

StartResponse = Callable[..., Any]


def _answer(
    start_response: StartResponse, status: str, body: bytes, content_type: str = "text/plain"
) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class WsgiApp:
    """Routes `/slack/events` to the inbox and answers `/healthz`."""

    def __init__(self, inbox: Inbox, signing_secret: str):
        self.inbox = inbox
        self.db = inbox.db
        self.verifier = SignatureVerifier(signing_secret)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return self.healthz(start_response)
        if path != EVENTS_PATH:
            return _answer(start_response, "404 Not Found", b"")
        if environ.get("REQUEST_METHOD") != "POST":
            return _answer(start_response, "405 Method Not Allowed", b"")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _answer(start_response, "400 Bad Request", b"")
        if length > MAX_BODY:
            return _answer(start_response, "413 Payload Too Large", b"")
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = {
            "x-slack-request-timestamp": environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
            "x-slack-signature": environ.get("HTTP_X_SLACK_SIGNATURE", ""),
            "content-type": environ.get("CONTENT_TYPE", ""),
        }
        try:
            text = raw.decode("utf-8")
        except ValueError:
            return _answer(start_response, "400 Bad Request", b"")
        if not self._signed(text, headers):
            return _answer(start_response, "401 Unauthorized", b"")
        for name in ("HTTP_X_SLACK_RETRY_NUM", "HTTP_X_SLACK_RETRY_REASON"):
            if environ.get(name):
                headers[name[5:].lower().replace("_", "-")] = environ[name]
        try:  # the inbox parses the body once and refuses one that isn't a JSON object
            resp = self.inbox.accept(text, headers)
        except Exception as exc:  # never a traceback: Slack retries what it did not get a 200 for
            logger.error("request not accepted: %s", describe(exc), exc_info=exc)
            resp = BoltResponse(status=500, body="")
        return self._bolt_answer(start_response, resp)

    def _signed(self, text: str, headers: dict[str, str]) -> bool:
        try:
            return self.verifier.is_valid(
                text, headers["x-slack-request-timestamp"], headers["x-slack-signature"]
            )
        except ValueError:  # a missing or malformed timestamp
            return False

    @staticmethod
    def _bolt_answer(start_response: StartResponse, resp: BoltResponse) -> list[bytes]:
        body = (resp.body or "").encode()
        status = f"{resp.status} {_REASONS.get(resp.status, 'OK')}"
        headers = [(k, v) for k, values in resp.headers.items() for v in values]
        if not any(k.lower() == "content-length" for k, _ in headers):
            headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [body]

    def healthz(self, start_response: StartResponse) -> list[bytes]:
        report: dict[str, Any] = {"status": "ok"}
        code = "200 OK"
        now = datetime.now(UTC)
        try:
            with self.db.quick_transaction() as session:
                service_status.probe(session, now)
                revoked = service_status.revoked(session)
                limited = service_status.rate_limited_minutes(
                    session, now - RATE_LIMITED_WINDOW, now + timedelta(minutes=1)
                )
            report["database"] = "ok"
        except Exception as exc:
            report.update(status="unavailable", database=f"unavailable ({describe(exc)})")
            code = "503 Service Unavailable"
            revoked, limited = None, []
        try:
            report["inbox"] = self.inbox.health()
        except Exception:
            report["inbox"] = {"spooled": self.inbox.spool.waiting()}
        slack: dict[str, Any] = {}
        if limited:
            slack["events_dropped_minutes"] = [
                datetime.fromtimestamp(m, UTC).strftime("%Y-%m-%dT%H:%MZ") for m in limited
            ]
            if code.startswith("200"):
                report["status"] = "degraded"
        if revoked:
            slack["revoked"] = revoked
            report["status"] = "revoked"
            code = "503 Service Unavailable"
        if slack:
            report["slack"] = slack
        return _answer(start_response, code, json.dumps(report).encode(), "application/json")


def create(wsgi: Callable[..., Any], host: str, port: int, threads: int, **kwargs: Any) -> Any:
    return create_server(
        wsgi,
        host=host,
        port=port,
        threads=threads,
        max_request_body_size=MAX_BODY,
        **kwargs,
    )


class ServerThread:
    """The real server on a background thread (tests and the demo)."""

    def __init__(
        self, wsgi: Callable[..., Any], host: str = "127.0.0.1", port: int = 0, threads: int = 16
    ):
        self.server = create(
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
        port = self.server.effective_port
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
    server = create(wsgi, host=host, port=port, threads=threads, connection_limit=512)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
