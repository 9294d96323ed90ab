"""A nudge to write to the outbox: what every feature's enqueuer plans, and the outbox keeps
under its natural key (written before the Slack call, so a nudge is sent once)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class NudgeSpec:
    cadence_id: str
    period: str
    target: str
    text: str
    due_at: datetime
    expires_at: datetime
    person_id: str | None = None
    client_id: int | None = None
    blocks: list[dict[str, Any]] | None = None
    batch: bool = True
    data: dict[str, Any] = field(default_factory=dict)
    key: str | None = None

    def natural_key(self) -> str:
        return self.key or ":".join(
            [
                self.cadence_id,
                self.person_id or self.target,
                str(self.client_id or "-"),
                self.period,
            ]
        )


# -- a checklist: one reminder per person and occurrence, listing the clients ---------------------
# A cadence for each client, closed by a click and due the same day for all of a person's
# clients (Triangle Sync, the Thursday prep …), is one reminder listing the clients, each with
# its own *Done*: one outbox row instead of one per client. Its key has CHECKLIST where a
# client's id would be; each client's line is addressed as `<key>|<client id>` (a button's value).
CHECKLIST = "*"
LINE = "|"


def checklist_key(cadence_id: str, person_id: str, period: str) -> str:
    return f"{cadence_id}:{person_id}:{CHECKLIST}:{period}"


def is_checklist_key(key: str) -> bool:
    parts = key.split(":")
    return len(parts) >= 4 and parts[2] == CHECKLIST


def line_key(key: str, client_id: int) -> str:
    """The address of one client's line of a checklist."""
    return f"{key}{LINE}{client_id}"


def split_line_key(value: str) -> tuple[str, int] | None:
    """(checklist key, client id) of a line's address; None for any other key."""
    key, sep, raw = value.rpartition(LINE)
    if not sep or not raw.isdigit() or not is_checklist_key(key):
        return None
    return key, int(raw)


def client_key(key: str, client_id: int) -> str:
    """The key the client's own reminder would have (what the planner checks before writing
    one), for a client listed in the checklist `key`."""
    cadence_id, person_id, _, period = key.split(":", 3)
    return f"{cadence_id}:{person_id}:{client_id}:{period}"


def listed(data: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The clients a checklist lists ({"id", "name", "slug"}, and "outcome" once closed); []
    for any other reminder."""
    clients = (data or {}).get("clients")
    return [c for c in clients if isinstance(c, dict)] if isinstance(clients, list) else []


@dataclass(frozen=True)
class Line:
    """One client of a checklist, read as a reminder of its own (to render it, to click it)."""

    id: int
    key: str
    cadence_id: str
    client_id: int
    status: str
    text: str
    data: dict[str, Any]
    blocks: list[Any] | None = None


def lines(row: Any) -> list[Any]:
    """A reminder as the lines it shows: a checklist, one per client listed (a client closed
    is closed, whatever the rest); any other reminder, itself."""
    data = row.data or {}
    clients = listed(data)
    if not clients:
        return [row]
    base = {k: v for k, v in data.items() if k != "clients"}
    out: list[Any] = []
    for c in clients:
        closed = c.get("outcome")
        item = {**base, "client": c.get("name"), "slug": c.get("slug")}
        if closed:
            item["outcome"] = closed
        out.append(
            Line(
                id=row.id,
                key=line_key(row.key, int(c["id"])),
                cadence_id=row.cadence_id,
                client_id=int(c["id"]),
                status="closed" if closed else row.status,
                text=f"{base.get('title', row.cadence_id)} — {c.get('name')}",
                data=item,
            )
        )
    return out
