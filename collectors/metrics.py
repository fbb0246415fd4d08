"""Prometheus exposition of the collectors: each source's families from its last
cycle, plus self-metrics per collector. Yields fresh families on every scrape::

    # HELP facstat_collector_collection_duration_seconds Time the last collection cycle took.
    # TYPE facstat_collector_collection_duration_seconds gauge
    facstat_collector_collection_duration_seconds{collector="redis-dsn-redis",kind="redis"} 0.0021
    # HELP facstat_collector_errors_total Collection cycles that failed or timed out.
    # TYPE facstat_collector_errors_total counter
    facstat_collector_errors_total{collector="redis-dsn-redis",kind="redis"} 0.0
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import Metric
from prometheus_client.registry import Collector as RegistryCollector

from collectors.base import MetricSpec

DURATION = MetricSpec(
    "facstat_collector_collection_duration_seconds",
    "gauge",
    "Time the last collection cycle took.",
    ("collector", "kind"),
)
ERRORS = MetricSpec(
    "facstat_collector_errors_total",
    "counter",
    "Collection cycles that failed or timed out.",
    ("collector", "kind"),
)
LAST_SUCCESS = MetricSpec(
    "facstat_collector_last_success_timestamp_seconds",
    "gauge",
    "Unix time of the last successful collection cycle.",
    ("collector", "kind"),
)
CYCLES = MetricSpec(
    "facstat_collector_cycles_total",
    "counter",
    "Collection cycles run.",
    ("collector", "kind"),
)
SELF_METRICS = (DURATION, ERRORS, LAST_SUCCESS, CYCLES)


@dataclass
class _State:
    kind: str
    cycles: int = 0
    errors: int = 0
    duration: float = 0.0
    last_success: float | None = None
    families: list[Metric] = field(default_factory=list)


class CycleMetrics(RegistryCollector):
    """Holds what the last cycle of every collector reported, for the next scrape."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, _State] = {}

    def record(
        self, name: str, kind: str, duration: float, ok: bool, at: float, families: list[Metric]
    ) -> None:
        with self._lock:
            st = self._state.setdefault(name, _State(kind))
            st.cycles += 1
            st.duration = duration
            if ok:
                st.last_success = at
                st.families = families
            else:
                st.errors += 1
                st.families = []

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            states = dict(self._state)
        yield from _merge(f for st in states.values() for f in st.families)
        fams = {spec.name: spec.family() for spec in SELF_METRICS}
        for name, st in sorted(states.items()):
            labels = [name, st.kind]
            fams[DURATION.name].add_metric(labels, st.duration)
            fams[ERRORS.name].add_metric(labels, st.errors)
            fams[CYCLES.name].add_metric(labels, st.cycles)
            if st.last_success is not None:
                fams[LAST_SUCCESS.name].add_metric(labels, st.last_success)
        yield from fams.values()


def _merge(families: Iterator[Metric]) -> Iterator[Metric]:
    """Families of the same name from several collectors, exposed as one."""
    merged: dict[str, Metric] = {}
    for fam in families:
        if fam.name in merged:
            merged[fam.name].samples.extend(fam.samples)
        else:
            copy = Metric(fam.name, fam.documentation, fam.type, fam.unit)
            copy.samples = list(fam.samples)
            merged[fam.name] = copy
    yield from merged.values()
