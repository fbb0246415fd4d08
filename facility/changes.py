"""The change feed: what changed, in order, for push (SSE) and for other API processes.

Writers call `record` inside the transaction of their change, so a change is in the
feed exactly when it is committed. On PostgreSQL every write that other processes must
learn of also sends `NOTIFY facstat` (`notify`): delivered at commit, to every process
listening (`api.hub`). SQLite has no notifications; there the hub polls.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from facility.db import connected
from facility.tables import ChangeRecord, StoreMeta

CHANNEL = "facstat"
ORIGIN = uuid.uuid4().hex  # this process: the hub skips reloads for its own changes
KINDS = ("status", "incident", "maintenance")
_C = ChangeRecord.__table__  # type: ignore[attr-defined]
_M = StoreMeta.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Change:
    id: int
    at: datetime
    kind: str
    ref: str
    resources: tuple[str, ...]
    payload: dict[str, Any]


def record(
    conn: Connection,
    kind: str,
    at: datetime,
    rows: Sequence[tuple[str, Sequence[str], dict[str, Any]]],
) -> None:
    """Append changes of one `kind` (each: ref, resources, payload) and notify."""
    if not rows:
        return
    values = [
        {
            "at": at,
            "kind": kind,
            "ref": ref[:128],
            "resources": list(res),
            "payload": {**payload, "origin": ORIGIN},
        }
        for ref, res, payload in rows
    ]
    conn.execute(_C.insert(), values)
    notify(conn)


def notify(conn: Connection) -> None:
    """Tell the other API processes (PostgreSQL only; delivered at commit, and several
    notifications of one transaction arrive as one)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"NOTIFY {CHANNEL}")


def after(engine: Engine, change_id: int, limit: int = 1000) -> list[Change]:
    """Changes with an id above `change_id`, oldest first."""
    q = sa.select(_C).where(_C.c.id > change_id).order_by(_C.c.id).limit(limit)
    with connected(engine) as conn:
        rows = conn.execute(q).mappings().all()
    return [_change(r) for r in rows]


def heads(engine: Engine) -> tuple[int, int]:
    """The store's status version and the feed's last id, in one round trip."""
    version = sa.select(_M.c.value).where(_M.c.key == "version").scalar_subquery()
    newest = sa.select(sa.func.max(_C.c.id)).scalar_subquery()
    with connected(engine) as conn:
        row = conn.execute(sa.select(version, newest)).one()
    return int(row[0] or 0), int(row[1] or 0)


def last_id(engine: Engine) -> int:
    with connected(engine) as conn:
        return int(conn.execute(sa.select(sa.func.max(_C.c.id))).scalar() or 0)


def first_id(engine: Engine) -> int | None:
    """The oldest change still kept (older ones are purged with the observations)."""
    with connected(engine) as conn:
        value = conn.execute(sa.select(sa.func.min(_C.c.id))).scalar()
    return int(value) if value is not None else None


def purge(engine: Engine, older_than: datetime) -> int:
    with engine.begin() as conn:
        return int(conn.execute(_C.delete().where(_C.c.at < older_than)).rowcount or 0)


def _change(r: Any) -> Change:
    return Change(r["id"], r["at"], r["kind"], r["ref"], tuple(r["resources"]), r["payload"])
