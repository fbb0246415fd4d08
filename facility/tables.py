"""SQLModel tables of the status store (schema changes go through Alembic migrations)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and always read back timezone-aware."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index))


def _json(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=sa.Column(sa.JSON(), nullable=nullable))


class CurrentStatus(SQLModel, table=True):
    """The effective status of each resource now, and the engine's memory of it."""

    __tablename__ = "current_status"

    resource_id: str = Field(primary_key=True, max_length=64)
    state: str = Field(max_length=16)
    capacity: float | None = None
    reasons: list[dict[str, str]] = _json(nullable=False)
    root_cause: dict[str, str] | None = _json()
    underlying: dict[str, str] | None = _json()
    since: datetime | None = _ts(nullable=True)
    observed_at: datetime | None = _ts(nullable=True)
    source: str | None = Field(default=None, max_length=64)
    track: dict[str, Any] = _json(nullable=False)
    # the store version that last wrote the row: other processes load only newer rows
    version: int = Field(
        default=0, sa_column=sa.Column(sa.Integer(), nullable=False, server_default="0", index=True)
    )


class StatusInterval(SQLModel, table=True):
    """A stretch of constant effective state; `end` is NULL while it is open."""

    __tablename__ = "status_interval"
    __table_args__ = (sa.Index("ix_status_interval_resource_start", "resource_id", "start"),)

    id: int | None = Field(default=None, primary_key=True)
    resource_id: str = Field(max_length=64)
    start: datetime = _ts()
    end: datetime | None = _ts(nullable=True)
    state: str = Field(max_length=16)
    capacity: float | None = None
    reasons: list[dict[str, str]] = _json(nullable=False)
    root_cause: dict[str, str] | None = _json()


