"""Prometheus exposition of the status engine's view of the facility.

`StatusCollector` yields fresh metric families on every scrape, from the
service's current snapshot (staleness applied first), for example::

    # HELP facstat_resource_state Effective state of a resource (1 for the current state).
    # TYPE facstat_resource_state gauge
    facstat_resource_state{resource="scratch",system="storage",type="storage:filesystem",state="degraded"} 1.0
    facstat_resource_state{resource="scratch",system="storage",type="storage:filesystem",state="up"} 0.0
    # HELP facstat_resource_capacity_ratio Usable fraction of a resource's capacity.
    # TYPE facstat_resource_capacity_ratio gauge
    facstat_resource_capacity_ratio{resource="scratch",system="storage",type="storage:filesystem"} 0.7
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from facility import metric_names as names
from facility.model import State
from facility.service import Snapshot, StatusService

LABELS = ["resource", "system", "type"]


class StatusCollector(Collector):
    """Per-resource state, capacity and observation age from a `StatusService`."""

    def __init__(self, service: StatusService, clock: Callable[[], datetime]) -> None:
        self.service = service
        self.clock = clock
        self.labels = {r.id: [r.id, r.system, r.type] for r in service.config.resources}

    def collect(self) -> Iterator[Metric]:
        now = self.clock()
        snap = self.service.snapshot(now)
        yield self._states(snap)
        cap = GaugeMetricFamily(
            names.RESOURCE_CAPACITY, "Usable fraction of a resource's capacity.", labels=LABELS
        )
        age = GaugeMetricFamily(
            names.RESOURCE_OBSERVATION_AGE,
            "Seconds since the last observation of a resource.",
            labels=LABELS,
        )
        since = GaugeMetricFamily(
            names.RESOURCE_STATE_SINCE, "Unix time when the current state began.", labels=LABELS
        )
        for rid, labels in self.labels.items():
            s = snap.statuses.get(rid)
            if s is None:
                continue
            if s.capacity is not None:
                cap.add_metric(labels, s.capacity)
            if s.observed_at is not None:
                age.add_metric(labels, max(0.0, (now - s.observed_at).total_seconds()))
            if s.since is not None:
                since.add_metric(labels, s.since.timestamp())
        yield from (cap, age, since)
        yield GaugeMetricFamily(
            names.STORE_VERSION, "Change counter of the status store.", value=snap.version
        )

    def _states(self, snap: Snapshot) -> GaugeMetricFamily:
        fam = GaugeMetricFamily(
            names.RESOURCE_STATE,
            "Effective state of a resource (1 for the current state).",
            labels=[*LABELS, "state"],
        )
        for rid, labels in self.labels.items():
            s = snap.statuses.get(rid)
            current = s.state if s else State.UNKNOWN
            for state in State:
                fam.add_metric([*labels, state.value], 1.0 if state == current else 0.0)
        return fam
