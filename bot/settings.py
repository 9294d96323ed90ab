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

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default=SLACK_API_URL_DEFAULT, alias="SLACK_API_URL")
    database_url: str = Field(default="sqlite:///./csobot.db", alias="DATABASE_URL")
    openai_api_key: SecretStr | None = Field(default=None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, alias="OPENAI_BASE_URL")
    model: str = Field(default="gpt-4o-mini", alias="CSOBOT_MODEL")
    llm_timeout: float = Field(default=8.0, gt=0, le=120, alias="CSOBOT_LLM_TIMEOUT")
    port: int = Field(default=3000, ge=1, le=65535, alias="PORT")
    host: str = Field(default="0.0.0.0", alias="HOST")
    threads: int = Field(default=16, ge=1, le=256, alias="CSOBOT_THREADS")
    log_level: str = Field(default="INFO", alias="CSOBOT_LOG_LEVEL")
    log_format: Literal["text", "json"] = Field(
        default="text",
        alias="CSOBOT_LOG_FORMAT",
        description="`json` for one JSON object per log line (structured fields), `text` to read.",
    )
    now: datetime | None = Field(
        default=None,
        validation_alias=AliasChoices("CSOBOT_NOW"),
        description="Pin the bot's clock to this instant at start (demos and rehearsals).",
    )
    run_scheduler: bool = Field(default=True, alias="CSOBOT_SCHEDULER")
    spool_dir: str = Field(default="./csobot-spool", alias="CSOBOT_SPOOL_DIR")
    drain_seconds: float = Field(default=20.0, ge=0, le=600, alias="CSOBOT_DRAIN_SECONDS")
    # The delivery board (docs/process.md, "Linear and GitHub"): each connector is on when its
    # token is set; the URLs are for GitHub Enterprise and the local emulators.
    linear_api_key: SecretStr | None = Field(default=None, alias="LINEAR_API_KEY")
    linear_api_url: str | None = Field(default=None, alias="LINEAR_API_URL")
    github_token: SecretStr | None = Field(default=None, alias="GITHUB_TOKEN")
    github_api_url: str | None = Field(default=None, alias="GITHUB_API_URL")

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
