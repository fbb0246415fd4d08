"""The audit log table (an adapter): append under a lock, page through it, walk it.

An append is one transaction: the process's lock (so threads queue instead of
retrying), then the database's own lock, then the last entry is read, the next id and
hash computed (`facility.audit.link`) and the entry inserted. The database lock is a
transaction-scoped advisory lock on PostgreSQL (held until commit; it also covers the
empty table, where there is no last row to lock) and the write lock on SQLite (taken
by a no-op UPDATE that opens the write transaction before the read). Two appends,
from one process or from several, therefore never read the same last entry: the
chain cannot fork, and the unique `hash` and the primary key refuse it if it tried.

There is no update and no delete here: the log is append-only by construction.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from facility.audit import GENESIS, AuditEntry, Verdict, as_mapping, link, plain_object, verify
from facility.tables import AuditRecord

_A: sa.Table = AuditRecord.__table__  # type: ignore[attr-defined]
LOCK_KEY = 0x66616373746174  # "facstat" in ASCII: the advisory lock of the audit chain
WALK_BATCH = 1000
LIMITS = {"actor": 128, "token_id": 64, "client": 128, "method": 8, "path": 512,
          "action": 64, "target": 255}  # fmt: skip


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters of a page of the log, newest first; `before_id` is the paging cursor."""

    actor: str | None = None
    action: str | None = None
    path_prefix: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None
    limit: int = 100


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()

    def append(self, entry: AuditEntry) -> dict[str, Any]:
        """Store `entry` as the chain's next link; return the stored row."""
        values = as_mapping(_clean(entry))
        with self._lock, self.engine.begin() as conn:
            _lock_chain(conn)
            last = conn.execute(sa.select(_A.c.id, _A.c.hash).order_by(_A.c.id.desc()).limit(1))
            found = last.first()
            entry_id, prev_hash = (int(found.id) + 1, str(found.hash)) if found else (1, GENESIS)
            row = {**values, "id": entry_id, "prev_hash": prev_hash}
            row["hash"] = link(prev_hash, entry_id, values)
            conn.execute(_A.insert().values(**row))
        return row

    def page(self, q: AuditQuery) -> tuple[list[dict[str, Any]], bool]:
        """Entries matching `q`, newest first, and whether more follow."""
        stmt = sa.select(_A).where(*_filters(q)).order_by(_A.c.id.desc()).limit(q.limit + 1)
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(stmt).mappings()]
        return rows[: q.limit], len(rows) > q.limit

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every entry in id order, read in batches."""
        after = 0
        while True:
            stmt = sa.select(_A).where(_A.c.id > after).order_by(_A.c.id).limit(WALK_BATCH)
            with self.engine.connect() as conn:
                batch = [dict(r) for r in conn.execute(stmt).mappings()]
            yield from batch
            if len(batch) < WALK_BATCH:
                return
            after = int(batch[-1]["id"])

    def verify(self, anchor: str | None = None) -> Verdict:
        return verify(self.rows(), anchor)


def _lock_chain(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_KEY)))
    elif conn.dialect.name == "sqlite":
        conn.execute(_A.update().where(_A.c.id < 0).values(id=_A.c.id))
    else:
        conn.execute(sa.select(_A.c.id).order_by(_A.c.id.desc()).limit(1).with_for_update())


def _clean(entry: AuditEntry) -> AuditEntry:
    """Strings cut to their column's size and without NUL; before/after as plain JSON."""
    cut: dict[str, Any] = {
        name: str(getattr(entry, name)).replace("\x00", "\ufffd")[:size]
        for name, size in LIMITS.items()
        if getattr(entry, name) is not None
    }
    return replace(entry, **cut, before=plain_object(entry.before), after=plain_object(entry.after))


def _filters(q: AuditQuery) -> list[Any]:
    out: list[Any] = []
    if q.actor is not None:
        out.append(_A.c.actor == q.actor)
    if q.action is not None:
        out.append(_A.c.action == q.action)
    if q.path_prefix:
        out.append(_A.c.path.startswith(q.path_prefix, autoescape=True))
    if q.since is not None:
        out.append(_A.c.at >= q.since)
    if q.until is not None:
        out.append(_A.c.at < q.until)
    if q.before_id is not None:
        out.append(_A.c.id < q.before_id)
    return out
