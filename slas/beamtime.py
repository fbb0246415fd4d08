"""Beamtimes of experiment facilities, what they need, and where maintenance hits them. Pure.

A `Beamtime` is a scheduled block of a beamline (from the facility file). It needs its
beamline's bundle, or the `bundle` it overrides it with, plus everything those resources
depend on, directly or not (`needed_resources`). `conflicts` lists each maintenance
occurrence that overlaps a beamtime and takes down or degrades one of the resources it
needs; cancelled windows never conflict. Schedules are read by `slas.beamtime_import`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from facility.config import BundleNeed, FacilityConfig
from slas.calendar_errors import InvalidBeamtime
from slas.maintenance import MaintenanceWindow, occurrences


@dataclass(frozen=True, slots=True, kw_only=True)
class Beamtime:
    """A scheduled block of a beamline; `bundle` (resource ids) overrides the beamline's."""

    id: str
    beamline: str
    facility: str
    title: str
    start: datetime
    end: datetime
    bundle: tuple[str, ...] | None = None
    source: str = "api"

    def __post_init__(self) -> None:
        for name in ("id", "beamline", "facility"):
            if not str(getattr(self, name)).strip():
                raise InvalidBeamtime(name, "must not be empty", item=self.id or None)
        for name in ("start", "end"):
            if getattr(self, name).utcoffset() is None:
                reason = "must be a date-time with a time zone or UTC offset"
                raise InvalidBeamtime(name, reason, item=self.id)
        if self.end <= self.start:
            reason = f"must be after start ({self.start.isoformat()})"
            raise InvalidBeamtime("end", reason, item=self.id)


@dataclass(frozen=True, slots=True, kw_only=True)
class Conflict:
    """A maintenance occurrence that overlaps a beamtime on resources it needs."""

    id: str
    beamtime: Beamtime
    window_id: str
    effect: str
    occurrence_start: datetime
    occurrence_end: datetime
    resources: tuple[str, ...]
    overlap_start: datetime
    overlap_end: datetime


def default_id(beamline: str, start: datetime) -> str:
    """`<beamline>-<start in UTC, yyyymmddThhmmZ>`: stable for a given slot."""
    return f"{beamline}-{start.astimezone(UTC):%Y%m%dT%H%MZ}"


def depends_on_graph(config: FacilityConfig) -> dict[str, tuple[str, ...]]:
    """Each resource's direct dependencies."""
    return {r.id: tuple(r.depends_on) for r in config.resources}


def needed_resources(
    bundle: Iterable[str | BundleNeed], depends_on: Mapping[str, Iterable[str]]
) -> frozenset[str]:
    """The bundle's resources and everything they depend on, directly or not."""
    stack = [n if isinstance(n, str) else n.resource for n in bundle]
    seen: set[str] = set()
    while stack:
        rid = stack.pop()
        if rid not in seen:
            seen.add(rid)
            stack.extend(depends_on.get(rid, ()))
    return frozenset(seen)


def beamline_needs(config: FacilityConfig) -> dict[str, frozenset[str]]:
    """For each beamline id, the resources its beamtimes need (bundle plus dependencies)."""
    graph = depends_on_graph(config)
    return {
        bl.id: needed_resources(bl.bundle, graph)
        for ef in config.experiment_facilities
        for bl in ef.beamlines
    }


def conflicts(
    beamtimes: Iterable[Beamtime],
    windows: Iterable[MaintenanceWindow],
    needs: Mapping[str, frozenset[str]],
    start: datetime,
    end: datetime,
    *,
    depends_on: Mapping[str, Iterable[str]] | None = None,
) -> list[Conflict]:
    """Every conflict in [start, end), ordered by overlap start, beamtime, window, occurrence.

    `needs` is keyed by beamline id (see `beamline_needs`). A beamtime with its own `bundle`
    needs that bundle plus its dependencies in `depends_on` (the bundle alone without it)."""
    live = [w for w in windows if not w.cancelled]
    found = [
        c
        for bt in beamtimes
        if bt.start < end and bt.end > start
        for c in _conflicts_of(bt, live, _needs(bt, needs, depends_on), start, end)
    ]
    return sorted(found, key=_order)


def _needs(
    bt: Beamtime, needs: Mapping[str, frozenset[str]], graph: Mapping[str, Iterable[str]] | None
) -> frozenset[str]:
    if bt.bundle is None:
        return needs.get(bt.beamline, frozenset())
    return needed_resources(bt.bundle, graph or {})


def _conflicts_of(
    bt: Beamtime, windows: list[MaintenanceWindow], need: frozenset[str], lo: datetime, hi: datetime
) -> Iterable[Conflict]:
    for w in windows:
        hit = tuple(sorted(need.intersection(w.resources)))
        if not hit:
            continue
        for occ in occurrences(w, max(lo, bt.start), min(hi, bt.end)):
            overlap = (max(occ.start, bt.start), min(occ.end, bt.end))
            yield Conflict(
                id=_conflict_id(bt.id, w.id, occ.start),
                beamtime=bt,
                window_id=w.id,
                effect=w.effect,
                occurrence_start=occ.start,
                occurrence_end=occ.end,
                resources=hit,
                overlap_start=overlap[0],
                overlap_end=overlap[1],
            )


def _conflict_id(beamtime_id: str, window_id: str, occurrence_start: datetime) -> str:
    """16 hex digits of SHA-256 over the beamtime, the window and the occurrence (UTC)."""
    key = f"{beamtime_id}\n{window_id}\n{occurrence_start.astimezone(UTC).isoformat()}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _order(c: Conflict) -> tuple[datetime, str, str, datetime]:
    return (c.overlap_start, c.beamtime.id, c.window_id, c.occurrence_start)
