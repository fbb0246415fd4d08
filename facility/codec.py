"""Mapping between domain values and store rows (plain dicts of JSON-able values)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from facility.engine import Track
from facility.model import (
    EffectiveStatus,
    Interval,
    Observation,
    ProbeState,
    Reason,
    RootCause,
    State,
    Transition,
    Underlying,
)


def reasons_out(reasons: tuple[Reason, ...]) -> list[dict[str, str]]:
    return [r.as_dict() for r in reasons]


def reasons_in(rows: list[dict[str, str]] | None) -> tuple[Reason, ...]:
    return tuple(Reason(r["code"], r["message"]) for r in rows or ())


def root_in(row: Mapping[str, str] | None) -> RootCause | None:
    if not row:
        return None
    return RootCause(row["resource_id"], State(row["state"]), row["message"])


def interval_row(s: EffectiveStatus, start: datetime) -> dict[str, Any]:
    return {
        "resource_id": s.resource_id,
        "start": start,
        "end": None,
        "state": s.state.value,
        "capacity": s.capacity,
        "reasons": reasons_out(s.reasons),
        "root_cause": s.root_cause.as_dict() if s.root_cause else None,
    }


def interval_from_row(r: Mapping[Any, Any]) -> Interval:
    return Interval(
        resource_id=r["resource_id"],
        start=r["start"],
        end=r["end"],
        state=State(r["state"]),
        capacity=r["capacity"],
        reasons=reasons_in(r["reasons"]),
        root_cause=root_in(r["root_cause"]),
    )


def event_row(t: Transition, event_uuid: str) -> dict[str, Any]:
    after = t.after
    before = t.before.state.value if t.before else None
    summary = "; ".join(r.message for r in after.reasons) or after.state.value
    return {
        "uuid": event_uuid,
        "resource_id": after.resource_id,
        "occurred_at": t.at,
        "kind": "status_changed",
        "from_state": before,
        "to_state": after.state.value,
        "description": f"{after.resource_id} is {after.state.value}: {summary}",
        "details": {
            "reasons": reasons_out(after.reasons),
            "capacity": after.capacity,
            "root_cause": after.root_cause.as_dict() if after.root_cause else None,
            **t.details,
        },
    }


def event_payload(row: dict[str, Any]) -> dict[str, Any]:
    """A status event row as JSON for the change feed (`event_from_payload` reverses it)."""
    return {**row, "occurred_at": row["occurred_at"].isoformat()}


def event_from_payload(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "occurred_at": datetime.fromisoformat(payload["occurred_at"])}


def track_out(t: Track) -> dict[str, Any]:
    return {
        "state": t.state.value if t.state else None,
        "capacity": t.capacity,
        "reasons": reasons_out(t.reasons),
        "candidate": t.candidate.value if t.candidate else None,
        "candidate_count": t.candidate_count,
        "candidate_since": t.candidate_since.isoformat() if t.candidate_since else None,
    }


def track_in(d: Mapping[str, Any], observed_at: datetime | None, source: str | None) -> Track:
    """The engine's track; when and by whom it was last seen live in their own columns."""
    return Track(
        state=ProbeState(d["state"]) if d.get("state") else None,
        capacity=d.get("capacity"),
        reasons=reasons_in(d.get("reasons")),
        observed_at=observed_at,
        source=source,
        candidate=ProbeState(d["candidate"]) if d.get("candidate") else None,
        candidate_count=int(d.get("candidate_count") or 0),
        candidate_since=_dt(d.get("candidate_since")),
    )


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def current_row(s: EffectiveStatus, t: Track) -> dict[str, Any]:
    under = s.underlying
    return {
        "resource_id": s.resource_id,
        "state": s.state.value,
        "capacity": s.capacity,
        "reasons": reasons_out(s.reasons),
        "root_cause": s.root_cause.as_dict() if s.root_cause else None,
        "underlying": (
            {
                "state": under.state.value,
                "window_id": under.window_id,
                "description": under.description,
            }
            if under
            else None
        ),
        "since": s.since,
        "observed_at": s.observed_at,
        "source": s.source,
        "track": track_out(t),
    }


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def sqlite_ts(value: datetime) -> str:
    """The text SQLAlchemy stores for a naive UTC datetime in SQLite."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


Stamp = Callable[[datetime], object]


def observation_rows(
    observations: Sequence[Observation], received_at: datetime, stamp: Stamp
) -> list[tuple[object, ...]]:
    """Driver-level parameters of observation rows (see `store._OBS_INSERT`); a batch
    shares its timestamps, so each distinct one is converted once."""
    stamp = functools.lru_cache(maxsize=256)(stamp)
    received = stamp(received_at)
    return [observation_params(o, received, stamp) for o in observations]


def observation_params(o: Observation, received: object, stamp: Stamp) -> tuple[object, ...]:
    return (
        o.resource_id,
        stamp(o.observed_at),
        received,
        o.source,
        o.state.value,
        o.capacity,
        json.dumps(o.values),
        json.dumps(reasons_out(o.reasons)),
    )


def seen_params(s: EffectiveStatus, stamp: Stamp, version: int) -> tuple[object, ...]:
    assert s.observed_at is not None
    return (stamp(s.observed_at), s.source, version, s.resource_id)


def current_from_row(r: Mapping[Any, Any]) -> tuple[EffectiveStatus, Track]:
    u = r["underlying"]
    status = EffectiveStatus(
        resource_id=r["resource_id"],
        state=State(r["state"]),
        capacity=r["capacity"],
        reasons=reasons_in(r["reasons"]),
        since=r["since"],
        observed_at=r["observed_at"],
        source=r["source"],
        root_cause=root_in(r["root_cause"]),
        underlying=Underlying(State(u["state"]), u["window_id"], u["description"]) if u else None,
    )
    return status, track_in(r["track"], r["observed_at"], r["source"])
