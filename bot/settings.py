"""Settings from the environment (or `.env`): a bad one is named in one line, exit code 2."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SLACK_API_URL_DEFAULT = "https://slack.com/api/"


class ConfigError(Exception):
    """A missing or malformed setting. The message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: SecretStr | None = Field(
        default=None,
        alias="SLACK_BOT_TOKEN",
        description=(
            "Required. The bot token, `xoxb-…`, from the Slack app's OAuth & Permissions page."
        ),
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        alias="SLACK_SIGNING_SECRET",
        description=(
            "Required in HTTP mode. From the Slack app's Basic Information page; every request is "
            "checked against it (401 otherwise, and for timestamps older than 5 minutes)."
        ),
    )
    slack_app_token: SecretStr | None = Field(
        default=None,
        alias="SLACK_APP_TOKEN",
        description=(
            "Required in Socket Mode (`csobot serve --socket`). An app-level token, `xapp-…`, with"
            " `connections:write`."
        ),
    )
    slack_api_url: str = Field(
        default=SLACK_API_URL_DEFAULT,
        alias="SLACK_API_URL",
        description=(
            "Slack's Web API base URL. Tests and `csobot demo` point it at the local emulator."
        ),
    )
    database_url: str = Field(
        default="sqlite:///./csobot.db",
        alias="DATABASE_URL",
        description=(
            "SQLite (`sqlite:///PATH`) or PostgreSQL "
            "(`postgresql+psycopg://user:password@host/db`; a `postgres://` URL is accepted). The "
            "password is never printed."
        ),
    )
    openai_api_key: SecretStr | None = Field(
        default=None,
        alias="OPENAI_API_KEY",
        description=(
            "Turns the model on (classifying messages, drafting updates, briefs and notes). "
            "Everything works without it, on rules and templates."
        ),
    )
    openai_base_url: str | None = Field(
        default=None,
        alias="OPENAI_BASE_URL",
        description=(
            "An OpenAI-compatible endpoint (a local or hosted model). Setting it also turns the "
            "model on."
        ),
    )
    model: str = Field(default="gpt-4o-mini", alias="CSOBOT_MODEL", description="The model's name.")
    llm_timeout: float = Field(
        default=8.0,
        gt=0,
        le=120,
        alias="CSOBOT_LLM_TIMEOUT",
        description=(
            "Seconds one model call may take (at most 10, no retry) before the rules or the "
            "template answer instead."
        ),
    )
    port: int = Field(
        default=3000,
        ge=1,
        le=65535,
        alias="PORT",
        description="The HTTP port `csobot serve` listens on (POST /slack/events, GET /healthz).",
    )
    host: str = Field(
        default="0.0.0.0", alias="HOST", description="The address `csobot serve` listens on."
    )
    threads: int = Field(
        default=16, ge=1, le=256, alias="CSOBOT_THREADS", description="HTTP server threads."
    )
    log_level: str = Field(
        default="INFO",
        alias="CSOBOT_LOG_LEVEL",
        description=(
            "DEBUG, INFO, WARNING or ERROR. DEBUG also prints a failed command's traceback "
            "(secrets redacted)."
        ),
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        alias="CSOBOT_LOG_FORMAT",
        description="`json` for one JSON object per log line (structured fields), `text` to read.",
    )
    now: datetime | None = Field(
        default=None,
        validation_alias=AliasChoices("CSOBOT_NOW"),
        description=(
            "Pin the bot's clock to this instant at start, with its UTC offset "
            "(2026-11-20T15:05:00-05:00): demos and rehearsals."
        ),
    )
    run_scheduler: bool = Field(
        default=True,
        alias="CSOBOT_SCHEDULER",
        description=(
            "`false` stops `csobot serve` from ticking, when a separate `csobot scheduler` process"
            " runs."
        ),
    )
    spool_dir: str = Field(
        default="./csobot-spool",
        alias="CSOBOT_SPOOL_DIR",
        description=(
            "Where a request is kept when the database can't take it before Slack's ack. Put it on"
            " a disk that survives a restart."
        ),
    )
    drain_seconds: float = Field(
        default=20.0,
        ge=0,
        le=600,
        alias="CSOBOT_DRAIN_SECONDS",
        description=(
            "On SIGTERM, how long running work may finish; the rest stays in the inbox for the "
            "next start."
        ),
    )
    # The delivery board (docs/process.md, "Linear and GitHub"): each connector is on when its
    # token is set; the URLs are for GitHub Enterprise and the local emulators.
    linear_api_key: SecretStr | None = Field(
        default=None,
        alias="LINEAR_API_KEY",
        description="A Linear personal API key with read access. Turns the Linear connector on.",
    )
    linear_api_url: str | None = Field(
        default=None,
        alias="LINEAR_API_URL",
        description=(
            "Linear's GraphQL endpoint, when not https://api.linear.app/graphql (the demo's "
            "emulator)."
        ),
    )
    github_token: SecretStr | None = Field(
        default=None,
        alias="GITHUB_TOKEN",
        description=(
            "A GitHub token that can read the client repositories' pull requests and releases. "
            "Turns the GitHub connector on."
        ),
    )
    github_api_url: str | None = Field(
        default=None,
        alias="GITHUB_API_URL",
        description=(
            "GitHub's API, when not https://api.github.com; GitHub Enterprise Server is "
            "`https://HOST/api/v3`."
        ),
    )

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return v if v.endswith("/") else v + "/"

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, v: str) -> str:
        from storage.db import BadDatabaseUrl, check_url

        try:
            return check_url(v)
        except BadDatabaseUrl as err:  # its message never echoes the value (a password)
            raise ValueError(str(err)) from None

    @field_validator("now")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("must include a UTC offset, e.g. 2026-11-20T15:05:00-05:00")
        return v

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        v = v.upper()
        if v not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return v

    @property
    def llm_enabled(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)

    def require(self, *names: str) -> None:
        """Raise ConfigError naming the first missing variable among `names`."""
        for name in names:
            field = next((n for n, f in type(self).model_fields.items() if f.alias == name), None)
            if field is None or getattr(self, field) in (None, ""):
                raise ConfigError(
                    f"{name} is not set: {_HINTS.get(name, 'set it in the environment')}"
                )

    def secret(self, name: str) -> str:
        value = getattr(self, name)
        return value.get_secret_value() if isinstance(value, SecretStr) else str(value or "")


_HINTS = {
    "SLACK_BOT_TOKEN": "the bot token (xoxb-…) from your Slack app's OAuth & Permissions page",
    "SLACK_SIGNING_SECRET": "the signing secret from your Slack app's Basic Information page",
    "SLACK_APP_TOKEN": "an app-level token (xapp-…) with connections:write, for Socket Mode",
}


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err["loc"][0] if err["loc"] else "?"
        name = _alias_of(str(loc))
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{name} is malformed: {msg}") from None


def _alias_of(loc: str) -> str:
    for fname, field in Settings.model_fields.items():
        if loc in (fname, field.alias):
            return field.alias or fname.upper()
    return loc.upper()
