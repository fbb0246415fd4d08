"""Counters and histograms the status service updates as it works."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from facility import metric_names as names


class EngineMetrics:
    """Counters the service updates as it ingests (registered on `registry`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.ingested = Counter(
            names.OBSERVATIONS_INGESTED.removesuffix("_total"),
            "Observations accepted into the store.",
            registry=registry,
        )
        self.transitions = Counter(
            names.STATUS_TRANSITIONS.removesuffix("_total"),
            "Effective state changes recorded.",
            ["state"],
            registry=registry,
        )
        self.conflicts = Counter(
            names.STORE_CONFLICTS.removesuffix("_total"),
            "Ingests or ticks recomputed because another API process wrote the store first.",
            registry=registry,
        )
        self.cycle = Histogram(
            names.ENGINE_CYCLE_DURATION,
            "Time to evaluate and store one ingest or tick.",
            ["kind"],
            registry=registry,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
