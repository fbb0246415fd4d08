"""Stored maintenance windows, beamtimes and scheduler reservations (an adapter).

Rows live in the status store's database (`facility.tables`); this module maps
them to and from the pure values of `slas.maintenance`, `slas.beamtime` and
`facility.model.ReservationFact`. Every import replaces everything of one
source in a single transaction: a calendar is either wholly in or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from facility import changes
from facility.model import ReservationFact
from facility.tables import BeamtimeRecord, MaintenanceWindowRecord, ReservationRecord
from slas.beamtime import Beamtime
from slas.maintenance import MaintenanceWindow

_W = MaintenanceWindowRecord.__table__  # type: ignore[attr-defined]
_B = BeamtimeRecord.__table__  # type: ignore[attr-defined]
_R = ReservationRecord.__table__  # type: ignore[attr-defined]


class Repository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- maintenance windows ----------------------------------------------------------

    def windows(self) -> list[MaintenanceWindow]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(_W).order_by(_W.c.start, _W.c.id)).mappings()
            return [window_of(r) for r in rows]

    def window(self, window_id: str) -> MaintenanceWindow | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_W).where(_W.c.id == window_id)).mappings().first()
            return window_of(row) if row else None

    def save_window(self, window: MaintenanceWindow, expected_sequence: int | None = None) -> bool:
        """Insert or replace one window; with `expected_sequence`, only if the stored one
        still has it (optimistic concurrency). Returns whether it was written."""
        with self.engine.begin() as conn:
            query = sa.delete(_W).where(_W.c.id == window.id)
            if expected_sequence is not None:
                query = query.where(_W.c.sequence == expected_sequence)
                if conn.execute(query).rowcount != 1:
                    return False
            else:
                conn.execute(query)
            conn.execute(sa.insert(_W), [row_of(window)])
            _window_changes(conn, [window], "saved")
            return True

    def replace_windows(self, source: str, windows: Sequence[MaintenanceWindow]) -> None:
        with self.engine.begin() as conn:
            _replace_windows(conn, source, windows)

    # -- beamtimes --------------------------------------------------------------------

    def beamtimes(self) -> list[Beamtime]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(_B).order_by(_B.c.start, _B.c.id)).mappings()
            return [beamtime_of(r) for r in rows]

    def replace_beamtimes(self, source: str, beamtimes: Sequence[Beamtime]) -> None:
        with self.engine.begin() as conn:
            before = _rows(conn, _B, source)
            _replace(conn, _B, source, [beamtime_row(b) for b in beamtimes])
            if _rows(conn, _B, source) != before:
                at = datetime.now(UTC)
                changes.record(conn, "beamtime", at, [(source, [], {"source": source})])

    # -- reservations -----------------------------------------------------------------

    def reservations(self) -> dict[str, list[ReservationFact]]:
        out: dict[str, list[ReservationFact]] = {}
        with self.engine.connect() as conn:
            for r in conn.execute(sa.select(_R).order_by(_R.c.start, _R.c.id)).mappings():
                out.setdefault(r["source"], []).append(reservation_of(r))
        return out

    def replace_reservations(
        self,
        source: str,
        facts: Sequence[ReservationFact],
        windows: Sequence[MaintenanceWindow],
        now: datetime,
    ) -> None:
        """A collector's reservations and the maintenance windows made of them, together."""
        rows = [reservation_row(source, f, now) for f in facts]
        with self.engine.begin() as conn:
            _replace(conn, _R, source, rows)
            _replace_windows(conn, source, windows)


def _replace(conn: Connection, table: sa.Table, source: str, rows: list[dict[str, Any]]) -> None:
    conn.execute(sa.delete(table).where(table.c.source == source))
    if rows:
        conn.execute(sa.insert(table), rows)


def _rows(conn: Connection, table: sa.Table, source: str) -> list[dict[str, Any]]:
    q = sa.select(table).where(table.c.source == source).order_by(table.c.id)
    return [dict(r) for r in conn.execute(q).mappings()]


