"""The status engine: observations in, effective statuses out. Pure; `now` is passed in.

For each resource the engine keeps a small `Track` (what it last accepted and a
pending candidate state for hysteresis). `evaluate` then derives the effective
status of a set of resources, in dependency order:

1. own state: thresholds on capacity, hysteresis, and staleness (silence past
   `stale_after` is `unknown`/`stale`: a status is never green from old data);
2. dependencies: a resource whose dependency is not up is at most `degraded`,
   and names the root cause at the bottom of the chain;
3. maintenance overlay: an active window shows `maintenance`, keeping what the
   probes see underneath in `underlying`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from facility.config import FacilityConfig
from facility.model import (
    EffectiveStatus,
    Observation,
    ProbeState,
    Reason,
    RootCause,
    State,
    Underlying,
)
from facility.topology import evaluation_order

OVERRUN = "maintenance_overrun"


@dataclass(frozen=True, slots=True)
class Policy:
    """Everything the engine needs to know about one resource."""

    stale_after: timedelta
    consecutive: int = 2
    min_duration: timedelta | None = None
    degraded_below: float = 0.9
    down_below: float = 0.0
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Track:
    """What the engine remembers of one resource between evaluations."""

    state: ProbeState | None = None
    capacity: float | None = None
    reasons: tuple[Reason, ...] = ()
    observed_at: datetime | None = None
    source: str | None = None
    candidate: ProbeState | None = None
    candidate_count: int = 0
    candidate_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Window:
    """An active maintenance window as the engine sees it."""

    id: str
    description: str


class MaintenanceOverlay(Protocol):
    """Port filled by the maintenance calendar: which window covers a resource now."""

    def active_window(self, resource_id: str, now: datetime) -> Window | None: ...

    def next_change(self, now: datetime) -> datetime | None: ...


class NoMaintenance:
    def active_window(self, resource_id: str, now: datetime) -> Window | None:
        return None

    def next_change(self, now: datetime) -> datetime | None:
        return None


def policies(config: FacilityConfig) -> dict[str, Policy]:
    """The engine's policy of every resource, with the facility defaults applied."""
    out: dict[str, Policy] = {}
    for r in config.resources:
        hyst, thr = config.hysteresis(r), config.thresholds(r)
        out[r.id] = Policy(
            stale_after=config.stale_after(r),
            consecutive=hyst.consecutive,
            min_duration=hyst.min_duration,
            degraded_below=thr.degraded_below,
            down_below=thr.down_below,
            depends_on=tuple(r.depends_on),
        )
    return out


def classify(obs: Observation, policy: Policy) -> tuple[ProbeState, tuple[Reason, ...]]:
    """The probe state after applying the resource's capacity thresholds."""
    state, reasons, cap = obs.state, obs.reasons, obs.capacity
    if cap is None or state in (ProbeState.DOWN, ProbeState.UNKNOWN):
        return state, reasons
    if cap < policy.down_below or cap == 0:
        return ProbeState.DOWN, (*reasons, _capacity_reason(cap, policy.down_below, "down"))
    if cap < policy.degraded_below and state == ProbeState.UP:
        reason = _capacity_reason(cap, policy.degraded_below, "degraded")
        return ProbeState.DEGRADED, (*reasons, reason)
    return state, reasons


def _capacity_reason(cap: float, threshold: float, level: str) -> Reason:
    return Reason(
        "capacity_below_threshold",
        f"capacity {cap:.1%} is below the {level} threshold {threshold:.0%}",
    )


def observe(track: Track, obs: Observation, policy: Policy) -> Track:
    """Fold one observation into a track, applying hysteresis. Older data is ignored."""
    if track.observed_at is not None and obs.observed_at < track.observed_at:
        return track
    state, reasons = classify(obs, policy)
    if state == track.state or _starts_afresh(track, obs, policy):
        return Track(state, obs.capacity, reasons, obs.observed_at, obs.source)
    if track.candidate == state and track.candidate_since is not None:
        count, since = track.candidate_count + 1, track.candidate_since
    else:
        count, since = 1, obs.observed_at
    held = policy.min_duration is not None and obs.observed_at - since >= policy.min_duration
    if count >= policy.consecutive or held:
        return Track(state, obs.capacity, reasons, obs.observed_at, obs.source)
    return Track(
        track.state, track.capacity, track.reasons, obs.observed_at, obs.source, state, count, since
    )


def _starts_afresh(track: Track, obs: Observation, policy: Policy) -> bool:
    """No hysteresis when there is nothing current to hold on to."""
    if track.state is None or track.observed_at is None:
        return True
    return obs.observed_at - track.observed_at > policy.stale_after


def material(track: Track) -> tuple[object, ...]:
    """What of a track can change a status (everything but when and by whom it was seen)."""
    return (
        track.state,
        track.capacity,
        track.reasons,
        track.candidate,
        track.candidate_count,
        track.candidate_since,
    )


