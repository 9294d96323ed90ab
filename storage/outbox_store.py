"""The outbox's SQL: nudges written under their natural key, claimed, recorded and closed.

Every statement the exactly-once outbox (usecases/outbox.py) runs is here; it gets and gives
`OutboxNudge` records, never rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any

from sqlalchemy import JSON, String, bindparam, case, cast, func, literal, or_, select, update

from domain.nudge import NudgeSpec
from storage.db import Transaction
from storage.models import Nudge
from storage.upsert import insert_ignore


@dataclass(frozen=True)
class OutboxNudge:
    """One nudge, as the outbox and its renderers read it."""

    id: int
    key: str
    cadence_id: str
    person_id: str | None
    client_id: int | None
    period: str
    target: str
    text: str
    blocks: list[Any] | None
    batch: bool
    status: str
    due_at: datetime
    expires_at: datetime
    created_at: datetime
    claimed_at: datetime | None
    claim_token: str | None
    sent_at: datetime | None
    attempts: int
    last_error: str | None
    message_channel: str | None
    message_ts: str | None
    closed_at: datetime | None
    closed_by: str | None
    data: dict[str, Any]
    attempt_key: str | None
    attempted_at: datetime | None
    unsure_key: str | None
    unsure_since: datetime | None
    not_before: datetime | None


_FIELDS = tuple(OutboxNudge.__dataclass_fields__)


def nudge_record(row: Nudge) -> OutboxNudge:
    values = {name: getattr(row, name) for name in _FIELDS}
    values["data"] = dict(row.data or {})
    return OutboxNudge(**values)


# A new nudge's row: pending, under its natural key; the claim, send and close columns are left
# NULL. Each column from the spec, or the same for every row.
_SPEC_FIELDS = (
    "cadence_id person_id client_id period target text blocks batch due_at expires_at data"
)
_FROM_SPEC: dict[str, Callable[[NudgeSpec], Any]] = {
    "key": NudgeSpec.natural_key,
    **{name: attrgetter(name) for name in _SPEC_FIELDS.split()},
}
_PENDING = {"status": "pending", "attempts": 0}


def _values(spec: NudgeSpec, now: datetime) -> dict[str, Any]:
    """A new nudge's row."""
    return {
        **{name: get(spec) for name, get in _FROM_SPEC.items()},
        **_PENDING,
        "created_at": now,
    }


def enqueue(tx: Transaction, spec: NudgeSpec, now: datetime) -> bool:
    """Write the nudge under its natural key. True if it is new."""
    return insert_ignore(tx, Nudge, _values(spec, now))


def _bound_columns(
    specs: Sequence[NudgeSpec], now: datetime, dialect: Any, *, json_as_text: bool = False
) -> dict[str, list[Any]]:
    """`_values` of every spec, column by column, through each column's own bind processor
    (UTC datetimes, JSON, booleans). A value repeated across rows (the due time of an
    occurrence, `now`, no blocks) is processed once. `json_as_text`: JSON columns become their
    JSON text (None: JSON null, as the driver writes it), for `_unnest_insert`."""
    table: Any = Nudge.__table__
    out: dict[str, list[Any]] = {}
    raw: dict[str, list[Any]] = {name: list(map(get, specs)) for name, get in _FROM_SPEC.items()}
    raw.update({name: [value] * len(specs) for name, value in _PENDING.items()})
    raw["created_at"] = [now] * len(specs)
    for name, values in raw.items():
        kind = table.c[name].type
        process = kind.dialect_impl(dialect).bind_processor(dialect)
        if json_as_text and isinstance(kind, JSON):
            process = json.dumps
        if process is None:
            out[name] = values
            continue
        seen: dict[Any, Any] = {}
        column = []
        for value in values:
            if isinstance(value, dict | list):  # JSON: a fresh value per row
                column.append(process(value))
                continue
            if value not in seen:
                seen[value] = process(value)
            column.append(seen[value])
        out[name] = column
    return out


def enqueue_many(tx: Transaction, specs: Sequence[NudgeSpec], now: datetime) -> int:
    """`enqueue` for many nudges in one statement (INSERT … ON CONFLICT DO NOTHING): at the
    cadence cutoff this writes thousands of rows, built column by column. On PostgreSQL (with
    psycopg) each column goes as one binary array, unnested by the server (`_unnest_insert`);
    elsewhere the rows go to the driver's executemany. One JSON document read with
    json_to_recordset, and psycopg's pipelined executemany, were each slower on PostgreSQL at
    19,000 rows."""
    if not specs:
        return 0
    conn = tx.connection()
    dialect = conn.dialect
    table: Any = Nudge.__table__
    unnest = dialect.name == "postgresql" and dialect.driver == "psycopg"  # `%b` is psycopg's
    columns = _bound_columns(specs, now, dialect, json_as_text=unnest)
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    if unnest:
        _unnest_insert(conn, quote(table.name), names, columns)
        return len(specs)
    mark = "?" if dialect.paramstyle in ("qmark", "numeric") else "%s"
    sql = (
        f"INSERT INTO {quote(table.name)} ({names}) "
        f"VALUES ({', '.join([mark] * len(columns))}) ON CONFLICT DO NOTHING"
    )
    conn.exec_driver_sql(sql, list(zip(*columns.values(), strict=True)))
    return len(specs)


