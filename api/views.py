"""View-models: snapshots and history rendered as JSON-able dicts, then bytes."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Response

from api.redaction import INTERNAL, Audience, public_event, public_interval, public_status
from facility.config import FacilityConfig, Resource
from facility.model import SEVERITY, EffectiveStatus, Interval, State
from facility.store import EventRecord


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(
    body: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """An uncached JSON answer (writes, and reads that are not validated per version)."""
    return Response(dumps(body), status_code, headers, media_type="application/json")


def ts(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with a `Z`, whatever offset the value came with."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def duration(value: timedelta) -> str:
    """ISO 8601 duration in seconds, e.g. `PT120S`."""
    secs = value.total_seconds()
    return f"PT{int(secs)}S" if secs == int(secs) else f"PT{secs}S"


def resource_static(r: Resource, config: FacilityConfig) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "type": r.type,
        "system": r.system,
        "group": r.group,
        "description": r.description,
        "tier": config.tier(r),
        "time_sensitive": r.time_sensitive,
        "depends_on": list(r.depends_on),
    }


def status_fields(s: EffectiveStatus, stale_after: timedelta) -> dict[str, Any]:
    u = s.underlying
    return {
        "state": s.state.value,
        "capacity": s.capacity,
        "reasons": [r.as_dict() for r in s.reasons],
        "root_cause": s.root_cause.as_dict() if s.root_cause else None,
        "underlying": (
            {"state": u.state.value, "window_id": u.window_id, "description": u.description}
            if u
            else None
        ),
        "observed_at": ts(s.observed_at),
        "stale_after": duration(stale_after),
        "source": s.source,
        "since": ts(s.since),
        "at": None,
    }


def interval_fields(i: Interval, stale_after: timedelta, at: datetime) -> dict[str, Any]:
    return {
        "state": i.state.value,
        "capacity": i.capacity,
        "reasons": [r.as_dict() for r in i.reasons],
        "root_cause": i.root_cause.as_dict() if i.root_cause else None,
        "underlying": None,
        "observed_at": None,
        "stale_after": duration(stale_after),
        "source": None,
        "since": ts(i.start),
        "at": ts(at),
    }


def unknown_fields(stale_after: timedelta, at: datetime | None) -> dict[str, Any]:
    """A resource with no recorded status (at that time): unknown, never up."""
    return {
        "state": State.UNKNOWN.value,
        "capacity": None,
        "reasons": [{"code": "no_data", "message": "no status recorded"}],
        "root_cause": None,
        "underlying": None,
        "observed_at": None,
        "stale_after": duration(stale_after),
        "source": None,
        "since": None,
        "at": ts(at),
    }


class ResourceRenderer:
    """Renders resources for an audience (the public view redacts, `api.redaction`),
    reusing each resource's dict while its status is unchanged."""

    def __init__(self, config: FacilityConfig) -> None:
        self.config = config
        self.static = {r.id: resource_static(r, config) for r in config.resources}
        self.stale_after = {r.id: config.stale_after(r) for r in config.resources}
        self._memo: dict[tuple[Audience, str], tuple[EffectiveStatus, dict[str, Any]]] = {}

    def current(
        self, rid: str, status: EffectiveStatus | None, audience: Audience
    ) -> dict[str, Any]:
        if status is None:
            return {**self.static[rid], **unknown_fields(self.stale_after[rid], None)}
        hit = self._memo.get((audience, rid))
        if hit is not None and hit[0] is status:
            return hit[1]
        shown = status if audience == INTERNAL else public_status(status)
        out = {**self.static[rid], **status_fields(shown, self.stale_after[rid])}
        self._memo[(audience, rid)] = (status, out)
        return out

    def historic(
        self, rid: str, interval: Interval | None, at: datetime, audience: Audience
    ) -> dict[str, Any]:
        if interval is None:
            return {**self.static[rid], **unknown_fields(self.stale_after[rid], at)}
        shown = interval if audience == INTERNAL else public_interval(interval)
        return {**self.static[rid], **interval_fields(shown, self.stale_after[rid], at)}


def rollup(states: Iterable[State]) -> tuple[State, dict[str, int]]:
    """A group's state: `down` only if all are down, else the worst, capped at degraded."""
    counts = Counter(s.value for s in states)
    total = sum(counts.values())
    if total == 0:
        return State.UNKNOWN, {}
    if counts[State.DOWN.value] == total:
        return State.DOWN, dict(counts)
    if counts[State.MAINTENANCE.value] == total:
        return State.MAINTENANCE, dict(counts)
    worst = max((State(k) for k in counts), key=SEVERITY.__getitem__)
    return (State.DEGRADED if worst == State.DOWN else worst), dict(counts)


def status_summary(
    config: FacilityConfig, statuses: Mapping[str, EffectiveStatus], version: int
) -> dict[str, Any]:
    def state_of(rid: str) -> State:
        s = statuses.get(rid)
        return s.state if s else State.UNKNOWN

    by_system: dict[str, list[State]] = {s.id: [] for s in config.systems}
    for r in config.resources:
        by_system[r.system].append(state_of(r.id))
    systems = []
    for sys in config.systems:
        state, counts = rollup(by_system[sys.id])
        systems.append(
            {
                "id": sys.id,
                "name": sys.name,
                "kind": sys.kind,
                "state": state.value,
                "counts": counts,
            }
        )
    overall, counts = rollup(state_of(r.id) for r in config.resources)
    return {"state": overall.value, "counts": counts, "systems": systems, "version": version}


def interval_out(i: Interval, audience: Audience) -> dict[str, Any]:
    i = i if audience == INTERNAL else public_interval(i)
    return {
        "start": ts(i.start),
        "end": ts(i.end),
        "state": i.state.value,
        "capacity": i.capacity,
        "reasons": [r.as_dict() for r in i.reasons],
        "root_cause": i.root_cause.as_dict() if i.root_cause else None,
    }


def event_out(e: EventRecord, audience: Audience) -> dict[str, Any]:
    e = e if audience == INTERNAL else public_event(e)
    return {
        "cursor": e.id,
        "id": e.uuid,
        "resource_id": e.resource_id,
        "occurred_at": ts(e.occurred_at),
        "kind": e.kind,
        "from_state": e.from_state,
        "to_state": e.to_state,
        "description": e.description,
        "details": e.details,
    }
