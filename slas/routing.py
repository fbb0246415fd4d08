"""Which team owns a resource, and which receivers an incident goes to. Pure.

Routes are tried in order; the first that matches decides, unless it says
`continue: true`, in which case the routes after it are tried too and the receivers
add up (each once, in order). Every condition of a match must hold; a condition left
out holds always. A time window is read on the clock of its own zone; one whose
`to` is before its `from` runs overnight and belongs to the day it starts on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slas.incident_policy import WEEKDAYS, Match, Route, Team, TimeWindow
from slas.priority import Level


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteInput:
    priority: Level
    team_id: str | None
    system: str
    resource_type: str
    resource_id: str


def route(inp: RouteInput, routes: Sequence[Route], now: datetime) -> list[str]:
    """Receiver ids for `inp` at `now`, in order, each once; empty if no route matches."""
    if now.tzinfo is None:
        raise ValueError(f"{now} has no time zone: pass an aware datetime")
    out: list[str] = []
    for r in routes:
        if not matches(r.match, inp, now):
            continue
        out += [rid for rid in r.receivers if rid not in out]
        if not r.continue_:
            break
    return out


def matches(m: Match, inp: RouteInput, now: datetime) -> bool:
    """Whether every condition of `m` holds for `inp` at `now`."""
    pairs = (
        (m.priorities, inp.priority),
        (m.teams, inp.team_id),
        (m.systems, inp.system),
        (m.resource_types, inp.resource_type),
        (m.resources, inp.resource_id),
    )
    if any(allowed is not None and value not in allowed for allowed, value in pairs):
        return False
    return m.time is None or in_window(m.time, now)


def in_window(w: TimeWindow, now: datetime) -> bool:
    """Whether `now` falls in the weekly window `w`, on `w`'s local clock."""
    local = now.astimezone(ZoneInfo(w.timezone))
    t, today = local.time().replace(tzinfo=None), WEEKDAYS[local.weekday()]
    if w.start < w.end:
        return today in w.days and w.start <= t < w.end
    yesterday = WEEKDAYS[(local - timedelta(days=1)).weekday()]
    return (today in w.days and t >= w.start) or (yesterday in w.days and t < w.end)


def team_for(system: str, resource_type: str, teams: Iterable[Team]) -> Team | None:
    """The team that owns resources of `resource_type` on `system`.

    A team that lists `resource_types` is more specific than one that owns the whole
    system and wins over it; among equals the first listed wins.
    """
    owners = [t for t in teams if system in t.systems]
    specific = [t for t in owners if resource_type in t.resource_types]
    general = [t for t in owners if not t.resource_types]
    return next(iter(specific + general), None)
