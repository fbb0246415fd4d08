"""SLA reports of a running facility: the pure engine (`slas.sla`) fed with the
stored status history. An adapter; reports are cached per store version and minute.

A period is named as in the API: `current`, `previous`, or `YYYY-MM` for a
calendar-month SLA. History is read from a week before the period (so that an
overrun crossing its start is recognised) to its end.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from facility.errors import NotFoundError
from facility.model import Interval
from slas.calendars import Period, month_of, period_at, period_before
from slas.definitions import CalendarMonth, SlaDefinition
from slas.errors import PeriodError
from slas.sla import SlaReport, report

LOOKBACK = timedelta(days=7)
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
History = Callable[[str, datetime, datetime], list[Interval]]


class SlaService:
    def __init__(self, slas: Sequence[SlaDefinition], history: History) -> None:
        self.slas = {s.id: s for s in slas}
        self.history = history
        self._cache: dict[tuple[str, Period, object], SlaReport] = {}
        self._lock = threading.Lock()

    def sla(self, sla_id: str) -> SlaDefinition:
        try:
            return self.slas[sla_id]
        except KeyError:
            raise NotFoundError("SLA", sla_id) from None

    def period(self, sla: SlaDefinition, name: str, now: datetime) -> Period:
        """`current`, `previous`, or `YYYY-MM` (calendar-month SLAs); `PeriodError` else."""
        current = period_at(sla, now)
        if name == "current":
            return current
        if name == "previous":
            return period_before(sla, current)
        m = MONTH.match(name)
        if m is None or not isinstance(sla.period, CalendarMonth) or not 1 <= int(m[2]) <= 12:
            kind = (
                "current, previous or YYYY-MM"
                if isinstance(sla.period, CalendarMonth)
                else "current or previous"
            )
            raise PeriodError(f"period {name!r}: this SLA's periods are named {kind}")
        first = datetime(int(m[1]), int(m[2]), 15, tzinfo=ZoneInfo(sla.timezone))
        found = month_of(first, sla.timezone)
        if found.start >= now:
            raise PeriodError(f"period {name!r} has not started yet", found.start)
        return found

    def report(self, sla: SlaDefinition, period: Period, now: datetime, version: int) -> SlaReport:
        key = (sla.id, period, (version, now.replace(second=0, microsecond=0)))
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        out = report(sla, self._timelines(sla, period, now), now, period)
        with self._lock:
            if len(self._cache) > 512:
                self._cache.clear()
            self._cache[key] = out
        return out

    def past(self, sla: SlaDefinition, now: datetime, count: int, version: int) -> list[SlaReport]:
        """The current period and the `count - 1` before it, newest first."""
        periods = [period_at(sla, now)]
        while len(periods) < count:
            periods.append(period_before(sla, periods[-1]))
        return [self.report(sla, p, now, version) for p in periods]

    def budget(
        self, resource_id: str, now: datetime, version: int
    ) -> tuple[float | None, timedelta | None]:
        """The least budget left and the soonest exhaustion among the SLAs of a resource."""
        reports = [
            self.report(s, period_at(s, now), now, version)
            for s in self.slas.values()
            if resource_id in (s.resources or ())
        ]
        left = min((r.budget.remaining_fraction for r in reports), default=None)
        ttes = [r.time_to_exhaustion_s for r in reports if r.time_to_exhaustion_s is not None]
        return left, timedelta(seconds=min(ttes)) if ttes else None

    def budget_remaining(self, resource_id: str, now: datetime, version: int) -> float | None:
        """The smallest error-budget fraction left among the SLAs covering a resource."""
        return self.budget(resource_id, now, version)[0]

    def _timelines(
        self, sla: SlaDefinition, period: Period, now: datetime
    ) -> dict[str, list[Interval]]:
        lo, hi = period.start - LOOKBACK, min(period.end, now)
        return {rid: self.history(rid, lo, hi) for rid in sla.resources or ()}
