"""Periods and service hours, in a time zone.

A service day is wall-clock time in the SLA's zone (06:00–22:00 stays
06:00–22:00 across a DST change; a 24x7 day lasts 23 or 25 hours on the days
the clocks move). Holidays remove whole local dates. `ServiceClock` turns
those windows into a counter of service seconds, so the service time inside
any stretch [a, b) is `clock.at(b) - clock.at(a)`: two lookups, whatever the
number of windows.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import accumulate
from zoneinfo import ZoneInfo

from slas.definitions import CalendarMonth, ServiceHours, SlaDefinition
from slas.errors import PeriodError

NOMINAL_MONTH_DAYS = 30
Window = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class Period:
    """A reporting period [start, end), as aware datetimes."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise PeriodError("a period needs time-zone aware datetimes", self.start)
        if self.end <= self.start:
            raise PeriodError(f"period ends ({self.end}) before it starts", self.start)


def period_at(sla: SlaDefinition, at: datetime) -> Period:
    """The period of `sla` that contains `at` (a rolling period ends at `at`)."""
    aware(at)
    if isinstance(sla.period, CalendarMonth):
        return month_of(at, sla.timezone)
    return Period(at - timedelta(days=sla.period.days), at)


def period_before(sla: SlaDefinition, period: Period) -> Period:
    """The period just before `period` (the previous month, or the previous N days)."""
    if isinstance(sla.period, CalendarMonth):
        return month_of(period.start - timedelta(microseconds=1), sla.timezone)
    return Period(period.start - (period.end - period.start), period.start)


def period_days(sla: SlaDefinition) -> float:
    """Nominal length in days, for burn thresholds: 30 for a calendar month."""
    return NOMINAL_MONTH_DAYS if isinstance(sla.period, CalendarMonth) else sla.period.days


def month_of(at: datetime, tz: str) -> Period:
    zone = ZoneInfo(tz)
    local = at.astimezone(zone)
    first = date(local.year, local.month, 1)
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return Period(_local(first, zone), _local(nxt, zone))


def _local(d: date, zone: ZoneInfo) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(UTC)


def aware(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise PeriodError(f"{t} has no time zone: pass aware datetimes")
    return t


def service_windows(hours: ServiceHours, tz: str, start: datetime, end: datetime) -> list[Window]:
    """Service time inside [start, end) as sorted, disjoint UTC windows (touching ones merged)."""
    zone = ZoneInfo(tz)
    start, end = aware(start).astimezone(UTC), aware(end).astimezone(UTC)
    day = start.astimezone(zone).date() - timedelta(days=1)
    out: list[Window] = []
    while day <= end.astimezone(zone).date():
        if day.weekday() in hours.days and day not in hours.holidays:
            _append(out, _day_window(hours, zone, day), start, end)
        day += timedelta(days=1)
    return out


def _day_window(hours: ServiceHours, zone: ZoneInfo, day: date) -> Window:
    """One service day; aware + timedelta is wall-clock arithmetic, as service hours are."""
    begin = datetime.combine(day, hours.day_start, tzinfo=zone)
    return begin.astimezone(UTC), (begin + hours.day_length).astimezone(UTC)


def _append(out: list[Window], w: Window, start: datetime, end: datetime) -> None:
    lo, hi = max(w[0], start), min(w[1], end)
    if lo >= hi:
        return
    if out and out[-1][1] == lo:
        out[-1] = (out[-1][0], hi)
    else:
        out.append((lo, hi))


@dataclass(frozen=True, slots=True)
class ServiceClock:
    """Service seconds elapsed since the clock's start, for any instant (epoch seconds)."""

    starts: tuple[float, ...]
    lengths: tuple[float, ...]
    before: tuple[float, ...]  # service seconds in the windows before each one

    def at(self, ts: float) -> float:
        i = bisect_right(self.starts, ts) - 1  # never -1: the first window is a sentinel
        return self.before[i] + min(ts - self.starts[i], self.lengths[i])

    def between(self, a: datetime, b: datetime) -> float:
        return self.at(b.timestamp()) - self.at(a.timestamp())

    @property
    def total(self) -> float:
        return self.before[-1] + self.lengths[-1]


def clock_of(windows: list[Window]) -> ServiceClock:
    """The clock of `windows`, behind an empty window at -inf (so lookups need no branch)."""
    starts = (-math.inf, *(a.timestamp() for a, _ in windows))
    lengths = (0.0, *((b - a).total_seconds() for a, b in windows))
    return ServiceClock(starts, lengths, tuple(accumulate(lengths[:-1], initial=0.0)))


@lru_cache(maxsize=256)
def service_clock(hours: ServiceHours, tz: str, start: datetime, end: datetime) -> ServiceClock:
    """The clock of `hours` over [start, end) (cached: many services share a calendar)."""
    return clock_of(service_windows(hours, tz, start, end))
