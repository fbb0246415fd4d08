"""The collector port and the values collectors exchange with the runner.

A collector observes a set of resources from one source, one call per cycle
(`collect`), and returns a `Cycle`: observations for the status store and the
Prometheus metric families that describe the source at that moment. Metric
families are declared once per module as `MetricSpec`s (name, type, help,
labels), which the exposition, `docs/metrics.md` and the dashboards share.

Each source module exposes `build(config, resources) -> list[Collector]`,
grouping the facility's resources so that one cycle makes at most one call per
kind of data to its source; `collectors.registry` maps kinds to builders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from facility.config import FacilityConfig, Resource
from facility.model import Observation, ReservationFact

MetricType = Literal["gauge", "counter"]


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One metric family a collector exports: `facstat_<source>_<thing>_<unit>`."""

    name: str
    type: MetricType
    help: str
    labels: tuple[str, ...] = ()

    def family(self) -> GaugeMetricFamily | CounterMetricFamily:
        """A fresh, empty family to fill with `add_metric(label_values, value)`."""
        if self.type == "counter":
            return CounterMetricFamily(
                self.name.removesuffix("_total"), self.help, labels=self.labels
            )
        return GaugeMetricFamily(self.name, self.help, labels=self.labels)

    def instrument(self, registry: CollectorRegistry) -> Counter | Gauge:
        """A live prometheus_client instrument for this spec (for process-level metrics)."""
        if self.type == "counter":
            return Counter(
                self.name.removesuffix("_total"), self.help, self.labels, registry=registry
            )
        return Gauge(self.name, self.help, self.labels, registry=registry)


@dataclass(frozen=True, slots=True)
class Cycle:
    """What one collection cycle produced."""

    observations: list[Observation]
    metrics: list[Metric] = field(default_factory=list)
    # Scheduler reservations, for sources that have them; None: this source has none
    # or could not read them this cycle (so the last ones known are kept).
    reservations: list[ReservationFact] | None = None


class Collector(Protocol):
    """A source adapter instance. `name` is unique in a process (label `collector`);
    `kind` is the source (`slurm`, `redis`…), the `<source>` of its metric names."""

    name: str
    kind: str
    interval: float
    timeout: float
    resource_ids: Sequence[str]

    def collect(self, now: datetime) -> Cycle: ...


class Builder(Protocol):
    def __call__(self, config: FacilityConfig, resources: list[Resource]) -> list[Collector]: ...
