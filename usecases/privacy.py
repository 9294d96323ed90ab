"""Shared channels stay clean: nothing internal is ever posted where the client can read it."""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

logger = logging.getLogger(__name__)


class ChannelGuard:
    """Answers "may the bot post internal material here?" — failing closed.

    A channel is treated as shared (so: not for internal material) when it is a client's
    channel in the portfolio, when `conversations.info` says it is shared with another
    organization (Slack Connect), or when its status cannot be read at all.
    """

    def __init__(self, client: WebClient, ttl_seconds: float = 300.0):
        self.client = client
        self.ttl = ttl_seconds
        self._cache: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def is_shared(self, channel: str, *, client_channels: set[str] | None = None) -> bool:
        if not channel:
            return True
        if client_channels and channel in client_channels:
            return True
        if channel.startswith("D"):
            return False  # a direct message with the bot
        with self._lock:
            hit = self._cache.get(channel)
            if hit and hit[0] > time.monotonic():
                return hit[1]
        shared = self._lookup(channel)
        with self._lock:
            self._cache[channel] = (time.monotonic() + self.ttl, shared)
        return shared

    def _lookup(self, channel: str) -> bool:
        try:
            info = self.client.conversations_info(channel=channel)
        except (SlackApiError, OSError) as exc:
            logger.warning("cannot read channel %s (%s): treating it as shared", channel, exc)
            return True
        data = info.get("channel") or {}
        return bool(
            data.get("is_ext_shared")
            or data.get("is_shared")
            or data.get("is_org_shared")
            or data.get("is_pending_ext_shared")
        )

    def forget(self, channel: str) -> None:
        with self._lock:
            self._cache.pop(channel, None)
