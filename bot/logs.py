"""Logging for operators: secrets redacted, Slack's error code on every Slack failure, and
`CSOBOT_LOG_FORMAT=json` for one JSON object per line with the fields known at that point
(request id, event id, client slug, Slack method, Slack error code, latency).

The standard library's formatter is enough here (a Formatter subclass and `extra=` fields):
structlog would add a dependency and a second logging API for the same lines.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from slack_sdk.errors import SlackApiError

from usecases import log_fields
from usecases.log_fields import slack_error_of, slack_method_of

_TOKEN = re.compile(r"\b(xox[abposr]|xapp|sk)-[A-Za-z0-9-_]{6,}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class Redactor:
    def __init__(self, secrets: list[str] | None = None):
        self.secrets = [s for s in (secrets or []) if s and len(s) >= 6]

    def __call__(self, text: str) -> str:
        clean = _TOKEN.sub(lambda m: m.group(1) + "-[redacted]", text)
        for secret in self.secrets:
            clean = clean.replace(secret, "[redacted]")
        return clean


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: list[str] | None = None):
        super().__init__()
        self.redact = Redactor(secrets)
        self.secrets = self.redact.secrets

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = self.redact(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        return True


class _Short:
    """A SlackApiError in a log line's arguments, shown in one line with its code (its own str is
    several lines and hides the code in a dict)."""

    def __init__(self, exc: SlackApiError):
        self.text = f"SlackApiError({slack_error_of(exc)})"

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__


class ContextFilter(logging.Filter):
    """Adds the bound fields (usecases/log_fields.py) to each record written, and, for a Slack
    failure (the exception logged, or one among the arguments), its method and error code —
    appended to the message when it does not name the code already."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in log_fields.current().items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        found: SlackApiError | None = None
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, SlackApiError):
            found = exc
        args = record.args
        if isinstance(args, tuple) and any(isinstance(a, SlackApiError) for a in args):
            found = found or next(a for a in args if isinstance(a, SlackApiError))
            record.args = tuple(_Short(a) if isinstance(a, SlackApiError) else a for a in args)
        if found is not None:
            code = slack_error_of(found)
            if getattr(record, "slack_error", None) is None:
                record.slack_error = code
            if getattr(record, "slack_method", None) is None:
                record.slack_method = slack_method_of(found)
            message = record.getMessage()
            if code not in message:
                record.msg, record.args = f"{message} (Slack error: {code})", None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, the known fields, and the
    traceback (redacted) when there is one."""

    def __init__(self, redact: Redactor | None = None):
        super().__init__()
        self.redact = redact or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in log_fields.FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.redact(self.formatException(record.exc_info))
        return json.dumps(line, default=str)


def make_formatter(fmt: str, secrets: list[str] | None = None) -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter(Redactor(secrets))
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(
    level: str = "INFO", secrets: list[str] | None = None, fmt: str = "text"
) -> None:
    root = logging.getLogger()
    if not any(isinstance(f, RedactingFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        root.addHandler(handler)
    for h in root.handlers:
        if isinstance(h, logging.StreamHandler):
            h.setFormatter(make_formatter(fmt, secrets))
        h.filters = [f for f in h.filters if not isinstance(f, RedactingFilter | ContextFilter)]
        h.addFilter(ContextFilter())
        h.addFilter(RedactingFilter(secrets))
    root.setLevel(level)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