def is_stale(track: Track, policy: Policy, now: datetime) -> bool:
    return track.observed_at is None or now - track.observed_at > policy.stale_after


def stale_deadline(track: Track, policy: Policy) -> datetime | None:
    """When this track turns stale, if it is not already."""
    return None if track.observed_at is None else track.observed_at + policy.stale_after


def own_status(
    resource_id: str, track: Track, policy: Policy, now: datetime
) -> tuple[State, float | None, tuple[Reason, ...]]:
    if track.state is None or track.observed_at is None:
        return State.UNKNOWN, None, (Reason("no_data", "no observation received yet"),)
    if is_stale(track, policy, now):
        age = _human(now - track.observed_at)
        limit = _human(policy.stale_after)
        msg = f"no observation for {age} (stale after {limit}); last seen {track.state.value}"
        return State.UNKNOWN, None, (Reason("stale", msg),)
    return State(track.state.value), track.capacity, track.reasons


def _human(delta: timedelta) -> str:
    """`75s` -> `1m15s`, `7200s` -> `2h00m`."""
    secs = max(0, int(delta.total_seconds()))
    if secs < 60:
        return f"{secs}s"
    if secs < 3600:
        return f"{secs // 60}m{secs % 60:02d}s"
    if secs < 86400:
        return f"{secs // 3600}h{secs % 3600 // 60:02d}m"
    return f"{secs // 86400}d{secs % 86400 // 3600:02d}h"


def evaluate(
    ids: Iterable[str],
    order: Mapping[str, int],
    tracks: Mapping[str, Track],
    pols: Mapping[str, Policy],
    current: Mapping[str, EffectiveStatus],
    maintenance: MaintenanceOverlay,
    now: datetime,
) -> dict[str, EffectiveStatus]:
    """Effective statuses of `ids` (dependencies not in `ids` are read from `current`)."""
    out: dict[str, EffectiveStatus] = {}
    for rid in sorted(set(ids), key=order.__getitem__):
        deps = {d: out.get(d) or current[d] for d in pols[rid].depends_on}
        prev = current.get(rid)
        status = _effective(rid, tracks.get(rid, Track()), pols[rid], deps, maintenance, now)
        status = _overrun(status, prev)
        since = prev.since if prev is not None and prev.state == status.state else now
        out[rid] = replace(status, since=since)
    return out


def _effective(
    rid: str,
    track: Track,
    policy: Policy,
    deps: Mapping[str, EffectiveStatus],
    maintenance: MaintenanceOverlay,
    now: datetime,
) -> EffectiveStatus:
    state, capacity, reasons = own_status(rid, track, policy, now)
    root = _root_cause(deps) if state != State.UNKNOWN else None
    if root is not None:
        reasons = (*reasons, Reason("dependency", _dependency_message(root)))
        if state == State.UP and root.state != State.UNKNOWN:
            state = State.DEGRADED
    base = EffectiveStatus(
        rid, state, capacity, reasons, None, track.observed_at, track.source, root
    )
    window = maintenance.active_window(rid, now)
    if window is None:
        return base
    under = Underlying(state, window.id, window.description)
    why = Reason("maintenance", f"planned maintenance: {window.description}")
    return replace(base, state=State.MAINTENANCE, reasons=(why, *reasons), underlying=under)


def _overrun(status: EffectiveStatus, prev: EffectiveStatus | None) -> EffectiveStatus:
    """A resource still down or degraded right after its maintenance window ended is
    in *overrun* until it recovers: the window's time is over, the outage is not."""
    if prev is None or status.state not in (State.DOWN, State.DEGRADED):
        return status
    why = next((r for r in prev.reasons if r.code == OVERRUN), None)
    if prev.state == State.MAINTENANCE and prev.underlying is not None:
        what = f"still {status.state.value} after maintenance {prev.underlying.window_id} ended"
        why = Reason(OVERRUN, what)
    return status if why is None else replace(status, reasons=(why, *status.reasons))


def _root_cause(deps: Mapping[str, EffectiveStatus]) -> RootCause | None:
    """The worst unhealthy dependency's own root cause (or itself)."""
    causes = [_cause_of(d, s) for d, s in sorted(deps.items()) if s.state != State.UP]
    if not causes:
        return None
    rank = {State.DOWN: 0, State.MAINTENANCE: 1, State.DEGRADED: 2, State.UNKNOWN: 3}
    return min(causes, key=lambda c: rank.get(c.state, 4))


def _cause_of(dep_id: str, status: EffectiveStatus) -> RootCause:
    if status.root_cause is not None and status.state != State.MAINTENANCE:
        return status.root_cause
    message = status.reasons[0].message if status.reasons else status.state.value
    return RootCause(dep_id, status.state, message)


def _dependency_message(root: RootCause) -> str:
    return f"depends on {root.resource_id} ({root.state.value}: {root.message})"


def topo_index(config: FacilityConfig) -> dict[str, int]:
    return {rid: i for i, rid in enumerate(evaluation_order(config))}
