"""The durable status store: SQLite (WAL) by default, PostgreSQL by URL.

Writes happen in one transaction per ingested batch (`commit`): raw
observations, closed and opened intervals, events, the current status rows and
the store `version` (the key of every read cache) move together or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

import facility.tables  # noqa: F401  (registers the tables)
from facility import changes, codec
from facility.db import connected
from facility.engine import Track
from facility.errors import DuplicateBatch, VersionConflict
from facility.model import EffectiveStatus, Interval, Observation, Transition

_TABLES = SQLModel.metadata.tables
_CUR = _TABLES["current_status"]
_INT = _TABLES["status_interval"]
_EVT = _TABLES["event"]
_OBS = _TABLES["observation"]
_META = _TABLES["store_meta"]
_KEY = _TABLES["ingest_key"]
_OPEN = (_INT.c.resource_id == sa.bindparam("rid"), _INT.c.end.is_(None))
_DROP_EMPTY_OPEN = _INT.delete().where(*_OPEN, _INT.c.start >= sa.bindparam("at"))
_CLOSE_OPEN = _INT.update().where(*_OPEN).values(end=sa.bindparam("at"))

# The two statements run for every observation bypass SQLAlchemy's per-value type
# processing (most of the ingest cost): their parameters are prepared by `codec`.
_OBS_INSERT = (
    'INSERT INTO observation (resource_id, observed_at, received_at, source, state, capacity, "values", reasons) '
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_SEEN = "UPDATE current_status SET observed_at = ?, source = ?, version = ? WHERE resource_id = ?"


def _ts(conn: Connection) -> Callable[[datetime], object]:
    """How the driver takes a UTC timestamp: SQLite as SQLAlchemy's text, others as is."""
    return codec.sqlite_ts if conn.dialect.name == "sqlite" else codec.utc


def _bulk(conn: Connection, sql: str, rows: list[tuple[object, ...]]) -> None:
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    conn.exec_driver_sql(sql, rows)


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: int
    uuid: str
    resource_id: str
    occurred_at: datetime
    kind: str
    from_state: str | None
    to_state: str
    description: str
    details: dict[str, Any]


def create_db_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=30000",
    ):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


