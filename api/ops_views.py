"""View-models of the operations API: plain dicts rendered to JSON by `api.views.dumps`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.runtime import Runtime
from api.views import ts
from facility.config import Beamline, ExperimentFacility
from facility.errors import NotFoundError, UnknownResourceError
from slas.beamtime import Beamtime, Conflict
from slas.maintenance import MaintenanceWindow, Occurrence, current_or_next, occurrences, resolution

MAX_LISTED_OCCURRENCES = 50


def windows_for(
    rt: Runtime, resource: list[str] | None, system: list[str] | None
) -> list[MaintenanceWindow]:
    """Windows affecting any of `resource` or any resource of `system` (all if neither)."""
    if not resource and not system:
        return list(rt.ops.windows())
    wanted = set(resource or ())
    by_id = rt.config.resources_by_id()
    for rid in wanted:
        if rid not in by_id:
            raise UnknownResourceError(rid)
    systems = {s.id for s in rt.config.systems}
    for sid in system or ():
        if sid not in systems:
            raise NotFoundError("system", sid)
        wanted |= {r.id for r in rt.config.resources if r.system == sid}
    return [w for w in rt.ops.windows() if wanted & set(w.resources)]


def underneath(rt: Runtime, w: MaintenanceWindow, now: datetime) -> dict[str, str]:
    """While a window is active: what the probes see under it, per resource
    (`up`: maintenance-up, `down`: maintenance-down)."""
    statuses = rt.service.snapshot(now).statuses
    out = {}
    for rid in w.resources:
        s = statuses.get(rid)
        if s is not None and s.underlying is not None and s.underlying.window_id == w.id:
            out[rid] = s.underlying.state.value
    return out


def occurrence_out(o: Occurrence) -> dict[str, Any]:
    return {"start": ts(o.start), "end": ts(o.end), "extended": o.extended}


def window_out(
    rt: Runtime, w: MaintenanceWindow, now: datetime, start: datetime, end: datetime
) -> dict[str, Any]:
    notice = rt.ops.notice(w)
    nxt = current_or_next(w, now)
    listed = occurrences(w, start, end, limit=MAX_LISTED_OCCURRENCES)
    return {
        "id": w.id,
        "title": w.title,
        "description": w.description,
        "resources": list(w.resources),
        "effect": w.effect,
        "kind": w.kind,
        "start": ts(w.start),
        "end": ts(w.end),
        "timezone": w.timezone,
        "rrule": w.rrule,
        "exdates": [ts(d) for d in w.exdates],
        "notice_given_at": ts(w.notice_given_at),
        "source": w.source,
        "cancelled": w.cancelled,
        "extended_until": ts(w.extended_until),
        "sequence": w.sequence,
        "created_at": ts(w.created_at),
        "updated_at": ts(w.updated_at),
        "resolution": resolution(w, now),
        "notice": {
            "required_seconds": notice.required.total_seconds(),
            "given_seconds": notice.given.total_seconds() if notice.given is not None else None,
            "short": notice.short,
            "message": notice.message,
        },
        "current_or_next": occurrence_out(nxt) if nxt is not None else None,
        "underneath": underneath(rt, w, now),
        "occurrences": [occurrence_out(o) for o in listed],
        "conflicts": [
            conflict_out(c) for c in rt.ops.upcoming_conflicts(now) if c.window_id == w.id
        ],
    }


def conflict_out(c: Conflict) -> dict[str, Any]:
    return {
        "id": c.id,
        "beamtime_id": c.beamtime.id,
        "beamline": c.beamtime.beamline,
        "window_id": c.window_id,
        "effect": c.effect,
        "start": ts(c.overlap_start),
        "end": ts(c.overlap_end),
        "occurrence_start": ts(c.occurrence_start),
        "occurrence_end": ts(c.occurrence_end),
        "resources": list(c.resources),
    }


def beamtime_out(rt: Runtime, b: Beamtime, found: list[Conflict]) -> dict[str, Any]:
    needs = rt.ops.beamtime_needs(b)
    return {
        "id": b.id,
        "beamline": b.beamline,
        "facility": b.facility,
        "title": b.title,
        "start": ts(b.start),
        "end": ts(b.end),
        "bundle": list(b.bundle) if b.bundle is not None else None,
        "source": b.source,
        "needs": sorted(needs),
        "conflicts": [conflict_out(c) for c in found if c.beamtime.id == b.id],
    }


def beamline_out(
    rt: Runtime,
    ef: ExperimentFacility,
    bl: Beamline,
    now: datetime,
    start: datetime,
    end: datetime,
) -> dict[str, Any]:
    mine = [
        b for b in rt.ops.beamtimes() if b.beamline == bl.id and b.start < end and b.end > start
    ]
    found = rt.ops.conflicts(start, end) if mine else []
    return {
        "id": bl.id,
        "name": bl.name,
        "description": bl.description,
        "facility": ef.id,
        "facility_name": ef.name,
        "bundle": [
            {
                "resource": n.resource,
                "nodes": n.nodes,
                "bandwidth_gbps": n.bandwidth_gbps,
                "free_space_tb": n.free_space_tb,
                "note": n.note,
            }
            for n in bl.bundle
        ],
        "needs": sorted(rt.ops.needs.get(bl.id, ())),
        "beamtimes": [beamtime_out(rt, b, found) for b in mine],
    }
