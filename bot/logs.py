"""Logging with secrets redacted: tokens and signing secrets never reach a log line."""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"\b(xox[abposr]|xapp|sk)-[A-Za-z0-9-_]{6,}")


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: list[str] | None = None):
        super().__init__()
        self.secrets = [s for s in (secrets or []) if s and len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = _TOKEN.sub(lambda m: m.group(1) + "-[redacted]", msg)
        for secret in self.secrets:
            clean = clean.replace(secret, "[redacted]")
        if clean != msg:
            record.msg, record.args = clean, None
        return True


def configure_logging(level: str = "INFO", secrets: list[str] | None = None) -> None:
    root = logging.getLogger()
    if not any(isinstance(f, RedactingFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    for h in root.handlers:
        h.filters = [f for f in h.filters if not isinstance(f, RedactingFilter)]
        h.addFilter(RedactingFilter(secrets))
    root.setLevel(level)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