class Event(SQLModel, table=True):
    """An immutable record of a status change; `id` is the change-feed cursor."""

    __tablename__ = "event"
    __table_args__ = (sa.Index("ix_event_resource_id", "resource_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(max_length=36, unique=True)
    resource_id: str = Field(max_length=64)
    occurred_at: datetime = _ts(index=True)
    kind: str = Field(max_length=32)
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str = Field(max_length=16)
    description: str
    details: dict[str, Any] = _json(nullable=False)


class ObservationRecord(SQLModel, table=True):
    """A raw observation as received, kept for `observation_retention`."""

    __tablename__ = "observation"
    __table_args__ = (sa.Index("ix_observation_resource_time", "resource_id", "observed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    resource_id: str = Field(max_length=64)
    observed_at: datetime = _ts()
    received_at: datetime = _ts(index=True)
    source: str = Field(max_length=64)
    state: str = Field(max_length=16)
    capacity: float | None = None
    values: dict[str, float] = _json(nullable=False)
    reasons: list[dict[str, str]] = _json(nullable=False)


class StoreMeta(SQLModel, table=True):
    """Small key/value facts about the store, e.g. its change `version`."""

    __tablename__ = "store_meta"

    key: str = Field(primary_key=True, max_length=64)
    value: str


class MaintenanceWindowRecord(SQLModel, table=True):
    """A planned maintenance window (one-off or recurring), from any source."""

    __tablename__ = "maintenance_window"

    id: str = Field(primary_key=True, max_length=255)
    title: str = Field(max_length=255)
    description: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    resources: list[str] = _json(nullable=False)
    effect: str = Field(max_length=16)
    kind: str = Field(max_length=16)
    start: datetime = _ts()
    end: datetime = _ts()
    timezone: str = Field(max_length=64)
    rrule: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    exdates: list[str] = _json(nullable=False)
    notice_given_at: datetime | None = _ts(nullable=True)
    source: str = Field(max_length=128, index=True)
    cancelled: bool = False
    extended_until: datetime | None = _ts(nullable=True)
    sequence: int = 0
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class BeamtimeRecord(SQLModel, table=True):
    """A scheduled beamtime of an experiment facility's beamline."""

    __tablename__ = "beamtime"

    id: str = Field(primary_key=True, max_length=255)
    facility_id: str = Field(max_length=64)
    beamline: str = Field(max_length=64, index=True)
    title: str = Field(max_length=255)
    start: datetime = _ts()
    end: datetime = _ts()
    bundle: list[str] | None = _json()
    source: str = Field(max_length=128, index=True)


class ReservationRecord(SQLModel, table=True):
    """A scheduler reservation as last seen by a collector (replaced per source)."""

    __tablename__ = "reservation"

    id: str = Field(primary_key=True, max_length=255)
    source: str = Field(max_length=128, index=True)
    name: str = Field(max_length=255)
    start: datetime = _ts()
    end: datetime = _ts()
    resources: list[str] = _json(nullable=False)
    nodes: int = 0
    flags: list[str] = _json(nullable=False)
    accounts: list[str] = _json(nullable=False)
    users: list[str] = _json(nullable=False)
    partial: bool = False
    observed_at: datetime = _ts()


OPEN_INCIDENT = "status IN ('triggered', 'acknowledged', 'mitigated')"


class IncidentRecord(SQLModel, table=True):
    """An incident: one per root cause, with its impacts, priority and lifecycle."""

    __tablename__ = "incident"
    # one open incident per key, even with several API processes opening them
    __table_args__ = (
        sa.Index(
            "ux_incident_open_key",
            "key",
            unique=True,
            sqlite_where=sa.text(OPEN_INCIDENT),
            postgresql_where=sa.text(OPEN_INCIDENT),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255, index=True)
    kind: str = Field(max_length=16)
    subject: str = Field(max_length=128)
    title: str = Field(max_length=255)
    status: str = Field(max_length=16, index=True)
    priority: str = Field(max_length=4)
    priority_score: float = 0.0
    explanation: dict[str, Any] = _json(nullable=False)
    impacted: dict[str, Any] = _json(nullable=False)
    team: str | None = Field(default=None, max_length=64)
    runbooks: list[str] = _json(nullable=False)
    opened_at: datetime = _ts()
    updated_at: datetime = _ts()
    acknowledged_at: datetime | None = _ts(nullable=True)
    acknowledged_by: str | None = Field(default=None, max_length=128)
    mitigated_at: datetime | None = _ts(nullable=True)
    mitigated_by: str | None = Field(default=None, max_length=128)
    resolved_at: datetime | None = _ts(nullable=True)
    resolved_by: str | None = Field(default=None, max_length=128)


class IncidentEventRecord(SQLModel, table=True):
    """One line of an incident's timeline (append-only)."""

    __tablename__ = "incident_event"
    __table_args__ = (sa.Index("ix_incident_event_incident", "incident_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id")
    at: datetime = _ts()
    kind: str = Field(max_length=32)
    actor: str = Field(max_length=128)
    public: bool = False
    text: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    data: dict[str, Any] = _json(nullable=False)


class NotificationRecord(SQLModel, table=True):
    """A page sent to one receiver; (key, receiver) is unique, so a page goes out once."""

    __tablename__ = "notification"
    __table_args__ = (sa.UniqueConstraint("key", "receiver", name="uq_notification_key_receiver"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    key: str = Field(max_length=128)
    receiver: str = Field(max_length=64)
    ok: bool = False
    attempts: int = 0
    detail: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    at: datetime = _ts()


class SubscriptionRecord(SQLModel, table=True):
    """Someone's subscription to status changes of chosen resources (webhook or e-mail)."""

    __tablename__ = "subscription"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    target: str = Field(max_length=512)
    resources: list[str] = _json(nullable=False)
    secret: str | None = Field(default=None, max_length=128)
    created_at: datetime = _ts()
    created_by: str = Field(max_length=128)


class SubscriptionDeliveryRecord(SQLModel, table=True):
    """One delivery of a status change to a subscription; failed ones are the dead letters."""

    __tablename__ = "subscription_delivery"
    __table_args__ = (sa.Index("ix_subscription_delivery_sub", "subscription_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="subscription.id")
    event_uuid: str = Field(max_length=36)
    at: datetime = _ts()
    ok: bool = False
    attempts: int = 0
    detail: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    body: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))


class ApiTokenRecord(SQLModel, table=True):
    """An API token: only a hash of its secret is kept; it expires and can be revoked."""

    __tablename__ = "api_token"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=128)
    secret_hash: str = Field(max_length=128)
    scopes: list[str] = _json(nullable=False)
    resources: list[str] = _json(nullable=False)  # empty: any resource
    created_at: datetime = _ts()
    created_by: str = Field(max_length=128)
    expires_at: datetime = _ts()
    revoked_at: datetime | None = _ts(nullable=True)
    last_used_at: datetime | None = _ts(nullable=True)


class AuditRecord(SQLModel, table=True):
    """One write, in an append-only log; `hash` chains each entry to the one before."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(index=True)
    actor: str = Field(max_length=128, index=True)
    token_id: str | None = Field(default=None, max_length=64)
    client: str = Field(max_length=128)
    method: str = Field(max_length=8)
    path: str = Field(max_length=512)
    action: str = Field(max_length=64, index=True)
    target: str = Field(max_length=255)
    status: int = 0
    before: dict[str, Any] | None = _json()
    after: dict[str, Any] | None = _json()
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class ChangeRecord(SQLModel, table=True):
    """The change feed: one row per status change, incident change and maintenance
    change, written in the transaction of the change itself. Its `id` orders the feed
    (the SSE event id, `Last-Event-ID`); other API processes learn of new rows through
    PostgreSQL `NOTIFY` (or by polling SQLite)."""

    __tablename__ = "change"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(index=True)
    kind: str = Field(max_length=16)  # status | incident | maintenance
    ref: str = Field(max_length=128)  # the resource, incident or window it is about
    resources: list[str] = _json(nullable=False)
    payload: dict[str, Any] = _json(nullable=False)


class IngestKey(SQLModel, table=True):
    """`Idempotency-Key`s of accepted observation batches, per caller: a batch sent again
    (a collector retrying after a lost answer) is acknowledged without being stored twice.
    Kept as long as the observations."""

    __tablename__ = "ingest_key"

    key: str = Field(primary_key=True, max_length=200)
    at: datetime = _ts(index=True)
