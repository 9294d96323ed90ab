"""INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL: the basis of exactly-once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(session: Session, model: Any, values: dict[str, Any]) -> bool:
    """Insert a row unless a unique key already holds it. True when this call inserted it."""
    table: Table = model.__table__
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover - only the two supported databases
        raise RuntimeError(f"unsupported database {dialect}")
    # RETURNING tells reliably whether a row went in (rowcount is not portable here).
    first_column = next(iter(table.primary_key.columns))
    return session.execute(stmt.returning(first_column)).first() is not None
