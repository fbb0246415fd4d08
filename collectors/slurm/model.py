"""What Slurm reports, as typed values every backend (CLI, slurmrestd, pyslurm) returns.

Times are aware datetimes (None when Slurm has none), but a job's are epoch seconds:
a cycle reads 100,000 of them. Memory is in MiB as Slurm counts it; cycle times are in
microseconds as sdiag prints them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime

from collectors.slurm.errors import SlurmError
from collectors.slurm.states import Category, categorize

# Job states (squeue's job_state) whose start time is a real start, and finished ones.
STARTED_STATES = frozenset({"RUNNING", "SUSPENDED", "COMPLETING"})
FINISHED_STATES = frozenset(
    {"COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY"}
    | {"BOOT_FAIL", "DEADLINE"}
)


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    state: str  # base state, upper case: IDLE, ALLOCATED, MIXED, DOWN, …
    flags: frozenset[str] = frozenset()  # DRAIN, NOT_RESPONDING, MAINTENANCE, …
    reason: str = ""
    reason_since: datetime | None = None
    reason_by: str | None = None
    partitions: tuple[str, ...] = ()
    cpus: int = 0
    cpus_alloc: int = 0
    memory_mb: int = 0
    memory_alloc_mb: int = 0
    gpus: int = 0
    gpus_alloc: int = 0

    @property
    def category(self) -> Category:
        return _category(self.state, self.flags)


@functools.lru_cache(maxsize=1024)  # ten thousand nodes share a few dozen states
def _category(state: str, flags: frozenset[str]) -> Category:
    return categorize(state, flags)


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    state: str  # UP, DOWN, DRAIN, INACTIVE
    nodes: tuple[str, ...] = ()
    total_cpus: int = 0
    default: bool = False


@dataclass(frozen=True, slots=True)
class Job:
    job_id: int
    partition: str
    qos: str
    state: str  # PENDING, RUNNING, COMPLETED, …
    reason: str = "None"  # reason code: Resources, Priority, JobHeldUser, …
    tasks: int = 1  # array tasks a pending array record stands for
    submit: int | None = None  # epoch seconds
    eligible: int | None = None
    start: int | None = None  # only once it really started (never an estimate)
    name: str = ""


@dataclass(frozen=True, slots=True)
class Reservation:
    name: str
    state: str  # ACTIVE, INACTIVE
    start: datetime | None
    end: datetime | None
    nodes: tuple[str, ...] = ()
    flags: frozenset[str] = frozenset()

    @property
    def maint(self) -> bool:
        return "MAINT" in self.flags


@dataclass(frozen=True, slots=True)
class Qos:
    name: str
    priority: int
    preempt: tuple[str, ...] = ()  # QoS this one may preempt
    preempt_mode: str = "cluster"
    usage_factor: float = 1.0
    max_wall: str = ""


@dataclass(frozen=True, slots=True)
class Diag:
    """sdiag's figures. Counters restart at slurmctld start and at midnight (`since`)."""

    since: datetime | None = None
    server_threads: int = 0
    agent_queue_size: int = 0
    agent_count: int = 0
    dbd_agent_queue_size: int = 0
    jobs: dict[str, int] = field(default_factory=dict)  # submitted, started, … → count
    main_last_cycle_us: int = 0
    main_mean_cycle_us: int = 0
    main_cycles: int = 0
    backfill_last_cycle_us: int = 0
    backfill_mean_cycle_us: int = 0
    backfill_cycles: int = 0
    rpcs: dict[str, int] = field(default_factory=dict)  # message type → count


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one cycle read from one cluster. QoS come from slurmdbd, which may be
    away while slurmctld answers: then `qos` is None and `qos_error` says why."""

    diag: Diag
    nodes: list[Node]
    partitions: list[Partition]
    jobs: list[Job]
    reservations: list[Reservation]
    qos: list[Qos] | None = None
    qos_error: SlurmError | None = None
