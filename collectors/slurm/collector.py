"""One `SlurmCollector` per cluster: each cycle makes one call per kind of data
(sdiag first, so a dead controller costs one call), then reports every resource of
that cluster and the `facstat_slurm_*` families.

Options (`collector: {kind: slurm, options: {...}}`) are `SlurmOptions`: `cluster`
groups resources, `partition` marks a partition; `backend` (`cli`), `slurm_conf`,
`bin_dir`, `command_timeout`, `interval` and `recent_window` are per cluster.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from collectors.base import Collector, Cycle
from collectors.slurm import backend as backends
from collectors.slurm import metrics, queue, reservations, status
from collectors.slurm.backend import Backend
from collectors.slurm.errors import SlurmError
from collectors.slurm.model import Snapshot
from collectors.slurm.options import cluster_options, options
from collectors.slurm.status import Context, Role, Target
from facility.config import FacilityConfig, Resource

SCHEDULER_TYPE = "urn:facstat:scheduler"


def load(backend: Backend) -> Snapshot:
    """Everything one cycle needs, one call each; raises `SlurmError` unless QoS fail."""
    diag = backend.diag()
    snap = Snapshot(
        diag, backend.nodes(), backend.partitions(), backend.jobs(), backend.reservations()
    )
    try:
        return replace(snap, qos=backend.qos())
    except SlurmError as exc:
        return replace(snap, qos_error=exc)


class SlurmCollector:
    """Observes one cluster's scheduler, partitions and compute system."""

    kind = "slurm"

    def __init__(
        self,
        cluster: str,
        targets: Sequence[Target],
        backend: Backend,
        interval: float = 30.0,
        timeout: float = 90.0,
        recent_window: float = 900.0,
    ) -> None:
        self.cluster = cluster
        self.name = f"slurm-{cluster}"
        self.targets = list(targets)
        self.resource_ids: Sequence[str] = [t.resource_id for t in self.targets]
        self.backend = backend
        self.interval = interval
        self.timeout = timeout
        self.recent_window = recent_window

    def collect(self, now: datetime) -> Cycle:
        ctx = Context(self.cluster, self.name, now)
        try:
            snap = load(self.backend)
        except SlurmError as exc:
            return Cycle(
                status.unreachable(ctx, self.targets, exc), metrics.unreachable(self.cluster)
            )
        jobs = queue.summarize(snap.jobs, now, self.recent_window)
        return Cycle(
            status.observe(ctx, self.targets, snap, jobs),
            metrics.families(self.cluster, snap, jobs),
            reservations.facts(snap, self.targets),
        )


def role(r: Resource) -> Role:
    if r.type == SCHEDULER_TYPE:
        return "scheduler"
    return "partition" if options(r).partition is not None else "system"


def target(config: FacilityConfig, r: Resource) -> Target:
    degraded_below = config.thresholds(r).degraded_below
    return Target(r.id, role(r), options(r).partition, degraded_below)


def build(config: FacilityConfig, resources: list[Resource]) -> list[Collector]:
    """One collector per cluster named in the resources' `cluster` option; a
    `ConfigError` names every bad option."""
    by_cluster: dict[str, list[Resource]] = defaultdict(list)
    for r in resources:
        by_cluster[options(r).cluster].append(r)
    return [_collector(config, rs) for _, rs in sorted(by_cluster.items())]


def _collector(config: FacilityConfig, resources: list[Resource]) -> Collector:
    opts = cluster_options(resources)
    return SlurmCollector(
        opts.cluster,
        [target(config, r) for r in resources],
        backends.BACKENDS[opts.backend](opts),
        interval=opts.interval,
        timeout=max(opts.interval, 6 * opts.command_timeout + 5),
        recent_window=opts.recent_window,
    )
