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
