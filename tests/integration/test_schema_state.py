"""The schema check at every start reads this release's revisions from the migration files and
the database's from alembic's table, without importing alembic: it must answer as alembic does,
for an empty, a current, an outdated and a newer ("ahead") database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from storage.db import Database, SchemaState, alembic_config, release_revisions, schema_state


def alembic_reading(engine: Engine) -> SchemaState:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as conn:
        applied = MigrationContext.configure(conn).get_current_heads()
    return SchemaState(
        applied=frozenset(applied),
        heads=frozenset(script.get_heads()),
        known=frozenset(rev.revision for rev in script.walk_revisions()),
    )


def test_the_release_revisions_are_alembics() -> None:
    engine = create_engine("sqlite://")
    expected = alembic_reading(engine)
    known, heads = release_revisions()
    assert (known, heads) == (expected.known, expected.heads)
    assert len(heads) > 1  # the migrations branch by feature: more than one head


def test_a_migrated_database_reads_as_alembic_reads_it(db: Database) -> None:
    mine = schema_state(db.engine)
    assert mine == alembic_reading(db.engine)
    assert mine.current and mine.problem() is None


def test_the_migrations_build_the_schema_the_models_declare(db: Database) -> None:
    """Every table, column and index the code reads (the KPI's covering indexes among them)
    is what the migrations create: alembic finds nothing to add or drop."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from storage.models import Base

    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_empty_outdated_and_newer_databases_read_as_alembic_reads_them(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'states.db'}")
    empty = schema_state(db.engine)
    assert empty == alembic_reading(db.engine) and empty.empty
    db.migrate()
    _, heads = release_revisions()
    head = sorted(heads)[0]
    with db.engine.begin() as conn:  # one feature's newest migration not applied yet
        conn.execute(text("DELETE FROM alembic_version WHERE version_num = :v"), {"v": head})
    outdated = schema_state(db.engine)
    assert outdated == alembic_reading(db.engine)
    assert outdated.problem() is not None and "outdated" in str(outdated.problem())
    with db.engine.begin() as conn:  # a newer csobot migrated this database
        conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
        conn.execute(text("INSERT INTO alembic_version VALUES ('9999_from_the_future')"))
    ahead = schema_state(db.engine)
    assert ahead.ahead and "9999_from_the_future" in str(ahead.problem())
    db.dispose()


def test_the_check_at_start_leaves_alembic_out_of_the_process(tmp_path: Path) -> None:
    """What `serve` and `scheduler` run at every start: alembic stays unloaded (its modules and
    the migrations' are about 10 MB of a web process that lives for weeks)."""
    url = f"sqlite:///{tmp_path / 'start.db'}"
    Database(url).migrate()
    code = (
        "import sys\n"
        "from storage.db import Database\n"
        f"assert Database({url!r}).schema_state().current\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
