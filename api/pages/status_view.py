"""View-models of the public status page: the banner and the systems → resources tree.

Pure: the facility, the effective statuses and `now` in, frozen dataclasses out; the
templates (`status.html`, `_status.html`) only render them. A resource is *stale*
when the engine says so (`stale` reason) or when its last observation is older than
its `stale_after` (before the engine's next tick has noticed): it is never shown
as current from old data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from api.pages.time_view import ago, human_duration
from api.views import rollup
from facility.config import FacilityConfig, Resource
from facility.model import EffectiveStatus, State, worst

HEADLINE = {
    State.UP: "All systems operational",
    State.MAINTENANCE: "Planned maintenance in progress",
    State.UNKNOWN: "Some statuses are unknown",
    State.DEGRADED: "Degraded service",
    State.DOWN: "Outage",
}
ORDER = (State.DOWN, State.DEGRADED, State.UNKNOWN, State.MAINTENANCE, State.UP)
NO_STATUS = "no status recorded yet"


@dataclass(frozen=True, slots=True)
class Banner:
    state: str
    headline: str
    counts: str  # "17 resources: 1 down, 2 degraded, 14 up"


@dataclass(frozen=True, slots=True)
class ResourceRow:
    id: str
    name: str
    state: str
    checked: str  # "checked 12 s ago" / "never checked"
    reasons: tuple[str, ...] = ()
    capacity: float | None = None
    cause: str | None = None  # the root cause named by the engine, in words
    underneath: str | None = None  # under maintenance: what the probes see
    changed: str | None = None  # "for 3 h 5 min"
    stale: bool = False
    source: str | None = None


@dataclass(frozen=True, slots=True)
class SystemBlock:
    id: str
    name: str
    state: str
    resources: tuple[ResourceRow, ...]


@dataclass(frozen=True, slots=True)
class StatusView:
    banner: Banner
    systems: tuple[SystemBlock, ...]


def banner(states: Sequence[State]) -> Banner:
    """The worst state of all resources, in words, with how many are in each state."""
    if not states:
        return Banner(State.UNKNOWN.value, "No resources are configured", "0 resources")
    top = worst(*states)
    counts = Counter(states)
    parts = [f"{counts[s]} {s.value}" for s in ORDER if counts[s]]
    noun = "resource" if len(states) == 1 else "resources"
    return Banner(top.value, HEADLINE[top], f"{len(states)} {noun}: " + ", ".join(parts))


def is_stale(status: EffectiveStatus, stale_after: timedelta, now: datetime) -> bool:
    if any(r.code == "stale" for r in status.reasons):
        return True
    return status.observed_at is not None and now - status.observed_at > stale_after


def resource_row(
    r: Resource,
    status: EffectiveStatus | None,
    stale_after: timedelta,
    now: datetime,
    names: Mapping[str, str],
) -> ResourceRow:
    if status is None:
        return ResourceRow(r.id, r.name, State.UNKNOWN.value, "never checked", (NO_STATUS,))
    stale = is_stale(status, stale_after, now)
    cause = _cause(status, names)
    return ResourceRow(
        id=r.id,
        name=r.name,
        state=State.UNKNOWN.value if stale else status.state.value,
        capacity=status.capacity,
        # the cause line names the resource a `dependency` reason gives by id
        reasons=tuple(x.message for x in status.reasons if not (cause and x.code == "dependency")),
        cause=cause,
        underneath=_underneath(status),
        checked="never checked"
        if status.observed_at is None
        else f"checked {ago(status.observed_at, now)}",
        changed=None
        if status.since is None
        else f"for {human_duration((now - status.since).total_seconds())}",
        stale=stale,
        source=status.source,
    )


def _cause(status: EffectiveStatus, names: Mapping[str, str]) -> str | None:
    c = status.root_cause
    if c is None or c.resource_id == status.resource_id:
        return None
    name = names.get(c.resource_id, c.resource_id)
    return f"because {name} is {c.state.value}" + (f": {c.message}" if c.message else "")


def _underneath(status: EffectiveStatus) -> str | None:
    u = status.underlying
    return None if u is None else f"under maintenance the probes see: {u.state.value}"


def status_view(
    config: FacilityConfig, statuses: Mapping[str, EffectiveStatus], now: datetime
) -> StatusView:
    names = {r.id: r.name for r in config.resources}
    rows = {
        r.id: resource_row(r, statuses.get(r.id), config.stale_after(r), now, names)
        for r in config.resources
    }
    systems = []
    for sys in config.systems:
        mine = tuple(rows[r.id] for r in config.resources if r.system == sys.id)
        state, _ = rollup(State(row.state) for row in mine)
        systems.append(SystemBlock(sys.id, sys.name, state.value, mine))
    return StatusView(banner([State(row.state) for row in rows.values()]), tuple(systems))
