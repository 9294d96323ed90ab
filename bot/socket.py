"""Socket Mode: the same inbox as HTTP — each request is kept before it is acknowledged."""

from __future__ import annotations

import json
import signal
from time import time
from typing import TYPE_CHECKING

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import send_response
from slack_bolt.response import BoltResponse
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

if TYPE_CHECKING:
    from bot.runtime import Service


class InboxSocketModeHandler(SocketModeHandler):
    def __init__(self, service: Service, app_token: str):
        super().__init__(service.app, app_token)
        self.service = service

    def handle(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:
        start = time()
        headers: dict[str, str] = {}
        if req.retry_attempt is not None:
            headers["x-slack-retry-num"] = str(req.retry_attempt)
        try:
            resp = self.service.inbox.accept(req.payload, headers, mode="socket_mode")
        except Exception:
            resp = BoltResponse(status=500, body=json.dumps({"error": "not accepted"}))
        send_response(client, req, resp, start)


def serve_socket_mode(service: Service, app_token: str) -> None:
    """Until SIGTERM/SIGINT; then return so the caller can drain its work."""
    handler = InboxSocketModeHandler(service, app_token)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        handler.start()
    except KeyboardInterrupt:
        pass
    finally:
        handler.close()