def _unnest_insert(conn: Any, table: str, names: str, columns: dict[str, list[Any]]) -> None:
    """PostgreSQL: INSERT … SELECT FROM unnest(one array per column) in binary (`%b`), so the
    driver does no per-row work and the server parses no text. A column with one value for
    every row (the status, the creation time, no blocks) goes once, as a parameter, not as an
    array. Strings and JSON go as text: the INSERT converts them to their column and checks a
    string's length (an explicit cast to VARCHAR(n) would cut one that is too long without a
    word). Writing 19,006 nudges took about half as long as through executemany; sending the
    shared columns once took it from 0.50–0.57 s to 0.43–0.47 s (best of six, alternating)."""
    arrays: list[str] = []
    selected: list[str] = []
    params: list[list[Any]] = []
    consts: list[Any] = []
    for name, values in columns.items():
        kind = Nudge.__table__.c[name].type
        sql_type = "text" if isinstance(kind, String | JSON) else kind.compile(dialect=conn.dialect)
        json_cast = "::json" if isinstance(kind, JSON) else ""
        if len(values) > 1 and all(v is values[0] for v in values):
            selected.append(f"%b::{sql_type}{json_cast}")
            consts.append(values[0])
            continue
        arrays.append(f"%b::{sql_type}[]")
        selected.append(f"u{len(params)}{json_cast}")
        params.append(values)
    aliases = ", ".join(f"u{i}" for i in range(len(params)))
    conn.exec_driver_sql(
        f"INSERT INTO {table} ({names}) SELECT {', '.join(selected)} "
        f"FROM unnest({', '.join(arrays)}) AS u({aliases}) ON CONFLICT DO NOTHING",
        (*consts, *params),
    )


def close(tx: Transaction, key: str, *, by: str, now: datetime) -> OutboxNudge | None:
    """Mark a nudge done (a touchpoint arrived, a button was clicked). Returns it if sent."""
    nudge = tx.scalars(select(Nudge).where(Nudge.key == key)).first()
    if nudge is None or nudge.status == "closed":
        return None
    was_sent = nudge.status == "sent"
    nudge.status = "closed" if was_sent else "dropped"
    nudge.closed_at, nudge.closed_by = now, by
    return nudge_record(nudge) if was_sent else None


def message_nudges(tx: Transaction, channel: str, ts: str) -> list[OutboxNudge]:
    """The nudges a sent message carries (what its full list shows)."""
    rows = tx.scalars(
        select(Nudge)
        .where(Nudge.message_channel == channel, Nudge.message_ts == ts)
        .order_by(Nudge.id)
    )
    return [nudge_record(r) for r in rows]


