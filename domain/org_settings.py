"""The organization's settings (`organization.settings` in the portfolio file), parsed once.

Every feature's overrides live under one key: `digest` (the leadership digest's moment and
thresholds), `kpi` (whose touch counts, how many words a message needs), `flags` (reactions
and loop timings), `cadences` (cadence overrides by id), `health_model` (a shipped model id
or a whole model), `qbr_arr_threshold` (the ARR from which a client gets a QBR), `onboarding`
(plans and rules by segment), `sales_ops_channel`, `support` (targets by segment, the
product channel) and `advocacy` (the reference program's numbers).
`parse_org_settings` checks them all when the portfolio is imported and names the field of
each problem; `OrgSettings.read` reads what is stored, keeping the defaults of a key that does
not parse (a row edited by hand) and saying which and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from domain.advocacy import AdvocacySettings
from domain.cadence import CadenceError, effective_catalogue
from domain.digest import DigestSettings
from domain.flag_loops import FlagSettings
from domain.health import HealthCheckSettings, HealthModelError
from domain.health_inputs import model_from_settings
from domain.onboarding import OnboardingError
from domain.onboarding import effective_catalogue as onboarding_catalogue
from domain.support import SupportSettings
from domain.touch_rules import KpiSettings


class OrgSettingsError(ValueError):
    """Bad organization settings: each problem names the field (`settings.digest.time: …`)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


class OrgSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    digest: DigestSettings = Field(default_factory=DigestSettings)
    flags: FlagSettings = Field(default_factory=FlagSettings)
    kpi: KpiSettings = Field(default_factory=KpiSettings)
    # Kept as written: `domain.cadence.effective_catalogue` applies them (checked here).
    cadences: dict[str, Any] | list[Any] | None = None
    # A shipped model id ("three-pillar", "five-category") or a whole model (checked here).
    health_model: str | dict[str, Any] | None = None
    # Which clients get the health-check nudge, by lifecycle stage (default: all).
    health_checks: HealthCheckSettings = Field(default_factory=HealthCheckSettings)
    qbr_arr_threshold: float = Field(default=0, ge=0)
    # Onboarding plans and rules by segment (checked here; domain.onboarding applies them).
    onboarding: dict[str, Any] | None = None
    # Where renewal forecasts go (an internal channel: never a client or Slack Connect one).
    sales_ops_channel: str | None = None
    # Support targets by segment, the product channel (docs/process.md, "Support").
    support: SupportSettings = Field(default_factory=SupportSettings.default)
    # The reference program's numbers (docs/process.md, "Advocacy and references").
    advocacy: AdvocacySettings = Field(default_factory=AdvocacySettings)
    # Keys that did not parse when read from storage, with the problem (empty once validated).
    problems: dict[str, str] = Field(default_factory=dict, exclude=True)

    @field_validator("cadences")
    @classmethod
    def _cadences(cls, value: Any) -> Any:
        try:
            effective_catalogue(value)
        except CadenceError as err:
            raise ValueError("; ".join(err.problems)) from None
        return value

    @field_validator("onboarding")
    @classmethod
    def _onboarding(cls, value: Any) -> Any:
        try:
            onboarding_catalogue(value)
        except OnboardingError as err:
            raise ValueError("; ".join(err.problems)) from None
        return value

    @field_validator("health_model")
    @classmethod
    def _health_model(cls, value: Any) -> Any:
        try:
            model_from_settings({"health_model": value})
        except HealthModelError as err:
            raise ValueError("; ".join(err.problems)) from None
        return value

    @classmethod
    def read(cls, raw: Any) -> OrgSettings:
        """What is stored, key by key: a key that does not parse keeps its defaults and its
        problem is in `problems` (the features say so where they use it)."""
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            return cls(problems={"": "settings: must be a mapping of feature -> settings"})
        values: dict[str, Any] = {}
        problems: dict[str, str] = {}
        for key, value in raw.items():
            if key not in cls.model_fields or key == "problems":
                continue  # not a setting this version reads
            try:
                values[key] = getattr(cls.model_validate({key: value}), key)
            except ValidationError as exc:
                problems[key] = _problems(exc)[0]
        return cls(**values, problems=problems)

    def problem(self, key: str) -> str | None:
        """Why `key` is at its defaults although the stored settings set it (None if fine)."""
        return self.problems.get(key) or self.problems.get("")


def parse_org_settings(raw: Mapping[str, Any] | None) -> OrgSettings:
    """Validate the portfolio file's settings; OrgSettingsError names each bad field."""
    data = dict(raw or {})
    if "problems" in data:
        raise OrgSettingsError(["settings.problems: Extra inputs are not permitted"])
    try:
        return OrgSettings.model_validate(data)
    except ValidationError as exc:
        raise OrgSettingsError(_problems(exc)) from None


def _problems(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        where = _where(err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        out.append(f"settings.{where}: {msg}" if where else f"settings: {msg}")
    return out


def _where(loc: Sequence[Any]) -> str:
    # A union's errors carry the member type in their location (`cadences.dict[str,any]`):
    # the field is what the person wrote, so keep the keys they typed.
    parts = [str(p) for p in loc]
    if len(parts) >= 2 and parts[0] in ("cadences", "health_model") and "[" in parts[1]:
        parts = [parts[0], *parts[2:]]
    return ".".join(parts)
