"""SQLAlchemy 2.x typed models of the spine: portfolio, touchpoints, pulses, wins."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from domain.touch_rules import message_facts
from storage.types import UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[str]: JSON,
        list[Any]: JSON,
    }


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="Our team")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    holidays_country: Mapped[str] = mapped_column(String(8), default="")
    holidays_subdiv: Mapped[str | None] = mapped_column(String(16))
    leadership_channel: Mapped[str | None] = mapped_column(String(32))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slack_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    timezone: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Client(Base):
    __tablename__ = "client"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    cso_id: Mapped[str] = mapped_column(String(32), index=True)
    service_lead_id: Mapped[str | None] = mapped_column(String(32))
    engagement_partner_id: Mapped[str | None] = mapped_column(String(32))
    client_channel: Mapped[str | None] = mapped_column(String(32), unique=True)
    internal_channel: Mapped[str | None] = mapped_column(String(32))
    segment: Mapped[str] = mapped_column(String(16), default="mid_market")
    arr: Mapped[float] = mapped_column(Float, default=0)
    contract_start: Mapped[date | None] = mapped_column(Date)
    contract_end: Mapped[date | None] = mapped_column(Date)
    timezone: Mapped[str | None] = mapped_column(String(64))
    contacts: Mapped[list[str]] = mapped_column(JSON, default=list)
    licensed_seats: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def team_ids(self) -> set[str]:
        return {i for i in (self.cso_id, self.service_lead_id, self.engagement_partner_id) if i}


def _text_fact(i: int) -> Any:
    """The touch rules' facts about the row's excerpt (domain.touch_rules.message_facts: its
    words, whether it is an acknowledgement, its update cues), filled in for every insert that
    does not give them."""

    def default(context: Any) -> Any:
        return message_facts(str(context.get_current_parameters().get("excerpt") or ""))[i]

    return default


class Touchpoint(Base):
    """A contact with the client: a team message in the client channel, or one logged."""

    __tablename__ = "touchpoint"
    __table_args__ = (
        Index("ix_touchpoint_client_day", "client_id", "local_date"),
        # Covers the KPI's per-client, per-day counts (storage.kpi_store.touched_days) and its
        # choice of the touches it reads (those that don't count or can be an update).
        Index(
            "ix_touchpoint_day_counts",
            "local_date",
            "client_id",
            "author_id",
            "kind",
            "source",
            "words",
            "acknowledgement",
            "cues",
        ),
        # Rows written by a process older than their text facts, measured when read.
        Index(
            "ix_touchpoint_unmeasured",
            "local_date",
            sqlite_where=text("cues IS NULL"),
            postgresql_where=text("cues IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    author_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # slack | email | call | meeting | ...
    source: Mapped[str] = mapped_column(String(16))  # event | command | modal
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    local_date: Mapped[date] = mapped_column(Date)
    excerpt: Mapped[str] = mapped_column(String(300), default="")
    link: Mapped[str | None] = mapped_column(String(500))
    channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The excerpt's words, whether it is an acknowledgement, and whether it reads like a
    # morning update or a recap (domain.touch_rules.message_facts), set with the excerpt; None
    # only on rows written before they were kept.
    words: Mapped[int | None] = mapped_column(Integer, default=_text_fact(0))
    acknowledgement: Mapped[bool | None] = mapped_column(Boolean, default=_text_fact(1))
    cues: Mapped[int | None] = mapped_column(SmallInteger, default=_text_fact(2))

    client: Mapped[Client] = relationship()


class InboundMessage(Base):
    """A message by the client's people in the client channel (for response times)."""

    __tablename__ = "inbound_message"
    __table_args__ = (
        UniqueConstraint("channel", "message_ts", name="uq_inbound_channel_ts"),
        Index("ix_inbound_client_time", "client_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    author_id: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    excerpt: Mapped[str] = mapped_column(String(300), default="")


class Exemption(Base):
    """A business day on which no touchpoint is expected, with its reason."""

    __tablename__ = "exemption"
    __table_args__ = (UniqueConstraint("client_id", "day", name="uq_exemption_client_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Win(Base):
    """The weekly value presentation and its tangible win (docs/process.md, "Cadences")."""

    __tablename__ = "win"
    __table_args__ = (
        Index("ix_win_client_week", "client_id", "iso_week"),
        Index("ix_win_week", "iso_week", "client_id"),  # the weeks the KPI reads
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    iso_week: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    activity_list: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The request that recorded it: a request replayed from the inbox records it once.
    request_key: Mapped[str | None] = mapped_column(String(200), unique=True)


class Pulse(Base):
    """A Partnership Pulse entry: sentiment, the Hook, the latest external update."""

    __tablename__ = "pulse"
    __table_args__ = (Index("ix_pulse_client_time", "client_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    sentiment: Mapped[str] = mapped_column(String(16))
    hook: Mapped[str | None] = mapped_column(String(500))
    update: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(16), default="command")
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    request_key: Mapped[str | None] = mapped_column(String(200), unique=True)


class ProcessedEvent(Base):
    """Slack event ids already handled: a retry of the same event is recorded once."""

    __tablename__ = "processed_event"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


# --- nudges: the exactly-once outbox every cadence, loop and digest goes through ---------------
class Nudge(Base):
    """One nudge to one person (or channel) for one cadence, client and period.

    The natural key is written (unique) before any Slack call, and the send is recorded
    after, so repeated ticks, restarts and concurrent processes send it exactly once.
    """

    __tablename__ = "nudge"
    __table_args__ = (Index("ix_nudge_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    cadence_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[str | None] = mapped_column(String(32), index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(32))  # a user id (DM) or a channel id
    text: Mapped[str] = mapped_column(Text)
    blocks: Mapped[list[Any] | None] = mapped_column(JSON)
    batch: Mapped[bool] = mapped_column(Boolean, default=True)  # may share a DM with others
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # pending -> sending -> sent | dropped (past its grace) ; sent -> closed (done is done)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_token: Mapped[str | None] = mapped_column(String(40))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    message_channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The outbox's own bookkeeping for unknown outcomes and Slack's rate limits:
    # the key carried in the Slack message's metadata by this claim's post,
    attempt_key: Mapped[str | None] = mapped_column(String(80))
    # when that post could have started, on the wall clock (Slack's `ts` clock),
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # a post whose outcome is unknown (timeout, reset, 5xx, the process died mid-call): the
    # channel's history is searched for this key before anything is sent again,
    unsure_key: Mapped[str | None] = mapped_column(String(80))
    unsure_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # and the moment Slack asked us to wait until (Retry-After on a 429).
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime())


# --- cadence: per-person preferences, out-of-office, cadences closed by a click ---------------
class PersonPrefs(Base):
    """A person's own nudge settings (`/cso prefs`); a missing value means the default."""

    __tablename__ = "person_prefs"

    slack_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    standup: Mapped[str | None] = mapped_column(String(5))  # "HH:MM" local
    cutoff: Mapped[str | None] = mapped_column(String(5))
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # evening, e.g. "18:00"
    quiet_end: Mapped[str | None] = mapped_column(String(5))  # morning, e.g. "09:00"
    daily_cap: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutOfOffice(Base):
    """A person's time out of office (inclusive dates): no nudges, no KPI expectation."""

    __tablename__ = "out_of_office"
    __table_args__ = (Index("ix_ooo_person", "person_id", "end_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[str] = mapped_column(String(32))
    start_day: Mapped[date] = mapped_column(Date)
    end_day: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CadenceDone(Base):
    """A cadence occurrence closed by a click (Triangle Sync held...): who and when.

    `key` is cadence:subject:period (subject: the client id, or the person for per-person
    cadences), so one click closes it for everyone it was nudged to.
    """

    __tablename__ = "cadence_done"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    cadence_id: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    person_id: Mapped[str | None] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(64))
    done_by: Mapped[str] = mapped_column(String(32))
    done_at: Mapped[datetime] = mapped_column(UTCDateTime())


# --- health: snapshots, signal readings, NPS, playbooks, renewals, QBRs ---------------------
class HealthSnapshot(Base):
    """One scoring of a client: its inputs, the model, the score and band, and who changed what.

    `values` are the sub-signals the score used. `derived` keeps what the bot measured itself
    (response time, NPS, meeting attendance) and `overrides` a person's manual value for such a
    signal, side by side: the override wins in `values`, the derived value is never lost.
    """

    __tablename__ = "health_snapshot"
    __table_args__ = (
        # covers the board's reads (no table lookups for a year of history)
        Index(
            "ix_health_snapshot_board",
            "client_id",
            "day",
            "taken_at",
            "score",
            "band",
            "band_since",
        ),
        Index("ix_health_snapshot_client_source_day", "client_id", "source", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    day: Mapped[date] = mapped_column(Date)  # the day the score stands for (client's calendar)
    model_id: Mapped[str] = mapped_column(String(64))
    segment: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(8))
    # First day of the unbroken run in this band that this snapshot belongs to (kept on write
    # so the board reads "days in band" without walking a year of history).
    band_since: Mapped[date] = mapped_column(Date)
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    derived: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sources: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    changes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(16))  # modal | import | derived
    changed_by: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)


class SignalReading(Base):
    """One imported value (a usage export row): a model sub-signal or a usage fact."""

    __tablename__ = "signal_reading"
    __table_args__ = (
        UniqueConstraint("client_id", "day", "signal", name="uq_signal_reading_client_day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    signal: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NpsResponse(Base):
    __tablename__ = "nps_response"
    __table_args__ = (Index("ix_nps_client_time", "client_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(String(300), default="")
    recorded_by: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)


class PlaybookRun(Base):
    """A risk playbook started for a client; `active_key` is set only while it runs, so a
    client never has the same playbook running twice."""

    __tablename__ = "playbook_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    playbook_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | completed
    active_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    start_day: Mapped[date] = mapped_column(Date)
    started_by: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    trigger: Mapped[str | None] = mapped_column(String(64))

    steps: Mapped[list[PlaybookRunStep]] = relationship(
        order_by="PlaybookRunStep.position", cascade="all, delete-orphan"
    )


class PlaybookRunStep(Base):
    __tablename__ = "playbook_step"
    __table_args__ = (UniqueConstraint("run_id", "position", name="uq_playbook_step_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("playbook_run.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(300))
    due: Mapped[date] = mapped_column(Date)
    escalation: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[str | None] = mapped_column(String(32))


class RenewalOutcomeRecord(Base):
    """The outcome of the contract that ended on `contract_end` (one per contract)."""

    __tablename__ = "renewal_outcome"
    __table_args__ = (
        UniqueConstraint("client_id", "contract_end", name="uq_renewal_client_contract"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    contract_end: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(16))  # signed | churned | extended
    new_end: Mapped[date | None] = mapped_column(Date)
    arr_before: Mapped[float] = mapped_column(Float)
    arr_after: Mapped[float] = mapped_column(Float)
    band_at_renewal: Mapped[str | None] = mapped_column(String(8))
    recorded_by: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class QbrRecord(Base):
    """A client's QBR for a quarter: when it was prepared (rendered) and delivered."""

    __tablename__ = "qbr_record"
    __table_args__ = (UniqueConstraint("client_id", "quarter", name="uq_qbr_client_quarter"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    quarter: Mapped[str] = mapped_column(String(8))
    prepared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    prepared_by: Mapped[str | None] = mapped_column(String(32))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_by: Mapped[str | None] = mapped_column(String(32))


# --- digest: the leadership digest's chart and thread replies, each posted once ----------------
class DigestPart(Base):
    """A piece of a week's digest that follows the summary (posted by the outbox): the chart
    and the per-CSO thread replies, in `position` order. Written with the summary's nudge,
    claimed before the Slack call, recorded after — so each is posted once."""

    __tablename__ = "digest_part"
    __table_args__ = (Index("ix_digest_part_week_status", "week", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)  # digest:<week>:<position>
    week: Mapped[str] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))  # chart | reply
    channel: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    blocks: Mapped[list[Any] | None] = mapped_column(JSON)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|sent
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claim_token: Mapped[str | None] = mapped_column(String(40))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    file_id: Mapped[str | None] = mapped_column(String(32))
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# --- flags: client-channel flags, open client questions, internal threads -------------------
class Flag(Base):
    """A client message flagged (by a team member's reaction, or suggested by the classifier).

    One row per (channel, message ts, kind): a second reaction or an event retry is the same
    flag. status: suggested -> open (flagged) -> decided | withdrawn; suggested -> dismissed.
    """

    __tablename__ = "flag"
    __table_args__ = (
        UniqueConstraint("channel", "message_ts", "kind", name="uq_flag_message_kind"),
        Index("ix_flag_client_status", "client_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    author_id: Mapped[str | None] = mapped_column(String(32))  # who wrote the flagged message
    excerpt: Mapped[str] = mapped_column(String(300), default="")
    permalink: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(16))  # reaction | rules | llm
    reaction: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    flagged_by: Mapped[str | None] = mapped_column(String(32))
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision: Mapped[str | None] = mapped_column(String(32))  # in_scope | change_request | ...
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    post_channel: Mapped[str | None] = mapped_column(String(32))  # the internal post (or DM)
    post_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ClientQuestion(Base):
    """A client message in a client channel that waits for a reply (docs/process.md, "Flags")."""

    __tablename__ = "client_question"
    __table_args__ = (
        UniqueConstraint("channel", "message_ts", name="uq_client_question_channel_ts"),
        Index("ix_client_question_asked", "asked_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    author_id: Mapped[str] = mapped_column(String(32))
    excerpt: Mapped[str] = mapped_column(String(300), default="")
    permalink: Mapped[str | None] = mapped_column(String(500))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InternalMessage(Base):
    """A team message in a client's internal channel, kept short, for orphaned threads."""

    __tablename__ = "internal_message"
    __table_args__ = (
        UniqueConstraint("channel", "message_ts", name="uq_internal_message_channel_ts"),
        Index("ix_internal_message_thread", "channel", "thread_ts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    author_id: Mapped[str] = mapped_column(String(32))
    excerpt: Mapped[str] = mapped_column(String(200), default="")
    is_question: Mapped[bool] = mapped_column(Boolean, default=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # a reaction by asker


# --- the inbox: every acknowledged request, kept until its work is done ------------------------
class InboxItem(Base):
    """A Slack request (or a follow-up task) acknowledged and not yet fully handled.

    Written before the ack; the work runs from here, retried with back-off, so a crash, a
    restart, a lost connection or a locked database delays it but never loses it. `owner` and
    `lease_until` say which process is working on it; an expired lease is taken over.
    """

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_status_next", "status", "next_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    lane: Mapped[str] = mapped_column(String(16))  # interactive | events | model
    kind: Mapped[str] = mapped_column(String(64))  # "slack", or a task name
    mode: Mapped[str] = mapped_column(String(16), default="http")  # http | socket_mode
    content_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str | None] = mapped_column(Text)  # emptied once done (privacy)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|done|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime())
    owner: Mapped[str | None] = mapped_column(String(64))
    claim: Mapped[str | None] = mapped_column(String(40))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(300))


class ServiceStatus(Base):
    """Small shared facts about the service that every process must see: Slack dropping our
    events (`app_rate_limited`), the token revoked, the app uninstalled, the health probe."""

    __tablename__ = "service_status"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


# -- lifecycle: the sales handoff, onboarding, lifecycle stages, close-out --


class ClientLifecycle(Base):
    """A client's signature, kickoff, account executive, success criteria and the sales
    handoff (docs/process.md, "Onboarding"): one row per client that came with a signature."""

    __tablename__ = "client_lifecycle"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), unique=True)
    segment: Mapped[str] = mapped_column(String(16))  # the plan it started with
    signed_on: Mapped[date] = mapped_column(Date)
    kickoff_on: Mapped[date | None] = mapped_column(Date)
    ae_id: Mapped[str | None] = mapped_column(String(32))
    success_criteria: Mapped[list[str]] = mapped_column(JSON, default=list)
    handoff: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    handoff_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_by: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # modal | portfolio
    handed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OnboardingItem(Base):
    __tablename__ = "onboarding_item"
    __table_args__ = (UniqueConstraint("client_id", "item_id", name="uq_onboarding_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String(300))
    section: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(32))
    anchor: Mapped[str] = mapped_column(String(16))
    marks: Mapped[str | None] = mapped_column(String(16))
    phase: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[str | None] = mapped_column(String(32))


class OnboardingHours(Base):
    """Hours a CSO logged on a client's onboarding (for CSO time per onboarding)."""

    __tablename__ = "onboarding_hours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(String(32))
    hours: Mapped[float] = mapped_column(Float)
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    request_key: Mapped[str | None] = mapped_column(String(120), unique=True)


class LifecycleStageRecord(Base):
    """The day a client entered a lifecycle stage, as the tick saw it."""

    __tablename__ = "lifecycle_stage"
    __table_args__ = (UniqueConstraint("client_id", "stage", "since", name="uq_lifecycle_stage"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(24))
    since: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ExpansionPackage(Base):
    """The context package sent to the account executive for a qualified opportunity."""

    __tablename__ = "expansion_package"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    ae_id: Mapped[str | None] = mapped_column(String(32))
    opportunity: Mapped[str] = mapped_column(Text)
    qualified_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Closeout(Base):
    """A project's close-out and asset pivot; its case-study candidate for advocacy."""

    __tablename__ = "closeout"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_by: Mapped[str] = mapped_column(String(32))
    case_study_candidate: Mapped[bool] = mapped_column(Boolean, default=True)
    case_study_note: Mapped[str | None] = mapped_column(Text)
    report_md: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CloseoutItem(Base):
    __tablename__ = "closeout_item"
    __table_args__ = (UniqueConstraint("closeout_id", "item_id", name="uq_closeout_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    closeout_id: Mapped[int] = mapped_column(ForeignKey("closeout.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[str | None] = mapped_column(String(32))


# -- support, product feedback, advocacy --
class SupportRequestRow(Base):
    """A client's request for help (docs/process.md, "Support"): opened from a client message,
    a :sos: reaction or `/support`; first response, resolution and breaches against the
    segment's targets."""

    __tablename__ = "support_request"
    __table_args__ = (
        Index("ix_support_request_client_status", "client_id", "status"),
        Index("ix_support_request_channel_status", "channel", "status"),
        Index("ix_support_request_opened", "opened_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)  # msg:<channel>:<ts> | cmd:<id>
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    asker: Mapped[str] = mapped_column(String(32))
    excerpt: Mapped[str] = mapped_column(String(300), default="")
    permalink: Mapped[str | None] = mapped_column(String(500))
    severity: Mapped[str] = mapped_column(String(16))  # blocker | normal | question
    kind: Mapped[str] = mapped_column(String(16))  # question | bug | not_working | request
    feedback: Mapped[str] = mapped_column(String(20), default="none")
    source: Mapped[str] = mapped_column(String(16))  # rules | llm | reaction | command
    opened_by: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    response_due: Mapped[datetime] = mapped_column(UTCDateTime())
    resolution_due: Mapped[datetime] = mapped_column(UTCDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_response_by: Mapped[str | None] = mapped_column(String(32))
    first_response_ts: Mapped[str | None] = mapped_column(String(32))
    team_replies: Mapped[int] = mapped_column(Integer, default=0)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    response_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    merged_into: Mapped[int | None] = mapped_column(Integer)
    closed_by: Mapped[str | None] = mapped_column(String(32))  # who merged or dismissed


class FeedbackItemRow(Base):
    """One account's product feedback (a feature request or a bug), grouped by theme."""

    __tablename__ = "feedback_item"
    __table_args__ = (Index("ix_feedback_item_theme", "theme"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    theme: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))  # feature_request | bug
    excerpt: Mapped[str] = mapped_column(String(300), default="")
    source: Mapped[str] = mapped_column(String(16))  # reaction | classified | nps | command
    by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FeedbackPostRow(Base):
    """A theme summarised to Product once per threshold."""

    __tablename__ = "feedback_post"
    __table_args__ = (UniqueConstraint("theme", "accounts", name="uq_feedback_post_theme"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    theme: Mapped[str] = mapped_column(String(120))
    accounts: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReferenceEntryRow(Base):
    """A client in the reference pipeline, with its tier."""

    __tablename__ = "reference_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), unique=True)
    tier: Mapped[str] = mapped_column(String(20))  # casual | advocate | champion
    source: Mapped[str] = mapped_column(String(16))  # auto | manual
    use_cases: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(String(300))
    by: Mapped[str | None] = mapped_column(String(32))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReferenceAskRow(Base):
    """One reference ask of a client: who asked, when, for what, and how it went."""

    __tablename__ = "reference_ask"
    __table_args__ = (Index("ix_reference_ask_client", "client_id", "asked_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    ask: Mapped[str] = mapped_column(String(300))
    asked_by: Mapped[str] = mapped_column(String(32))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16), default="pending")
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CaseStudyCandidateRow(Base):
    """A client marked as a case-study candidate (a close-out, or by hand)."""

    __tablename__ = "case_study_candidate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


# -- connectors: Linear and GitHub, the cached board ------------------------------------------
class ConnectorSource(Base):
    """Where a client's board lives (`linear:` and `github:` in the portfolio file)."""

    __tablename__ = "connector_source"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("client.id", ondelete="CASCADE"), primary_key=True
    )
    linear: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"team", "project"}
    github: Mapped[list[str]] = mapped_column(JSON, default=list)  # ["owner/repo", ...]


class ConnectorFetch(Base):
    """The cache's freshness per client and source: the last good fetch, and since when it
    fails (None: the last try worked)."""

    __tablename__ = "connector_fetch"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("client.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    tried_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(String(300))
    items: Mapped[int] = mapped_column(Integer, default=0)


class BoardItem(Base):
    """One cached board item: a Linear issue or milestone, a GitHub pull request or release
    (its fields as JSON), replaced wholesale by each good fetch of its source."""

    __tablename__ = "board_item"
    __table_args__ = (
        UniqueConstraint("client_id", "source", "kind", "key", name="uq_board_item"),
        Index("ix_board_item_client", "client_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # issue | milestone | pull | release
    key: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())


# -- numbers (founder interventions, expansion opportunities) --
class Intervention(Base):
    """A founder stepping in on a client: posting in its channel, or in its internal channel
    while a flag is open, recorded by hand, or reached by an escalation."""

    __tablename__ = "intervention"
    __table_args__ = (Index("ix_intervention_day", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    founder_id: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)  # in the client's timezone
    source: Mapped[str] = mapped_column(String(16))  # channel | internal | command
    reason: Mapped[str] = mapped_column(String(300), default="")
    link: Mapped[str | None] = mapped_column(String(500))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    recorded_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the founder's message was posted (None for one recorded by hand).
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dismissed_by: Mapped[str | None] = mapped_column(String(32))
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ExpansionOpportunity(Base):
    """A real expansion opportunity: value, stage, next step, owner."""

    __tablename__ = "expansion_opportunity"
    __table_args__ = (Index("ix_expansion_client", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    value: Mapped[float] = mapped_column(Float)
    stage: Mapped[str] = mapped_column(String(16))
    next_step: Mapped[str] = mapped_column(String(300), default="")
    owner_id: Mapped[str] = mapped_column(String(32))
    request_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class HealthReport(Base):
    """A client's weekly Client Health Report: drafted on its cadence, edited by the team,
    posted once to the client's internal channel."""

    __tablename__ = "health_report"
    __table_args__ = (UniqueConstraint("client_id", "week", name="uq_health_report_week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(String(8))  # 2026-W47
    text: Mapped[str] = mapped_column(Text)  # Slack mrkdwn, as edited
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | posted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    edited_by: Mapped[str | None] = mapped_column(String(32))
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    posted_by: Mapped[str | None] = mapped_column(String(32))
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channel: Mapped[str | None] = mapped_column(String(32))


class SuccessPlan(Base):
    """A client's success criteria (`success_criteria:` in the portfolio file)."""

    __tablename__ = "success_plan"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("client.id", ondelete="CASCADE"), primary_key=True
    )
    criteria: Mapped[list[Any]] = mapped_column(JSON, default=list)
