"""The organization's settings as `domain.org_settings.OrgSettings` (one parse, one place)."""

from __future__ import annotations

from domain.org_settings import OrgSettings
from storage.db import Transaction
from storage.models import Organization


def org_settings(tx: Transaction) -> OrgSettings:
    """The stored settings; defaults before any import. A key edited by hand into something
    that does not parse keeps its defaults and says why (`OrgSettings.problem`)."""
    org = tx.get(Organization, 1)
    return OrgSettings.read(org.settings if org is not None else None)
