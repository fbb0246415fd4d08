"""The Slurm collector's Prometheus families, declared once, built fresh each cycle.

Labels stay bounded: cluster, partition, qos, facstat node category (`state`),
job state, pending reason code, reservation state and `maint`, sdiag's RPC type.
Never job ids, user or node names. Sample exposition::

    # HELP facstat_slurm_controller_up Whether slurmctld answered the last cycle (1) or not (0).
    # TYPE facstat_slurm_controller_up gauge
    facstat_slurm_controller_up{cluster="facstat"} 1.0
    # TYPE facstat_slurm_partition_nodes gauge
    facstat_slurm_partition_nodes{cluster="facstat",partition="batch",state="drained"} 1.0
    # TYPE facstat_slurm_jobs gauge
    facstat_slurm_jobs{cluster="facstat",partition="batch",qos="normal",state="pending",reason_code="Resources"} 5.0
    # TYPE facstat_slurm_oldest_pending_job_age_seconds gauge
    facstat_slurm_oldest_pending_job_age_seconds{cluster="facstat",partition="batch"} 42.0
    # TYPE facstat_slurm_rpcs_total counter
    facstat_slurm_rpcs_total{cluster="facstat",rpc="REQUEST_NODE_INFO"} 39.0
"""

from __future__ import annotations

from prometheus_client.core import Metric

from collectors.base import MetricSpec
from collectors.slurm import capacity, queue
from collectors.slurm.model import Node, Snapshot
from collectors.slurm.queue import Summary
from collectors.slurm.status import US

C, CP = ("cluster",), ("cluster", "partition")
CONTROLLER_UP = MetricSpec(
    "facstat_slurm_controller_up",
    "gauge",
    "Whether slurmctld answered the last cycle (1) or not (0).",
    C,
)
NODES = MetricSpec(
    "facstat_slurm_nodes",
    "gauge",
    "Nodes of the cluster by facstat category (idle, allocated, drained, down, maint…).",
    (*C, "state"),
)
PARTITION_NODES = MetricSpec(
    "facstat_slurm_partition_nodes",
    "gauge",
    "Nodes of a partition by facstat category.",
    (*CP, "state"),
)
PARTITION_UP = MetricSpec(
    "facstat_slurm_partition_up",
    "gauge",
    "Whether Slurm has the partition UP (1) or DOWN, DRAIN or INACTIVE (0).",
    CP,
)
_POOL_HELP = {
    "cpus": "CPUs",
    "gpus": "GPUs (gres/gpu)",
    "memory_bytes": "Memory",
}
POOLS = {
    p: MetricSpec(
        f"facstat_slurm_{p}",
        "gauge",
        f"{h} of the cluster: allocated, idle on usable nodes, unavailable on the rest.",
        (*C, "state"),
    )
    for p, h in _POOL_HELP.items()
}
PARTITION_POOLS = {
    p: MetricSpec(
        f"facstat_slurm_partition_{p}",
        "gauge",
        f"{h} of a partition: allocated, idle on usable nodes, unavailable on the rest.",
        (*CP, "state"),
    )
    for p, h in _POOL_HELP.items()
}
JOBS = MetricSpec(
    "facstat_slurm_jobs",
    "gauge",
    "Active jobs (array tasks counted) by partition, QoS, state and pending reason.",
    (*CP, "qos", "state", "reason_code"),
)
OLDEST_PENDING = MetricSpec(
    "facstat_slurm_oldest_pending_job_age_seconds",
    "gauge",
    "Seconds since the longest-waiting eligible pending job became eligible.",
    CP,
)
RECENT_WAIT = MetricSpec(
    "facstat_slurm_recent_start_wait_seconds",
    "gauge",
    "Median wait (eligible to start) of the jobs started in the recent window.",
    CP,
)
RECENT_STARTS = MetricSpec(
    "facstat_slurm_recent_started_jobs",
    "gauge",
    "Jobs started in the recent window.",
    CP,
)
RESERVATIONS = MetricSpec(
    "facstat_slurm_reservations",
    "gauge",
    "Advance reservations by state and whether they are maintenance (MAINT) ones.",
    (*C, "state", "maint"),
)
RESERVATION_NODES = MetricSpec(
    "facstat_slurm_reservation_nodes",
    "gauge",
    "Nodes in advance reservations by state and maint flag.",
    (*C, "state", "maint"),
)
QOS_PRIORITY = MetricSpec(
    "facstat_slurm_qos_priority",
    "gauge",
    "Priority of each QoS.",
    (*C, "qos"),
)
SERVER_THREADS = MetricSpec(
    "facstat_slurm_server_threads",
    "gauge",
    "slurmctld server threads in use (sdiag).",
    C,
)
AGENT_QUEUE = MetricSpec(
    "facstat_slurm_agent_queue_requests",
    "gauge",
    "Outgoing requests queued in slurmctld's agent (sdiag).",
    C,
)
DBD_AGENT_QUEUE = MetricSpec(
    "facstat_slurm_dbd_agent_queue_messages",
    "gauge",
    "Messages queued for slurmdbd (sdiag).",
    C,
)
CYCLE_LAST = MetricSpec(
    "facstat_slurm_scheduler_cycle_last_seconds",
    "gauge",
    "Duration of the last main or backfill scheduling cycle (sdiag).",
    (*C, "scheduler"),
)
CYCLE_MEAN = MetricSpec(
    "facstat_slurm_scheduler_cycle_mean_seconds",
    "gauge",
    "Mean duration of main or backfill scheduling cycles since the stats reset (sdiag).",
    (*C, "scheduler"),
)
CYCLES = MetricSpec(
    "facstat_slurm_scheduler_cycles_total",
    "counter",
    "Scheduling cycles since the stats reset (sdiag).",
    (*C, "scheduler"),
)
SCHEDULER_JOBS = MetricSpec(
    "facstat_slurm_scheduler_jobs_total",
    "counter",
    "Jobs submitted, started, completed, canceled, failed since the stats reset (sdiag).",
    (*C, "event"),
)
RPCS = MetricSpec(
    "facstat_slurm_rpcs_total",
    "counter",
    "RPCs slurmctld served by message type since the stats reset (sdiag).",
    (*C, "rpc"),
)
SPECS = (
    CONTROLLER_UP,
    NODES,
    PARTITION_NODES,
    PARTITION_UP,
    *POOLS.values(),
    *PARTITION_POOLS.values(),
    JOBS,
    OLDEST_PENDING,
    RECENT_WAIT,
    RECENT_STARTS,
    RESERVATIONS,
    RESERVATION_NODES,
    QOS_PRIORITY,
    SERVER_THREADS,
    AGENT_QUEUE,
    DBD_AGENT_QUEUE,
    CYCLE_LAST,
    CYCLE_MEAN,
    CYCLES,
    SCHEDULER_JOBS,
    RPCS,
)


