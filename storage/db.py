"""Engine, sessions and migrations."""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, bindparam, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from storage.write_gate import connection_class

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"

# What a listener, job or CLI command opens once and hands down: use cases and stores take it as
# `tx` (typed as this alias, so nothing outside storage needs to import sqlalchemy).
Transaction = Session


# How long a write may wait for the database: work after the ack can wait (and is retried);
# the write before an ack and the health probe must answer well inside Slack's 3 seconds.
BUSY_TIMEOUT_S = 30.0
QUICK_TIMEOUT_S = 0.8


# SQLite's page cache per connection, in KiB (its default is 2,000): every pooled connection
# keeps its own, and the operating system caches the file for all of them anyway.
SQLITE_CACHE_KB = 512


class BadDatabaseUrl(ValueError):
    """Not a database URL csobot can use (the message never echoes it: it may hold a password)."""


def check_url(url: str) -> str:
    """The URL csobot uses for `url` (postgres:// spelled for psycopg); BadDatabaseUrl when it
    is not one."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if not url.startswith(("sqlite", "postgresql+")):
        raise BadDatabaseUrl("must be sqlite:///path.db or postgresql+psycopg://user@host/db")
    try:
        make_url(url).get_dialect()
    except (ArgumentError, ValueError):
        raise BadDatabaseUrl(
            "not a database URL csobot can use; write it like sqlite:///path.db or "
            "postgresql+psycopg://user:password@host:5432/db"
        ) from None
    return url


def make_engine(
    url: str, *, busy_timeout: float = BUSY_TIMEOUT_S, urgent: bool = False, **kwargs: Any
) -> Engine:
    """`urgent`: on SQLite, this engine's writers go first at the process's write gate (the
    write before an ack)."""
    if url.startswith("sqlite"):
        factory = connection_class(
            make_url(url).database or ":memory:", wait_s=busy_timeout, urgent=urgent
        )
        engine = create_engine(
            url,
            connect_args={
                "check_same_thread": False,
                "timeout": busy_timeout,
                "factory": factory,
            },
            **kwargs,
        )
        busy_ms = int(busy_timeout * 1000)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KB}")
            cur.execute(f"PRAGMA busy_timeout={busy_ms}")
            cur.close()

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    if busy_timeout < BUSY_TIMEOUT_S:
        # Fail fast: a refused or unreachable server, a full pool or a lock wait.
        ms = int(busy_timeout * 1000)
        kwargs.setdefault("pool_timeout", busy_timeout)
        kwargs.setdefault(
            "connect_args",
            {"connect_timeout": 2, "options": f"-c statement_timeout={ms} -c lock_timeout={ms}"},
        )
    else:
        kwargs.setdefault("connect_args", {"connect_timeout": 5})
    return create_engine(url, pool_pre_ping=True, **kwargs)


def alembic_config(engine: Engine) -> Config:
    # alembic loads only where the schema is read or changed, not in every web process
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (every feature's head)."""
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


@dataclass(frozen=True)
class SchemaState:
    """Where the database's schema stands against this release's migrations."""

    applied: frozenset[str]  # the revisions the database records (none: an empty database)
    heads: frozenset[str]  # this release's newest revisions
    known: frozenset[str] = frozenset()  # every revision this release has

    @property
    def empty(self) -> bool:
        return not self.applied

    @property
    def current(self) -> bool:
        return self.applied == self.heads

    @property
    def ahead(self) -> bool:
        """The database records a revision this release does not know (a newer csobot ran)."""
        return bool(self.applied - self.known)

    def problem(self) -> str | None:
        """One line for an operator when the schema is not this release's; None when it is."""
        if self.current:
            return None
        if self.empty:
            return "the database has no schema yet: run `csobot db upgrade` first (a release step)"
        if self.ahead:
            return (
                "the database schema is newer than this csobot "
                f"({', '.join(sorted(self.applied - self.known))}): install the newer release"
            )
        return (
            "the database schema is outdated: run `csobot db upgrade` first (a release step), "
            "then start again"
        )


def schema_state(engine: Engine) -> SchemaState:
    """Compare the revisions the database records with this release's heads (reads only).

    Without alembic: `serve` and `scheduler` check the schema at every start, and alembic with
    the migrations it imports would then stay in their memory (about 10 MB). The database's
    revisions are alembic's own table; this release's come from the migration files' text
    (tests/integration/test_schema_state.py checks both against alembic's reading)."""
    known, heads = release_revisions()
    with engine.connect() as conn:
        applied: frozenset[str] = frozenset()
        if inspect(conn).has_table(VERSION_TABLE):
            applied = frozenset(
                conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
            )
    return SchemaState(applied=applied, heads=heads, known=known)


VERSION_TABLE = "alembic_version"  # where alembic records the revisions a database is at


@cache
def release_revisions() -> tuple[frozenset[str], frozenset[str]]:
    """This release's migrations, read from their files (`revision = …`, `down_revision = …`)
    without importing them: every revision, and the heads (those no other one revises)."""
    known: set[str] = set()
    revised: set[str] = set()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        values: dict[str, Any] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target, value = _assignment(node)
            if target in ("revision", "down_revision"):
                values[target] = ast.literal_eval(value)
        revision = values.get("revision")
        if not isinstance(revision, str):
            continue
        known.add(revision)
        down = values.get("down_revision")
        revised.update([down] if isinstance(down, str) else (down or ()))
    return frozenset(known), frozenset(known - revised)


def _assignment(node: ast.stmt) -> tuple[str | None, Any]:
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
        return node.target.id, node.value
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        if isinstance(target, ast.Name):
            return target.id, node.value
    return None, None


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


class Database:
    """One engine and its session factory, shared by the whole process."""

    def __init__(self, url: str, **kwargs: Any):
        self.url = url
        self.engine = make_engine(url, **kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._quick: sessionmaker[Session] | None = None

    @property
    def quick_sessions(self) -> sessionmaker[Session]:
        """Sessions that give up within about a second (the write before an ack, /healthz)."""
        if self._quick is None:
            small = {} if self.url.startswith("sqlite") else {"pool_size": 4, "max_overflow": 8}
            engine = make_engine(self.url, busy_timeout=QUICK_TIMEOUT_S, urgent=True, **small)
            self._quick = sessionmaker(engine, expire_on_commit=False)
        return self._quick

    @contextmanager
    def quick_transaction(self) -> Iterator[Transaction]:
        with self.quick_sessions.begin() as session:
            yield session

    @property
    def quick_engine(self) -> Engine:
        """The engine behind `quick_sessions` (the inbox writer holds a Core connection)."""
        bind: Engine = self.quick_sessions.kw["bind"]
        return bind

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self.sessions.begin() as session:
            yield session

    def migrate(self) -> None:
        migrate(self.engine)

    def schema_state(self) -> SchemaState:
        return schema_state(self.engine)

    def ping(self) -> bool:
        return ping(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
        if self._quick is not None:
            bind = self._quick.kw.get("bind")
            if bind is not None:
                bind.dispose()


def id_list(ids: Collection[int]) -> Any:
    """Row ids for `column.in_(…)`, written into the statement as integers: a whole portfolio
    (100,000 clients) stays one statement, under the drivers' limits on bound parameters
    (SQLite 32,766; PostgreSQL 65,535). Integers only, so nothing is quoted from outside."""
    return bindparam(
        None, sorted(int(i) for i in ids), unique=True, expanding=True, literal_execute=True
    )
