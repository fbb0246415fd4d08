"""SLA reports: availability, time buckets, error budget and burn for one period.

Pure: definitions, timelines and `now` in, a frozen `SlaReport` out. Only
service hours count, so the buckets sum to the service time of the period up
to `now`. Availability is `1 - bad / eligible` where

    bad      = unplanned down + the down share of degraded and of maintenance
               overrun (+ unknown when the SLA counts it as down)
    eligible = service time − planned maintenance (− unknown when excluded)

The error budget is `(1 − objective)` of the whole period's eligible time
(service hours to the period's end, minus the maintenance and excluded unknown
seen so far). Burn rates and time to exhaustion are given for the current
period only; the time to exhaustion is in service seconds at the last hour's burn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from facility.model import Interval
from slas.burn import CURRENT, LONGEST, BurnRate, burn_rates
from slas.calendars import Period, aware, period_at, service_clock
from slas.definitions import SlaDefinition
from slas.errors import PeriodError
from slas.ledger import Buckets, Ledger, ledger

Timelines = Mapping[str, Sequence[Interval]]


@dataclass(frozen=True, slots=True)
class ErrorBudget:
    """The budget of down time the objective allows over the period, and its use."""

    total_s: float
    used_s: float
    remaining_s: float  # negative once overspent
    used_fraction: float  # above 1 once overspent
    remaining_fraction: float


@dataclass(frozen=True, slots=True)
class SlaReport:
    """One SLA over one period, measured up to `measured_until`."""

    sla_id: str
    service: str
    objective: float  # percent
    period: Period
    measured_until: datetime  # the period's end, or `now` while it runs
    buckets: Buckets
    availability: float | None  # None without eligible time
    met: bool | None
    budget: ErrorBudget
    burn_rates: tuple[BurnRate, ...]  # shortest window first; empty for a past period
    time_to_exhaustion_s: float | None  # service seconds; None when nothing burns


def report(
    sla: SlaDefinition, timelines: Timelines, now: datetime, period: Period | None = None
) -> SlaReport:
    """The report of `sla` for `period` (default: the one containing `now`).

    `timelines` maps resource ids to their status intervals; give history from
    before the period's start so that an overrun crossing it is recognised.
    """
    now = aware(now)
    period = period or period_at(sla, now)
    if now <= period.start:
        raise PeriodError(f"period starts at {period.start}, after now ({now})", period.start)
    current = period.end >= now
    lo = min(period.start, now - LONGEST) if current else period.start
    clock = service_clock(sla.service_hours, sla.timezone, lo, period.end)
    return _report(sla, period, now, ledger(sla, timelines, lo, min(period.end, now), clock))


def _report(sla: SlaDefinition, period: Period, now: datetime, book: Ledger) -> SlaReport:
    until = min(period.end, now)
    buckets = book.buckets(period.start, until)
    budget = error_budget(sla, buckets, book.clock.between(period.start, period.end))
    rates = burn_rates(book, sla, now) if period.end >= now else ()
    availability = availability_of(sla, buckets)
    return SlaReport(
        sla_id=sla.id,
        service=sla.service,
        objective=sla.objective,
        period=period,
        measured_until=until,
        buckets=buckets,
        availability=availability,
        met=None if availability is None else availability >= sla.objective / 100,
        budget=budget,
        burn_rates=rates,
        time_to_exhaustion_s=_exhaustion(sla, budget, rates),
    )


def measure(
    sla: SlaDefinition, timelines: Timelines, start: datetime, end: datetime, now: datetime
) -> Buckets:
    """The buckets of `sla` within [start, min(end, now)), e.g. for uptime bars."""
    until = min(aware(end), aware(now))
    if until <= aware(start):
        return Buckets()
    clock = service_clock(sla.service_hours, sla.timezone, start, until)
    return ledger(sla, timelines, start, until, clock).buckets(start, until)


def availability_of(sla: SlaDefinition, b: Buckets) -> float | None:
    """`1 - bad / eligible`, within [0, 1]; None when nothing is eligible."""
    eligible = b.eligible_s(sla.unknown)
    if eligible <= 0:
        return None
    return min(max(1.0 - b.bad_s(sla.unknown) / eligible, 0.0), 1.0)


def error_budget(sla: SlaDefinition, b: Buckets, period_service_s: float) -> ErrorBudget:
    """The budget over the whole period's eligible time, and what `b` used of it."""
    excluded = b.service_s - b.eligible_s(sla.unknown)
    total = sla.budget_ratio * max(period_service_s - excluded, 0.0)
    used = b.bad_s(sla.unknown)
    fraction = used / total if total > 0 else 0.0
    return ErrorBudget(total, used, total - used, fraction, 1.0 - fraction)


def _exhaustion(sla: SlaDefinition, budget: ErrorBudget, rates: Sequence[BurnRate]) -> float | None:
    current = next((r.rate for r in rates if r.window == CURRENT), 0.0)
    if not rates or (current <= 0 and budget.remaining_s > 0):
        return None
    if budget.remaining_s <= 0:
        return 0.0
    return budget.remaining_s / (current * sla.budget_ratio)
