"""Jinja2 templates for prose (messages and LLM prompts) live in `prompts/`."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("prompts", ""),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # package files: not changed under a running process (no stat per use)
    )
    env.filters["mrkdwn"] = escape_mrkdwn
    env.filters["plural"] = plural
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context).strip()


def plural(count: float, noun: str, many: str | None = None) -> str:
    """`1 issue`, `3 issues`, `0 messages`, `1.5 business hours`; `many` for irregular nouns."""
    shown = f"{count:g}" if isinstance(count, float) else str(count)
    return f"{shown} {noun if count == 1 else (many or noun + 's')}"


def escape_mrkdwn(text: object) -> str:
    """Escape Slack's three control characters in user-supplied text."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