class Store:
    """Repository over the status tables; one instance per process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # background work on this store, ended before its connections are closed
        self.on_close: list[Callable[[], None]] = []

    @classmethod
    def from_url(cls, url: str, migrate: bool = True) -> Store:
        store = cls(create_db_engine(url))
        if migrate:
            from facility.migrate import upgrade

            upgrade(store.engine)
        return store

    def close(self) -> None:
        while self.on_close:
            self.on_close.pop()()
        self.engine.dispose()

    # -- writes -----------------------------------------------------------------

    def commit(
        self,
        observations: Sequence[Observation],
        received_at: datetime,
        current: Iterable[tuple[EffectiveStatus, Track]],
        seen: Sequence[EffectiveStatus],
        transitions: Sequence[Transition],
        expected_version: int | None = None,
        key: str | None = None,
    ) -> int:
        """Store one ingest or evaluation step atomically; return the new version.

        `current` rows are written whole; `seen` ones only had a new observation
        that changed nothing else, so only their `observed_at`/`source` are updated.
        With `expected_version`, the step was computed from the store at that version:
        if another process has written since, nothing is stored and `VersionConflict`
        is raised (the version row is bumped first, which also serializes writers).
        With `key` (a caller's idempotency key), a batch whose key is stored already is
        not stored again: `DuplicateBatch`."""
        with connected(self.engine, write=True) as conn:
            version = self._bump_version(conn, expected_version)
            if key is not None:
                _claim_key(conn, key, received_at)
            if observations:
                _bulk(
                    conn,
                    _OBS_INSERT,
                    codec.observation_rows(observations, received_at, _ts(conn)),
                )
            if transitions:
                self._record_transitions(conn, transitions)
            rows = [{**codec.current_row(s, tr), "version": version} for s, tr in current]
            if rows:
                _upsert(conn, _CUR, rows, "resource_id")
            if seen:
                params = [codec.seen_params(s, _ts(conn), version) for s in seen]
                _bulk(conn, _SEEN, params)
            changes.notify(conn)
            return version

    def _record_transitions(self, conn: Connection, transitions: Sequence[Transition]) -> None:
        """Close each resource's open interval, open the new one, log state changes.
        One statement per kind, for all transitions (a drained partition moves many)."""
        keys = [{"rid": t.after.resource_id, "at": t.at} for t in transitions]
        conn.execute(_DROP_EMPTY_OPEN, keys)  # an interval that would end where it starts
        conn.execute(_CLOSE_OPEN, keys)
        conn.execute(_INT.insert(), [codec.interval_row(t.after, t.at) for t in transitions])
        events = [codec.event_row(t, str(uuid.uuid4())) for t in transitions if t.state_changed]
        if events:
            conn.execute(_EVT.insert(), events)
            feed = [(e["resource_id"], [e["resource_id"]], codec.event_payload(e)) for e in events]
            changes.record(conn, "status", transitions[0].at, feed)

    def _bump_version(self, conn: Connection, expected: int | None = None) -> int:
        where = [_META.c.key == "version"]
        if expected is not None:
            where.append(_META.c.value == str(expected))
        row = conn.execute(
            _META.update()
            .where(*where)
            .values(value=sa.cast(sa.cast(_META.c.value, sa.Integer) + 1, sa.String))
            .returning(_META.c.value)
        ).first()
        if row is not None:
            return int(row[0])
        if expected not in (None, 0):
            raise VersionConflict(f"the store is no longer at version {expected}")
        if conn.execute(sa.select(_META.c.value).where(_META.c.key == "version")).first():
            raise VersionConflict(f"the store is no longer at version {expected}")
        try:
            with conn.begin_nested():
                conn.execute(_META.insert(), [{"key": "version", "value": "1"}])
        except IntegrityError as exc:  # another process wrote the first version meanwhile
            raise VersionConflict("the store's first version was written meanwhile") from exc
        return 1

    def has_history(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(_INT.c.id).limit(1)).first() is not None

    def insert_history(self, intervals: Sequence[Interval]) -> int:
        """Closed intervals of the past, e.g. imported history or the demo's; only into a
        store without any history yet (it never rewrites recorded history)."""
        rows = [
            {
                "resource_id": i.resource_id,
                "start": i.start,
                "end": i.end,
                "state": i.state.value,
                "capacity": i.capacity,
                "reasons": codec.reasons_out(i.reasons),
                "root_cause": i.root_cause.as_dict() if i.root_cause else None,
            }
            for i in intervals
            if i.end is not None
        ]
        with self.engine.begin() as conn:
            if conn.execute(sa.select(sa.func.count()).select_from(_INT)).scalar_one():
                return 0
            if rows:
                conn.execute(_INT.insert(), rows)
        return len(rows)

    def purge_observations(self, older_than: datetime) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(_OBS.delete().where(_OBS.c.received_at < older_than))
            conn.execute(_KEY.delete().where(_KEY.c.at < older_than))
            return int(result.rowcount or 0)

    def has_key(self, key: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(_KEY.c.key).where(_KEY.c.key == key)).first() is not None

    # -- reads ------------------------------------------------------------------

    def version(self) -> int:
        with connected(self.engine) as conn:
            return _version(conn)

    def load_current(self) -> dict[str, tuple[EffectiveStatus, Track]]:
        return self.load_state()[1]

    def load_state(
        self, since: int | None = None
    ) -> tuple[int, dict[str, tuple[EffectiveStatus, Track]]]:
        """The version and every current status row (with `since`, only the rows written
        after that version). The version is read first: the rows may be newer than it (a
        later read sees a newer version and loads again), never older."""
        q = sa.select(_CUR)
        if since is not None:
            q = q.where(_CUR.c.version > since)
        with connected(self.engine) as conn:
            version = _version(conn)
            rows = conn.execute(q).mappings().all()
        return version, {r["resource_id"]: codec.current_from_row(r) for r in rows}

    def history(self, resource_id: str, start: datetime, end: datetime) -> list[Interval]:
        """Intervals of one resource that overlap [start, end), oldest first."""
        q = (
            sa.select(_INT)
            .where(_INT.c.resource_id == resource_id, _INT.c.start < end)
            .where(sa.or_(_INT.c.end.is_(None), _INT.c.end > start))
            .order_by(_INT.c.start, _INT.c.id)
        )
        with self.engine.connect() as conn:
            return [codec.interval_from_row(r) for r in conn.execute(q).mappings()]

    def intervals_at(self, at: datetime) -> dict[str, Interval]:
        """The interval of every resource that covers instant `at`."""
        q = (
            sa.select(_INT)
            .where(_INT.c.start <= at)
            .where(sa.or_(_INT.c.end.is_(None), _INT.c.end > at))
            .order_by(_INT.c.id)
        )
        with self.engine.connect() as conn:
            return {
                r["resource_id"]: codec.interval_from_row(r) for r in conn.execute(q).mappings()
            }

    def events(
        self,
        after: int = 0,
        limit: int = 100,
        resource_ids: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        descending: bool = False,
        offset: int = 0,
    ) -> list[EventRecord]:
        q = sa.select(_EVT).where(_EVT.c.id > after)
        if resource_ids is not None:
            q = q.where(_EVT.c.resource_id.in_(list(resource_ids)))
        if since is not None:
            q = q.where(_EVT.c.occurred_at >= since)
        if until is not None:
            q = q.where(_EVT.c.occurred_at <= until)
        q = q.order_by(_EVT.c.id.desc() if descending else _EVT.c.id).offset(offset).limit(limit)
        with self.engine.connect() as conn:
            return [EventRecord(**dict(r)) for r in conn.execute(q).mappings()]

    def event(self, event_uuid: str) -> EventRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_EVT).where(_EVT.c.uuid == event_uuid)).mappings().first()
        return EventRecord(**dict(row)) if row else None

    def observations(self, resource_id: str, limit: int = 100) -> list[dict[str, Any]]:
        q = (
            sa.select(_OBS)
            .where(_OBS.c.resource_id == resource_id)
            .order_by(_OBS.c.observed_at.desc(), _OBS.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def count(self, table: str) -> int:
        tab = {"observation": _OBS, "event": _EVT, "status_interval": _INT}[table]
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(tab)).scalar() or 0)


def _claim_key(conn: Connection, key: str, at: datetime) -> None:
    try:
        with conn.begin_nested():
            conn.execute(_KEY.insert(), [{"key": key, "at": at}])
    except IntegrityError as exc:
        raise DuplicateBatch(key) from exc


def _version(conn: Connection) -> int:
    value = conn.execute(sa.select(_META.c.value).where(_META.c.key == "version")).scalar()
    return int(value or 0)


def _upsert(conn: Connection, table: sa.Table, rows: list[dict[str, Any]], key: str) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    cols = {c: stmt.excluded[c] for c in rows[0] if c != key}
    conn.execute(stmt.on_conflict_do_update(index_elements=[key], set_=cols), rows)


__all__ = ["EventRecord", "Store", "create_db_engine"]
