"""Domain values shared by every layer: states, reasons, observations, statuses.

Plain frozen dataclasses and enums; no I/O, no ORM, no web. The status engine
(`facility.engine`) turns `Observation`s into `EffectiveStatus`es, and the store
keeps their history as `Interval`s and `Event`s.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


class ProbeState(enum.StrEnum):
    """What a collector can say it saw."""

    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    UNKNOWN = "unknown"


class State(enum.StrEnum):
    """The effective state of a resource, after the status engine."""

    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    UNKNOWN = "unknown"
    MAINTENANCE = "maintenance"


# How bad a state is, for roll-ups and "worst of": higher is worse.
SEVERITY: dict[State, int] = {
    State.UP: 0,
    State.MAINTENANCE: 1,
    State.UNKNOWN: 2,
    State.DEGRADED: 3,
    State.DOWN: 4,
}


def worst(*states: State) -> State:
    """The most severe of `states` (UP for none)."""
    return max(states, key=SEVERITY.__getitem__, default=State.UP)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a resource is in its state: a stable machine code and a human message."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class Observation:
    """What one collector saw of one resource at one time."""

    resource_id: str
    observed_at: datetime
    source: str
    state: ProbeState
    capacity: float | None = None
    values: dict[str, float] = field(default_factory=dict)
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True, slots=True)
class RootCause:
    """The resource at the bottom of a dependency chain that explains a state."""

    resource_id: str
    state: State
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"resource_id": self.resource_id, "state": self.state.value, "message": self.message}


@dataclass(frozen=True, slots=True)
class Underlying:
    """What the probes see under an active maintenance window."""

    state: State
    window_id: str
    description: str


@dataclass(frozen=True, slots=True)
class EffectiveStatus:
    """The state shown to users for one resource, with everything that explains it."""

    resource_id: str
    state: State
    capacity: float | None
    reasons: tuple[Reason, ...]
    since: datetime | None
    observed_at: datetime | None
    source: str | None
    root_cause: RootCause | None = None
    underlying: Underlying | None = None

    def same_interval(self, other: EffectiveStatus, capacity_step: float) -> bool:
        """Whether `other` continues the same history interval as this status."""
        if self.state != other.state or _codes(self.reasons) != _codes(other.reasons):
            return False
        if _cause_id(self.root_cause) != _cause_id(other.root_cause):
            return False
        if self.capacity is None or other.capacity is None:
            return self.capacity is other.capacity
        return abs(self.capacity - other.capacity) < capacity_step


def _cause_id(cause: RootCause | None) -> str | None:
    return cause.resource_id if cause else None


def _codes(reasons: tuple[Reason, ...]) -> frozenset[str]:
    return frozenset(r.code for r in reasons)


@dataclass(frozen=True, slots=True)
class Interval:
    """A stretch of constant state of one resource; `end` is None while open."""

    resource_id: str
    start: datetime
    end: datetime | None
    state: State
    capacity: float | None = None
    reasons: tuple[Reason, ...] = ()
    root_cause: RootCause | None = None

    def duration(self, until: datetime) -> timedelta:
        return (self.end or until) - self.start


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of effective status that the store records as an event and interval."""

    before: EffectiveStatus | None
    after: EffectiveStatus
    at: datetime
    state_changed: bool
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReservationFact:
    """A scheduler reservation as a collector saw it, mapped onto facility resources.

    `MAINT` ones become maintenance windows; others (e.g. a beamtime's nodes) are
    what readiness checks look for."""

    name: str
    start: datetime
    end: datetime
    resources: tuple[str, ...]
    nodes: int = 0
    flags: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    partial: bool = False

    @property
    def maintenance(self) -> bool:
        return "MAINT" in self.flags
