"""Optional extras: the features that need a package a plain `pip install csobot` leaves out.

`pip install 'csobot[postgres]'` for a PostgreSQL DATABASE_URL (psycopg), `'csobot[charts]'` for
the digest's chart (matplotlib). Without one, the feature says which extra to install.
"""

from __future__ import annotations

# Top-level module -> (extra, what needs it).
EXTRAS: dict[str, tuple[str, str]] = {
    "psycopg": ("postgres", "a PostgreSQL DATABASE_URL"),
    "matplotlib": ("charts", "the digest chart"),
}


def missing_extra(exc: BaseException) -> str | None:
    """One line naming the extra to install when `exc` is a missing optional package; None for
    any other error."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    found = EXTRAS.get(exc.name.split(".")[0])
    if found is None:
        return None
    extra, feature = found
    return (
        f"{feature} needs the optional '{extra}' extra ({exc.name} is not installed): "
        f"pip install 'csobot[{extra}]'"
    )
