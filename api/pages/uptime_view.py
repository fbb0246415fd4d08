"""View-models of the uptime bars: one cell per day (in the facility's time zone) built
from a resource's status intervals, with the incidents and maintenance of that day.

Pure. Time not covered by an interval is `unknown` (no data is never uptime), and
today ends at `now`. A day's *availability* is usable time over known, unplanned
time: up counts fully, degraded by its capacity (half when no capacity was
measured, as an SLA's default rule), down not at all; maintenance and unknown time
are left out of it and listed instead. A day's colour is its worst state (a day
with any outage or gap in the data shows it, however short).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from api.pages.time_view import day_end, day_start, human_duration
from facility.intervals import fill_gaps
from facility.model import Interval, State, worst

DAYS = 90
DEGRADED_WEIGHT = 0.5  # usable share of a degraded stretch without a measured capacity
Span = tuple[datetime, datetime, str]  # start, end, label (an incident or maintenance)
Bounds = tuple[date, datetime, datetime]  # a local day, its start and its end
WORDS = {
    State.DEGRADED: "degraded",
    State.DOWN: "down",
    State.MAINTENANCE: "maintenance",
    State.UNKNOWN: "no data",
}


@dataclass(frozen=True, slots=True)
class Tally:
    """Seconds in each state, and the usable seconds among them."""

    seconds: Mapping[str, float]
    usable: float = 0.0

    @property
    def availability(self) -> float | None:
        """None when nothing was known and unplanned."""
        s = self.seconds
        eligible = s.get("up", 0.0) + s.get("degraded", 0.0) + s.get("down", 0.0)
        return None if eligible <= 0 else min(1.0, self.usable / eligible)

    @property
    def state(self) -> str:
        """The worst state seen; unknown when nothing was."""
        seen = [State(s) for s, secs in self.seconds.items() if secs > 0]
        return worst(*seen).value if seen else State.UNKNOWN.value


@dataclass(frozen=True, slots=True)
class Day:
    date: date
    tally: Tally
    incidents: tuple[str, ...] = ()
    maintenance: tuple[str, ...] = ()

    @property
    def state(self) -> str:
        return self.tally.state

    @property
    def availability(self) -> float | None:
        return self.tally.availability

    @property
    def title(self) -> str:
        """`Tue 2026-11-17: 99.30 % available; degraded 2 h 5 min; incidents: …`."""
        avail, secs = self.availability, self.tally.seconds
        parts = [f"{self.date:%a %Y-%m-%d}: " + _available(avail)] + [
            f"{word} {human_duration(secs[s.value])}"
            for s, word in WORDS.items()
            if secs.get(s.value) and not (s == State.UNKNOWN and avail is None)
        ]
        if self.incidents:
            parts.append("incidents: " + ", ".join(self.incidents))
        if self.maintenance:
            parts.append("maintenance: " + ", ".join(self.maintenance))
        return "; ".join(parts)


def _available(value: float | None) -> str:
    return "no data" if value is None else f"{value * 100:.2f} % available"


@dataclass(frozen=True, slots=True)
class ResourceUptime:
    id: str
    name: str
    days: tuple[Day, ...]
    availability: float | None  # over all the days


def day_bounds(today: date, count: int, tz: tzinfo) -> list[Bounds]:
    """The last `count` local days up to `today`, oldest first; the bounds in UTC, so that
    a day the clocks change on lasts 23 or 25 hours."""
    days = [today - timedelta(days=n) for n in range(count - 1, -1, -1)]
    return [(d, day_start(d, tz).astimezone(UTC), day_end(d, tz).astimezone(UTC)) for d in days]


def tally(intervals: Sequence[Interval], start: datetime, end: datetime) -> Tally:
    """The time in each state within [start, end); gaps count as unknown."""
    seconds = dict.fromkeys((s.value for s in State), 0.0)
    usable = 0.0
    rid = intervals[0].resource_id if intervals else ""
    for iv in fill_gaps(intervals, start, end, rid) if end > start else ():
        secs = iv.duration(end).total_seconds()
        seconds[iv.state.value] += secs
        usable += secs * _usable_share(iv)
    return Tally(seconds, usable)


def _usable_share(iv: Interval) -> float:
    if iv.state == State.UP:
        return 1.0
    if iv.state == State.DEGRADED:
        return DEGRADED_WEIGHT if iv.capacity is None else min(max(iv.capacity, 0.0), 1.0)
    return 0.0


def combine(tallies: Iterable[Tally]) -> Tally:
    seconds: dict[str, float] = {}
    usable = 0.0
    for t in tallies:
        usable += t.usable
        for state, secs in t.seconds.items():
            seconds[state] = seconds.get(state, 0.0) + secs
    return Tally(seconds, usable)


def labels_in(spans: Sequence[Span], start: datetime, end: datetime) -> tuple[str, ...]:
    """Labels of the spans overlapping [start, end), each once, in order."""
    found = (label for a, b, label in spans if a < end and b > start)
    return tuple(dict.fromkeys(found))


def uptime_days(
    intervals: Sequence[Interval],
    bounds: Sequence[Bounds],
    now: datetime,
    incidents: Sequence[Span] = (),
    maintenance: Sequence[Span] = (),
) -> tuple[Day, ...]:
    """One `Day` per bound; today (and any later day) is counted up to `now` only."""
    return tuple(
        Day(
            day,
            tally(intervals, start, min(end, now)),
            labels_in(incidents, start, end),
            labels_in(maintenance, start, end),
        )
        for day, start, end in bounds
    )


def resource_uptime(rid: str, name: str, days: Sequence[Day]) -> ResourceUptime:
    return ResourceUptime(rid, name, tuple(days), combine(d.tally for d in days).availability)


@dataclass(frozen=True, slots=True)
class Stretch:
    start: str  # local "HH:MM:SS"
    end: str
    state: str
    reasons: tuple[str, ...]
    duration: str


@dataclass(frozen=True, slots=True)
class DayDetail:
    resource_id: str
    resource_name: str
    day: Day
    stretches: tuple[Stretch, ...]
    times: tuple[tuple[str, str], ...]  # (state, "2 h 5 min"), states seen only
    timezone: str


def day_detail(
    resource: tuple[str, str],
    intervals: Sequence[Interval],
    bounds: Bounds,
    now: datetime,
    tz: tzinfo,
    incidents: Sequence[Span] = (),
    maintenance: Sequence[Span] = (),
) -> DayDetail:
    """One day of one resource: its summary and every stretch of constant state."""
    _, start, end = bounds
    (day,) = uptime_days(intervals, [bounds], now, incidents, maintenance)
    until = min(end, now)
    stretches = tuple(
        Stretch(
            f"{iv.start.astimezone(tz):%H:%M:%S}",
            _clock(iv.end or until, end, now, tz),
            iv.state.value,
            tuple(r.message for r in iv.reasons),
            human_duration(iv.duration(until).total_seconds()),
        )
        for iv in (fill_gaps(intervals, start, until, resource[0]) if until > start else ())
    )
    times = tuple((s, human_duration(secs)) for s, secs in day.tally.seconds.items() if secs > 0)
    return DayDetail(resource[0], resource[1], day, stretches, times, str(tz))


def _clock(t: datetime, day_end: datetime, now: datetime, tz: tzinfo) -> str:
    if t == now:
        return "now"
    return "24:00:00" if t == day_end else f"{t.astimezone(tz):%H:%M:%S}"
