"""Stored incidents, their timelines and the notifications sent (an adapter).

Timelines are append-only. A notification is keyed by (page key, receiver) with a
unique constraint, so the same page can never go out twice, even from two processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from facility import changes
from facility.tables import IncidentEventRecord, IncidentRecord, NotificationRecord

_I = IncidentRecord.__table__  # type: ignore[attr-defined]
_E = IncidentEventRecord.__table__  # type: ignore[attr-defined]
_N = NotificationRecord.__table__  # type: ignore[attr-defined]
OPEN = ("triggered", "acknowledged", "mitigated")


@dataclass(frozen=True, slots=True)
class Incident:
    id: int
    key: str
    kind: str
    subject: str
    title: str
    status: str
    priority: str
    priority_score: float
    explanation: dict[str, Any]
    impacted: dict[str, Any]
    team: str | None
    runbooks: list[str]
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    mitigated_at: datetime | None = None
    mitigated_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    id: int
    incident_id: int
    at: datetime
    kind: str
    actor: str
    public: bool
    text: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SentPage:
    key: str
    receiver: str
    ok: bool
    attempts: int
    detail: str
    at: datetime


class IncidentStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def open_incidents(self) -> list[Incident]:
        return self.incidents(statuses=OPEN)

    def incidents(
        self,
        statuses: Sequence[str] | None = None,
        priorities: Sequence[str] | None = None,
        limit: int = 500,
        resolved_since: datetime | None = None,
    ) -> list[Incident]:
        q = sa.select(_I).order_by(_I.c.opened_at.desc(), _I.c.id.desc()).limit(limit)
        if resolved_since is not None:
            q = q.where(_I.c.resolved_at >= resolved_since)
        if statuses:
            q = q.where(_I.c.status.in_(list(statuses)))
        if priorities:
            q = q.where(_I.c.priority.in_(list(priorities)))
        with self.engine.connect() as conn:
            return [Incident(**r) for r in conn.execute(q).mappings()]

    def incident(self, incident_id: int) -> Incident | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_I).where(_I.c.id == incident_id)).mappings().first()
            return Incident(**row) if row else None

    def last_resolved(self, key: str) -> Incident | None:
        q = (
            sa.select(_I)
            .where(_I.c.key == key, _I.c.status == "resolved")
            .order_by(_I.c.resolved_at.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(q).mappings().first()
            return Incident(**row) if row else None

    def create(self, values: dict[str, Any], event: dict[str, Any]) -> int | None:
        """A new incident's id; None when an open one with its key exists already (an
        API process sharing the store opened it first)."""
        try:
            with self.engine.begin() as conn:
                key = conn.execute(sa.insert(_I).values(**values)).inserted_primary_key
                assert key is not None
                new_id = int(key[0])
                _event(conn, new_id, event)
                _feed(conn, new_id, [event])
                return new_id
        except IntegrityError:
            if self.open_by_key(str(values["key"])) is None:
                raise
            return None

    def open_by_key(self, key: str) -> Incident | None:
        q = sa.select(_I).where(_I.c.key == key, _I.c.status.in_(OPEN))
        with self.engine.connect() as conn:
            row = conn.execute(q).mappings().first()
            return Incident(**row) if row else None

    def update(self, incident_id: int, values: dict[str, Any], *events: dict[str, Any]) -> None:
        """Change an incident and append to its timeline, in one transaction."""
        with self.engine.begin() as conn:
            if values:
                conn.execute(sa.update(_I).where(_I.c.id == incident_id).values(**values))
            for e in events:
                _event(conn, incident_id, e)
            if values or any(e.get("public") for e in events):
                _feed(conn, incident_id, events)

    def timeline(self, incident_id: int, public_only: bool = False) -> list[TimelineEntry]:
        q = sa.select(_E).where(_E.c.incident_id == incident_id).order_by(_E.c.id)
        if public_only:
            q = q.where(_E.c.public.is_(True))
        with self.engine.connect() as conn:
            return [TimelineEntry(**r) for r in conn.execute(q).mappings()]

    def claim_page(self, incident_id: int, key: str, receiver: str, at: datetime) -> bool:
        """Reserve (key, receiver) before sending; False if it was already sent or claimed."""
        row = {"incident_id": incident_id, "key": key, "receiver": receiver, "ok": False,
               "attempts": 0, "detail": "sending", "at": at}  # fmt: skip
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.insert(_N), [row])
            return True
        except IntegrityError:
            return False

    def record_delivery(self, incident_id: int, page: SentPage, event: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(_N)
                .where(_N.c.key == page.key, _N.c.receiver == page.receiver)
                .values(ok=page.ok, attempts=page.attempts, detail=page.detail, at=page.at)
            )
            _event(conn, incident_id, event)

    def pages(self, incident_id: int) -> list[SentPage]:
        q = sa.select(_N).where(_N.c.incident_id == incident_id).order_by(_N.c.id)
        with self.engine.connect() as conn:
            return [
                SentPage(r["key"], r["receiver"], r["ok"], r["attempts"], r["detail"], r["at"])
                for r in conn.execute(q).mappings()
            ]

    def page_keys(self, incident_id: int) -> frozenset[str]:
        return frozenset(p.key for p in self.pages(incident_id))


def _feed(conn: Connection, incident_id: int, events: Sequence[dict[str, Any]]) -> None:
    """The incident as it now is, into the change feed (with what happened to it)."""
    row = conn.execute(sa.select(_I).where(_I.c.id == incident_id)).mappings().first()
    if row is None:
        return
    payload = incident_payload(Incident(**row))
    payload["what"] = [e.get("kind", "") for e in events]
    at = row["updated_at"]
    changes.record(conn, "incident", at, [(str(incident_id), sorted(row["impacted"]), payload)])


def incident_payload(inc: Incident) -> dict[str, Any]:
    """An incident as JSON (`incident_from_payload` reverses it)."""
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(inc).items()}


def incident_from_payload(payload: dict[str, Any]) -> Incident:
    known = {f.name for f in fields(Incident)}
    values = {k: v for k, v in payload.items() if k in known}
    for k in ("opened_at", "updated_at", "acknowledged_at", "mitigated_at", "resolved_at"):
        if values.get(k):
            values[k] = datetime.fromisoformat(values[k])
    return Incident(**values)


def _event(conn: Connection, incident_id: int, e: dict[str, Any]) -> None:
    row = {"public": False, "data": {}, **e, "incident_id": incident_id}
    conn.execute(sa.insert(_E), [row])
