"""The organization's settings as `domain.org_settings.OrgSettings` (one parse, one place)."""

from __future__ import annotations

from domain.org_settings import OrgSettings
from storage.db import Transaction
from storage.models import Organization


def organization_row(tx: Transaction) -> Organization | None:
    """The organization's row (there is one; None before any import), kept for the rest of the
    transaction's session: the session's identity map holds rows weakly, so every later reader
    (the settings, the timezone, the holidays) would otherwise select it again."""
    row = tx.get(Organization, 1)
    if row is not None:
        tx.info["organization_row"] = row
    return row


def org_settings(tx: Transaction) -> OrgSettings:
    """The stored settings; defaults before any import. A key edited by hand into something
    that does not parse keeps its defaults and says why (`OrgSettings.problem`)."""
    org = organization_row(tx)
    return OrgSettings.read(org.settings if org is not None else None)