def claim_due(
    tx: Transaction,
    now: datetime,
    token: str,
    lease: timedelta,
    cadences: set[str] | None = None,
) -> list[OutboxNudge]:
    """Drop what passed its grace, hand back stale claims as unsure, and claim every due
    nudge for `token` in one statement (FOR UPDATE SKIP LOCKED on PostgreSQL)."""
    tx.execute(
        update(Nudge)
        .where(
            Nudge.status == "pending",
            Nudge.expires_at <= now,
            Nudge.unsure_key.is_(None),
        )
        .values(status="dropped", last_error="past its grace period", claim_token=None)
    )
    # A claim whose process stopped renewing it (killed, hung): whatever it may have
    # posted is unknown, and is looked for in Slack before anything is sent again.
    tx.execute(
        update(Nudge)
        .where(Nudge.status == "sending", Nudge.claimed_at < now - lease)
        .values(
            status="pending",
            claim_token=None,
            unsure_key=func.coalesce(Nudge.unsure_key, Nudge.attempt_key),
            unsure_since=func.coalesce(Nudge.unsure_since, Nudge.attempted_at, Nudge.claimed_at),
            last_error="outcome unknown: the sending process stopped mid-send",
        )
        .execution_options(synchronize_session=False)
    )
    due = select(Nudge.id).where(
        Nudge.status == "pending",
        Nudge.due_at <= now,
        or_(Nudge.expires_at > now, Nudge.unsure_key.is_not(None)),
        or_(Nudge.not_before.is_(None), Nudge.not_before <= now),
    )
    if cadences is not None:
        due = due.where(Nudge.cadence_id.in_(sorted(cadences)))
    due = due.with_for_update(skip_locked=True)
    # The key of the message each row goes out in: one per person for batched rows.
    key = case(
        (Nudge.batch, literal(f"{token}:t:") + Nudge.target),
        else_=literal(f"{token}:n:") + cast(Nudge.id, String),
    )
    claimed = tx.scalars(
        update(Nudge)
        .where(Nudge.id.in_(due))
        .values(
            status="sending",
            claim_token=token,
            claimed_at=now,
            attempt_key=key,
            attempted_at=datetime.now(UTC),  # Slack's clock, for `oldest`
            not_before=None,
        )
        .returning(Nudge)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted((nudge_record(r) for r in claimed), key=lambda r: (r.target, r.id))


def dm_channels(tx: Transaction, people: Iterable[str]) -> dict[str, str]:
    """The DM channel of each person, from messages already sent to them."""
    found: dict[str, str] = {}
    people = sorted(people)
    if not people:
        return found
    for target, channel in tx.execute(
        select(Nudge.target, Nudge.message_channel)
        .where(Nudge.target.in_(people), Nudge.message_channel.is_not(None))
        .distinct()
    ):
        if channel:
            found[target] = channel
    return found


def renew_claim(tx: Transaction, token: str, at: datetime) -> None:
    tx.execute(
        update(Nudge)
        .where(Nudge.claim_token == token, Nudge.status == "sending")
        .values(claimed_at=at)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed nudge in a pass, to be recorded."""

    nudge: OutboxNudge
    ts: str | None = None
    channel: str | None = None
    error: str | None = None
    until: datetime | None = None


_ATTEMPTS = Nudge.__table__.c.attempts + 1
_RELEASE: dict[str, Any] = {"status": "pending", "claim_token": None}
_LIMITED: dict[str, Any] = {
    **_RELEASE,
    "last_error": bindparam("b_error"),
    "not_before": bindparam("b_until"),
}
_SENT_VALUES: dict[str, Any] = {
    "status": "sent",
    "sent_at": bindparam("b_now"),
    "message_ts": bindparam("b_ts"),
    "message_channel": bindparam("b_channel"),
    "last_error": None,
    "unsure_key": None,
    "unsure_since": None,
}
# What each outcome writes, in the order they are written.
OUTCOMES: dict[str, dict[str, Any]] = {
    # a message whose outcome was unknown, looked for in Slack:
    "found": _SENT_VALUES,
    "absent": {"unsure_key": None, "unsure_since": None},
    "expired": {
        **_RELEASE,
        "status": "dropped",
        "unsure_key": None,
        "last_error": "past its grace period (an earlier try had not gone out)",
    },
    "gave_up": {**_RELEASE, "status": "dropped", "last_error": bindparam("b_error")},
    "undetermined": {**_RELEASE, "last_error": bindparam("b_error")},
    "limited": _LIMITED,
    # a message sent in this pass:
    "sent": {**_SENT_VALUES, "attempts": _ATTEMPTS},
    "unknown": {
        **_RELEASE,
        "attempts": _ATTEMPTS,
        "unsure_key": bindparam("b_key"),
        "unsure_since": bindparam("b_since"),
        "last_error": bindparam("b_error"),
    },
    "failed": {**_RELEASE, "attempts": _ATTEMPTS, "last_error": bindparam("b_error")},
    "later": {**_RELEASE, "due_at": bindparam("b_until")},
    "skipped": dict(_RELEASE),
}


def record_outcomes(
    tx: Transaction,
    token: str,
    now: datetime,
    outcomes: Mapping[str, Sequence[Outcome]],
    *,
    order: Sequence[str] = tuple(OUTCOMES),
) -> None:
    """One UPDATE per kind of outcome for many rows (executemany), only where this pass still
    holds the claim (a touchpoint may have closed a nudge meanwhile)."""
    conn = tx.connection()
    table: Any = Nudge.__table__
    for kind in order:
        results = outcomes.get(kind)
        if not results:
            continue
        params = [
            {
                "b_id": o.nudge.id,
                "b_ts": o.ts,
                "b_channel": o.channel,
                "b_error": (o.error or "")[:300] or None,
                "b_until": o.until,
                "b_key": o.nudge.attempt_key,
                "b_since": o.nudge.attempted_at,
                "b_token": token,
                "b_now": now,
            }
            for o in results
        ]
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.claim_token == bindparam("b_token"))
            .values(**OUTCOMES[kind])
        )
        conn.execute(stmt, params)
