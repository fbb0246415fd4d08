"""Prometheus exposition of SLAs and maintenance, fresh on every scrape, e.g.::

# HELP facstat_sla_availability_ratio Availability of an SLA's service this period.
# TYPE facstat_sla_availability_ratio gauge
facstat_sla_availability_ratio{sla="scratch-monthly",service="scratch"} 0.9993
# HELP facstat_sla_burn_rate Error-budget burn rate over a window (1 = on budget).
# TYPE facstat_sla_burn_rate gauge
facstat_sla_burn_rate{sla="scratch-monthly",service="scratch",window="1h"} 0.0
# HELP facstat_maintenance_active Whether a maintenance window covers a resource now.
# TYPE facstat_maintenance_active gauge
facstat_maintenance_active{resource="scratch",window="scratch-monthly@dlcf"} 1.0
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from facility import metric_names as names
from slas.burn import window_label
from slas.calendars import period_at
from slas.operations import Operations
from slas.service import SlaService

SLA_LABELS = ["sla", "service"]
UPCOMING = timedelta(days=90)


class SlaCollector(Collector):
    """SLA availability, objective, budget and burn; maintenance active and next."""

    def __init__(
        self,
        slas: SlaService,
        ops: Operations,
        clock: Callable[[], datetime],
        version: Callable[[datetime], int],
    ) -> None:
        self.slas, self.ops, self.clock, self.version = slas, ops, clock, version

    def collect(self) -> Iterator[Metric]:
        now = self.clock()
        yield from self._slas(now, self.version(now))
        yield from self._maintenance(now)

    def _slas(self, now: datetime, version: int) -> Iterator[Metric]:
        avail = GaugeMetricFamily(
            names.SLA_AVAILABILITY,
            "Availability of an SLA's service this period.",
            labels=SLA_LABELS,
        )
        objective = GaugeMetricFamily(
            names.SLA_OBJECTIVE, "Availability an SLA promises.", labels=SLA_LABELS
        )
        budget = GaugeMetricFamily(
            names.SLA_BUDGET_REMAINING,
            "Fraction of the period's error budget left (negative once overspent).",
            labels=SLA_LABELS,
        )
        burn = GaugeMetricFamily(
            names.SLA_BURN_RATE,
            "Error-budget burn rate over a window (1 = on budget).",
            labels=[*SLA_LABELS, "window"],
        )
        for sla in self.slas.slas.values():
            r = self.slas.report(sla, period_at(sla, now), now, version)
            labels = [sla.id, sla.service]
            objective.add_metric(labels, sla.objective / 100)
            if r.availability is not None:
                avail.add_metric(labels, r.availability)
            budget.add_metric(labels, r.budget.remaining_fraction)
            for b in r.burn_rates:
                burn.add_metric([*labels, window_label(b.window.total_seconds())], b.rate)
        yield from (avail, objective, budget, burn)

    def _maintenance(self, now: datetime) -> Iterator[Metric]:
        active = GaugeMetricFamily(
            names.MAINTENANCE_ACTIVE,
            "Whether a maintenance window covers a resource now (1) or not (absent).",
            labels=["resource", "window"],
        )
        for occ in self.ops.calendar.active(now):
            for rid in occ.window.resources:
                active.add_metric([rid, occ.window.id], 1.0)
        nxt = GaugeMetricFamily(
            names.MAINTENANCE_NEXT_START,
            "Unix time when the next maintenance of a resource starts.",
            labels=["resource"],
        )
        first: dict[str, float] = {}
        for occ in self.ops.calendar.upcoming(now, UPCOMING):
            for rid in occ.window.resources:
                first.setdefault(rid, occ.start.timestamp())
        for rid, at in sorted(first.items()):
            nxt.add_metric([rid], at)
        conflicts = GaugeMetricFamily(
            names.BEAMTIME_CONFLICTS,
            "Maintenance occurrences overlapping scheduled beamtimes (not yet over).",
            value=len(self.ops.upcoming_conflicts(now)),
        )
        yield from (active, nxt, conflicts)
