"""Kept only until handlers/messages.py and handlers/touchpoint.py import
`usecases.reminders` (closing reminders after a touchpoint moved there); then delete it."""

from __future__ import annotations

from usecases.reminders import after_logged, after_message

__all__ = ["after_logged", "after_message"]
