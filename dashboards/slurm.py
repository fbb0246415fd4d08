"""One dashboard per Slurm cluster of the facility file: its facstat resources, partitions'
node states and unusable nodes, CPUs/GPUs/memory allocated vs idle, queue depth by
partition, QoS and pending reason, queue wait, reservations, and sdiag's scheduler health.

Drain reasons are free text, so they are not metric labels: the Slurm collector puts them
in the observations' reasons (the status API and the resource page show them).
"""

from __future__ import annotations

from collections.abc import Callable

from collectors.base import MetricSpec
from collectors.slurm import capacity, states
from collectors.slurm import metrics as M
from collectors.slurm.options import options
from dashboards import panels as P
from dashboards.page import Page, resources_of, state_row
from dashboards.promql import one_of, rate, sel, var
from facility.config import FacilityConfig, Resource

PARTITION = var("partition")
UNUSABLE = one_of(sorted(c.value for c in states.UNUSABLE))
PENDING, RUNNING = "pending", "running"
POOLS = {"cpus": ("CPUs", "short"), "gpus": ("GPUs", "short"), "memory_bytes": ("Memory", "bytes")}
PART, PART_STATE = "{{partition}}", "{{partition}} {{state}}"
Of = Callable[..., str]  # a selector of one cluster: of(spec, **more_labels)


def pages(config: FacilityConfig) -> list[Page]:
    clusters: dict[str, list[Resource]] = {}
    for r in resources_of(config, "slurm"):
        clusters.setdefault(options(r).cluster, []).append(r)
    return [_page(config, cluster, rs) for cluster, rs in sorted(clusters.items())]


def _page(config: FacilityConfig, cluster: str, resources: list[Resource]) -> Page:
    systems = {s.id: s.name for s in config.systems}
    names = ", ".join(dict.fromkeys(systems.get(r.system, r.system) for r in resources))
    board = P.Board()
    state_row(board, "facstat resources", resources)

    def of(spec: MetricSpec, **labels: str) -> str:
        return sel(spec.name, cluster=cluster, **labels)

    for row in (_scheduler, _nodes, _pools, _queue, _waits, _sdiag):
        row(board, of)
    partition = P.query_var("partition", "Partition", of(M.PARTITION_UP), "partition")
    return Page(
        f"slurm-{cluster}",
        f"Slurm: {names} ({cluster})",
        f"Slurm cluster {cluster} as the facstat Slurm collector reads it.",
        board,
        [partition],
        ("slurm",),
    )


def _scheduler(board: P.Board, of: Of) -> None:
    board.row("Controller, partitions and reservations")
    up = P.stat("slurmctld", [(of(M.CONTROLLER_UP), "slurmctld")], mappings=P.UP_MAPPINGS)
    board.add(up, w=4)
    partitions = [(of(M.PARTITION_UP, partition=PARTITION), PART)]
    why = "UP (up) or DOWN, DRAIN, INACTIVE (down) in Slurm."
    board.add(P.stat("Partitions", partitions, description=why, mappings=P.UP_MAPPINGS), w=8)
    reservations = [
        (f"sum({of(M.RESERVATIONS)}) or vector(0)", "reservations"),
        (f"sum({of(M.RESERVATIONS, maint='true')}) or vector(0)", "maintenance"),
        (f"sum({of(M.RESERVATION_NODES)}) or vector(0)", "nodes"),
    ]
    board.add(P.stat("Advance reservations", reservations), w=12)


def _nodes(board: P.Board, of: Of) -> None:
    nodes = of(M.PARTITION_NODES, partition=PARTITION)
    unusable = of(M.PARTITION_NODES, partition=PARTITION, state=UNUSABLE)
    drains = "Drain reasons are in the partition's observations (status API), not in metrics."
    board.row("Nodes")
    board.add(
        P.timeseries("Node states by partition", [(f"{nodes} > 0", PART_STATE)], stack=True),
        w=12,
        h=9,
    )
    board.add(
        P.series(
            "Unusable nodes (drained, down, maint…)",
            f"sum by (partition, state) ({unusable})",
            PART_STATE,
            description=drains,
        ),
        w=12,
        h=9,
    )


def _pools(board: P.Board, of: Of) -> None:
    board.row("CPUs, GPUs and memory: allocated vs idle")
    board.add(P.stat("Cluster nodes", [(f"{of(M.NODES)} > 0", "{{state}}")]), h=5)
    for pool in ("cpus", "gpus"):
        title, unit = POOLS[pool]
        board.add(P.stat(f"Cluster {title}", [(of(M.POOLS[pool]), "{{state}}")], unit), h=5)
    what = f"{', '.join(capacity.POOL_STATES)}: idle on usable nodes, unavailable on the rest."
    for pool, (title, unit) in POOLS.items():
        query = (of(M.PARTITION_POOLS[pool], partition=PARTITION), PART_STATE)
        board.add(P.timeseries(title, [query], unit, what, stack=True))


def _queue(board: P.Board, of: Of) -> None:
    def by(labels: str, state: str) -> str:
        return f"sum by ({labels}) ({of(M.JOBS, partition=PARTITION, state=state)})"

    board.row("Queue")
    board.add_all(
        [
            P.series("Pending jobs by partition", by("partition", PENDING), PART),
            P.series("Pending jobs by QoS", by("qos", PENDING), "{{qos}}"),
            P.series("Pending jobs by reason", by("reason_code", PENDING), "{{reason_code}}"),
            P.series("Running jobs by partition", by("partition", RUNNING), PART),
        ],
        w=6,
    )


def _waits(board: P.Board, of: Of) -> None:
    oldest = "Seconds since the longest-waiting eligible pending job became eligible."
    board.add_all(
        [
            P.series(
                "Oldest eligible pending job",
                of(M.OLDEST_PENDING, partition=PARTITION),
                PART,
                "s",
                oldest,
            ),
            P.series(
                "Queue wait of recently started jobs (median)",
                of(M.RECENT_WAIT, partition=PARTITION),
                PART,
                "s",
            ),
            P.series("Jobs started recently", of(M.RECENT_STARTS, partition=PARTITION), PART),
            P.stat("QoS priority", [(of(M.QOS_PRIORITY), "{{qos}}")]),
        ],
        w=6,
    )


def _sdiag(board: P.Board, of: Of) -> None:
    def per_second(spec: MetricSpec, label: str) -> str:
        return f"sum by ({label}) ({rate(of(spec))})"

    cycle = [(of(M.CYCLE_LAST), "{{scheduler}} last"), (of(M.CYCLE_MEAN), "{{scheduler}} mean")]
    queues = [
        (of(M.SERVER_THREADS), "server threads"),
        (of(M.AGENT_QUEUE), "agent queue"),
        (of(M.DBD_AGENT_QUEUE), "slurmdbd agent queue"),
    ]
    rpcs = f"topk(10, {per_second(M.RPCS, 'rpc')})"
    board.row("Scheduler health (sdiag)")
    board.add_all(
        [
            P.timeseries("Scheduling cycle duration", cycle, "s"),
            P.series(
                "Scheduling cycles", per_second(M.CYCLES, "scheduler"), "{{scheduler}}", "ops"
            ),
            P.timeseries("Threads and queues", queues),
        ]
    )
    board.add_all(
        [
            P.series("Job events", per_second(M.SCHEDULER_JOBS, "event"), "{{event}}", "ops"),
            P.series("RPCs served (top 10)", rpcs, "{{rpc}}", "ops"),
        ],
        w=12,
    )