def _replace_windows(conn: Connection, source: str, windows: Sequence[MaintenanceWindow]) -> None:
    """Everything of one source; only windows that really changed enter the change feed
    (an import or a reservation sync repeats mostly the same windows)."""
    before = {w.id: w for w in map(window_of, _rows(conn, _W, source))}
    _replace(conn, _W, source, [row_of(w) for w in windows])
    after = {w.id: w for w in windows}
    changed = [w for wid, w in after.items() if _shape(before.get(wid)) != _shape(w)]
    _window_changes(conn, changed, "saved")
    _window_changes(conn, [w for wid, w in before.items() if wid not in after], "removed")


def _shape(w: MaintenanceWindow | None) -> object:
    return None if w is None else {k: v for k, v in row_of(w).items() if k != "updated_at"}


def _window_changes(conn: Connection, windows: Sequence[MaintenanceWindow], change: str) -> None:
    at = datetime.now(UTC)
    changes.record(
        conn, "maintenance", at, [(w.id, w.resources, window_payload(w, change)) for w in windows]
    )


def window_payload(w: MaintenanceWindow, change: str) -> dict[str, Any]:
    """A window as the change feed carries it (all of it is public): its stored row as
    JSON, with the end it has now."""
    row = row_of(w)
    row["end"] = w.extended_until or w.end
    del row["extended_until"], row["created_at"], row["updated_at"], row["notice_given_at"]
    out = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}
    return {"change": change, **out}


def row_of(w: MaintenanceWindow) -> dict[str, Any]:
    return {
        "id": w.id,
        "title": w.title,
        "description": w.description,
        "resources": list(w.resources),
        "effect": w.effect,
        "kind": w.kind,
        "start": w.start,
        "end": w.end,
        "timezone": w.timezone,
        "rrule": w.rrule,
        "exdates": [d.isoformat() for d in w.exdates],
        "notice_given_at": w.notice_given_at,
        "source": w.source,
        "cancelled": w.cancelled,
        "extended_until": w.extended_until,
        "sequence": w.sequence,
        "created_at": w.created_at or w.start,
        "updated_at": w.updated_at or w.created_at or w.start,
    }


def window_of(r: Any) -> MaintenanceWindow:
    return MaintenanceWindow(
        id=r["id"],
        title=r["title"],
        description=r["description"],
        resources=tuple(r["resources"]),
        effect=r["effect"],
        kind=r["kind"],
        start=r["start"],
        end=r["end"],
        timezone=r["timezone"],
        rrule=r["rrule"],
        exdates=tuple(datetime.fromisoformat(d) for d in r["exdates"]),
        notice_given_at=r["notice_given_at"],
        source=r["source"],
        cancelled=r["cancelled"],
        extended_until=r["extended_until"],
        sequence=r["sequence"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


def beamtime_row(b: Beamtime) -> dict[str, Any]:
    return {
        "id": b.id,
        "facility_id": b.facility,
        "beamline": b.beamline,
        "title": b.title,
        "start": b.start,
        "end": b.end,
        "bundle": list(b.bundle) if b.bundle is not None else None,
        "source": b.source,
    }


def beamtime_of(r: Any) -> Beamtime:
    bundle = tuple(r["bundle"]) if r["bundle"] is not None else None
    return Beamtime(
        id=r["id"],
        facility=r["facility_id"],
        beamline=r["beamline"],
        title=r["title"],
        start=r["start"],
        end=r["end"],
        bundle=bundle,
        source=r["source"],
    )


def reservation_row(source: str, f: ReservationFact, now: datetime) -> dict[str, Any]:
    return {
        "id": f"{source}:{f.name}",
        "source": source,
        "name": f.name,
        "start": f.start,
        "end": f.end,
        "resources": list(f.resources),
        "nodes": f.nodes,
        "flags": list(f.flags),
        "accounts": list(f.accounts),
        "users": list(f.users),
        "partial": f.partial,
        "observed_at": now,
    }


def reservation_of(r: Any) -> ReservationFact:
    return ReservationFact(
        name=r["name"],
        start=r["start"],
        end=r["end"],
        resources=tuple(r["resources"]),
        nodes=r["nodes"],
        flags=tuple(r["flags"]),
        accounts=tuple(r["accounts"]),
        users=tuple(r["users"]),
        partial=r["partial"],
    )
