"""Moved to `storage.activity_store`; this name stays until the other areas' imports switch."""

from __future__ import annotations

from storage.activity_store import (
    EXCERPT_CHARS,
    claim_event,
    excerpt,
    last_touchpoints,
    record_exemption,
    record_inbound,
    record_pulse,
    record_touchpoint,
    record_win,
)

__all__ = [
    "EXCERPT_CHARS",
    "claim_event",
    "excerpt",
    "last_touchpoints",
    "record_exemption",
    "record_inbound",
    "record_pulse",
    "record_touchpoint",
    "record_win",
]