class Families:
    """One fresh family per spec; `add(spec, labels, value)` fills them."""

    def __init__(self) -> None:
        self._fams = {s.name: s.family() for s in SPECS}

    def add(self, spec: MetricSpec, labels: list[str], value: float) -> None:
        self._fams[spec.name].add_metric(labels, value)

    def done(self) -> list[Metric]:
        return [f for f in self._fams.values() if f.samples]


def unreachable(cluster: str) -> list[Metric]:
    fams = Families()
    fams.add(CONTROLLER_UP, [cluster], 0)
    return fams.done()


def families(cluster: str, snap: Snapshot, jobs: Summary) -> list[Metric]:
    """The cycle's families; `jobs` is `queue.summarize` of the snapshot's jobs."""
    fams = Families()
    fams.add(CONTROLLER_UP, [cluster], 1)
    _nodes(fams, [cluster], NODES, POOLS, snap.nodes)
    _partitions(fams, cluster, snap)
    _jobs(fams, cluster, jobs)
    _reservations(fams, cluster, snap)
    for q in snap.qos or ():
        fams.add(QOS_PRIORITY, [cluster, q.name], q.priority)
    _diag(fams, cluster, snap)
    return fams.done()


def _nodes(
    fams: Families,
    labels: list[str],
    counts: MetricSpec,
    pools: dict[str, MetricSpec],
    nodes: list[Node],
) -> None:
    for category, n in capacity.by_category(nodes).items():
        fams.add(counts, [*labels, category.value], n)
    for (pool, state), amount in capacity.pools(nodes).items():
        fams.add(pools[pool], [*labels, state], amount)


def _partitions(fams: Families, cluster: str, snap: Snapshot) -> None:
    by_name = {n.name: n for n in snap.nodes}
    for p in snap.partitions:
        nodes = [by_name[n] for n in p.nodes if n in by_name]
        _nodes(fams, [cluster, p.name], PARTITION_NODES, PARTITION_POOLS, nodes)
        fams.add(PARTITION_UP, [cluster, p.name], p.state == "UP")


def _jobs(fams: Families, cluster: str, jobs: Summary) -> None:
    for (part, qos, state, reason), n in sorted(jobs.depth.items()):
        fams.add(JOBS, [cluster, part, qos, state, reason], n)
    for part, age in sorted(jobs.oldest_pending.items()):
        fams.add(OLDEST_PENDING, [cluster, part], age)
    waits = jobs.recent_waits
    for part, wait in sorted(queue.median_waits(waits).items()):
        fams.add(RECENT_WAIT, [cluster, part], wait)
        fams.add(RECENT_STARTS, [cluster, part], len(waits[part]))


def _reservations(fams: Families, cluster: str, snap: Snapshot) -> None:
    counts: dict[tuple[str, str], tuple[int, int]] = {}
    for r in snap.reservations:
        key = (r.state.lower(), "true" if r.maint else "false")
        n, nodes = counts.get(key, (0, 0))
        counts[key] = (n + 1, nodes + len(r.nodes))
    for (state, maint), (n, nodes) in sorted(counts.items()):
        fams.add(RESERVATIONS, [cluster, state, maint], n)
        fams.add(RESERVATION_NODES, [cluster, state, maint], nodes)


def _diag(fams: Families, cluster: str, snap: Snapshot) -> None:
    d = snap.diag
    fams.add(SERVER_THREADS, [cluster], d.server_threads)
    fams.add(AGENT_QUEUE, [cluster], d.agent_queue_size)
    fams.add(DBD_AGENT_QUEUE, [cluster], d.dbd_agent_queue_size)
    cycles = {
        "main": (d.main_last_cycle_us, d.main_mean_cycle_us, d.main_cycles),
        "backfill": (d.backfill_last_cycle_us, d.backfill_mean_cycle_us, d.backfill_cycles),
    }
    for name, (last, mean, total) in cycles.items():
        fams.add(CYCLE_LAST, [cluster, name], last * US)
        fams.add(CYCLE_MEAN, [cluster, name], mean * US)
        fams.add(CYCLES, [cluster, name], total)
    for event, n in sorted(d.jobs.items()):
        fams.add(SCHEDULER_JOBS, [cluster, event], n)
    for rpc, n in sorted(d.rpcs.items()):
        fams.add(RPCS, [cluster, rpc], n)
