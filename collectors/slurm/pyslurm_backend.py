"""The pyslurm backend: Slurm's C API in process, through pyslurm's object API (25.11).

The only module that imports `pyslurm`, and only inside functions: a facstat without
pyslurm builds and runs every other backend. One call per kind of data:
`pyslurm.slurmctld.diag()`, `pyslurm.Nodes.load()`, `pyslurm.Partitions.load()`,
`pyslurm.Jobs.load()`, `pyslurm.Reservations.load()` and, from slurmdbd,
`pyslurm.db.QualitiesOfService.load(pyslurm.db.Connection.open())`. Collections are
read through `.values()` (plain dicts and pyslurm's multi-cluster maps both have it).

pyslurm raises `pyslurm.RPCError` (`errno`, `msg`) when an RPC fails; it becomes the
`SlurmError` the CLI backend raises for the same failure. Anything else going wrong
(an attribute this pyslurm does not have) is `OutputInvalid`, never a traceback.
Attributes the pyslurm documentation does not show are listed in `UNCONFIRMED`.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from collectors.slurm.errors import (
    AccountingUnreachable,
    CommandFailed,
    ControllerUnreachable,
    OutputInvalid,
    SlurmError,
)
from collectors.slurm.fields import expand_hostlist, from_epoch, node_state, to_int
from collectors.slurm.model import Diag, Job, Node, Partition, Qos, Reservation
from collectors.slurm.parse import json_job
from collectors.slurm.render import Kind
from collectors.slurm.restd_parse import minutes_text

CALLS: dict[Kind, str] = {
    "diag": "pyslurm.slurmctld.diag()",
    "nodes": "pyslurm.Nodes.load()",
    "partitions": "pyslurm.Partitions.load()",
    "jobs": "pyslurm.Jobs.load()",
    "reservations": "pyslurm.Reservations.load()",
    "qos": "pyslurm.db.QualitiesOfService.load()",
}
# Not in pyslurm's documentation for 25.11 (QualityOfService documents name, description
# and id only): read as named here, and OutputInvalid when this pyslurm lacks them.
UNCONFIRMED = tuple(
    f"pyslurm.db.QualityOfService.{a}"
    for a in ("priority", "preempt", "preempt_mode", "usage_factor", "max_wall_per_job")
)
# RPC error texts meaning slurmctld (or slurmdbd) did not answer, as in `backend.py`.
CONTROLLER_GONE = ("Unable to contact slurm controller", "Socket timed out", "Connection refused")
DBD_GONE = ("slurmdbd", "onnection", "database")
# pyslurm.ReservationFlags member → the flag scontrol prints.
RESERVATION_FLAGS = {
    "MAINTENANCE": "MAINT",
    "IGNORE_RUNNING_JOBS": "IGNORE_JOBS",
    "SPECIFIC_NODES": "SPEC_NODES",
    "STATIC_NODES": "STATIC",
    "PARTITION_NODES_ONLY": "PART_NODES",
    "PURGE": "PURGE_COMP",
    "NO_JOB_HOLD_AFTER_END": "NO_HOLD_JOBS_AFTER_END",
}
T = TypeVar("T")
_JOB_EVENTS = ("submitted", "started", "completed", "canceled", "failed")


def _import() -> ModuleType:
    return importlib.import_module("pyslurm")


@dataclass
class PyslurmBackend:
    """`slurm_conf` must be the process's own SLURM_CONF: libslurm reads it once."""

    slurm_conf: str | None = None
    module: Callable[[], ModuleType] = _import

    def diag(self) -> Diag:
        return self._call("diag", lambda m: to_diag(m.slurmctld.diag()))

    def nodes(self) -> list[Node]:
        return self._call("nodes", m_load("Nodes", to_node))

    def partitions(self) -> list[Partition]:
        return self._call("partitions", m_load("Partitions", to_partition))

    def jobs(self) -> list[Job]:
        return self._call("jobs", m_load("Jobs", to_job))

    def reservations(self) -> list[Reservation]:
        return self._call("reservations", m_load("Reservations", to_reservation))

    def qos(self) -> list[Qos]:
        return self._call("qos", _load_qos)

    def _call(self, kind: Kind, read: Callable[[ModuleType], T]) -> T:
        m = self._pyslurm()
        try:
            return read(m)
        except Exception as exc:
            raise failure(kind, exc, getattr(m, "RPCError", ())) from exc

    def _pyslurm(self) -> ModuleType:
        """pyslurm, imported with this cluster's SLURM_CONF (set for the process)."""
        if self.slurm_conf:
            given = os.environ.setdefault("SLURM_CONF", self.slurm_conf)
            if given != self.slurm_conf:
                raise CommandFailed("import pyslurm", f"this process uses SLURM_CONF={given}")
        try:
            return self.module()
        except ImportError as exc:
            raise CommandFailed("import pyslurm", str(exc)) from exc


def m_load(name: str, convert: Callable[[Any], T]) -> Callable[[ModuleType], list[T]]:
    """A reader: `pyslurm.<name>.load()`, each value converted."""
    return lambda m: [convert(x) for x in getattr(m, name).load().values()]


def _load_qos(m: ModuleType) -> list[Qos]:
    conn = m.db.Connection.open()
    try:
        return [to_qos(q) for q in m.db.QualitiesOfService.load(conn).values()]
    finally:
        conn.close()


def failure(kind: Kind, exc: Exception, rpc_error: Any) -> SlurmError:
    """The SlurmError for what a pyslurm call raised."""
    call, text = CALLS[kind], str(exc) or type(exc).__name__
    if not isinstance(exc, rpc_error):
        return OutputInvalid(call, f"{type(exc).__name__}: {text}")
    if kind == "qos":
        gone = any(s in text for s in DBD_GONE)
        return (AccountingUnreachable if gone else CommandFailed)(call, text)
    if any(s in text for s in CONTROLLER_GONE):
        return ControllerUnreachable(call, text)
    return CommandFailed(call, text)


def usable(slurm_version: str, module: Callable[[], ModuleType] = _import) -> bool:
    """pyslurm imports and was made for this Slurm release (pyslurm 22.5 for 22.05)."""
    try:
        version = str(module().__version__)
    except Exception:
        return False
    return _release(version) is not None and _release(version) == _release(slurm_version)


def _release(version: str) -> tuple[int, int] | None:
    m = re.search(r"(\d+)\.(\d+)", version)
    return (int(m[1]), int(m[2])) if m else None


# --- pyslurm objects → model values (pure) -------------------------------------------------


def to_diag(s: Any) -> Diag:
    return Diag(
        since=from_epoch(s.data_since),
        server_threads=to_int(s.server_thread_count),
        agent_queue_size=to_int(s.agent_queue_size),
        agent_count=to_int(s.agent_count),
        dbd_agent_queue_size=to_int(s.dbd_agent_queue_size),
        jobs={e: to_int(getattr(s, f"jobs_{e}")) for e in _JOB_EVENTS},
        main_last_cycle_us=to_int(s.schedule_cycle_last),
        main_mean_cycle_us=to_int(s.schedule_cycle_mean),
        main_cycles=to_int(s.schedule_cycle_counter),
        backfill_last_cycle_us=to_int(s.backfill_cycle_last),
        backfill_mean_cycle_us=to_int(s.backfill_cycle_mean),
        backfill_cycles=to_int(s.backfill_cycle_counter),
        rpcs={str(name): to_int(t.count) for name, t in s.rpcs_by_type.items()},
    )


def to_node(n: Any) -> Node:
    """`state` is libslurm's complete state string: `IDLE+DRAIN`, `DOWN+NOT_RESPONDING`."""
    base, flags = node_state(n.state or "UNKNOWN")
    return Node(
        name=str(n.name),
        state=base,
        flags=flags,
        reason=n.reason or "",
        reason_since=from_epoch(n.reason_time),
        reason_by=n.reason_user or None,
        partitions=tuple(n.partitions or ()),
        cpus=to_int(n.total_cpus),
        cpus_alloc=to_int(n.allocated_cpus),
        memory_mb=to_int(n.real_memory),
        memory_alloc_mb=to_int(n.allocated_memory),
        gpus=gpus(n.configured_gres),
        gpus_alloc=gpus(n.allocated_gres),
    )


def gpus(gres: Any) -> int:
    """GPUs in pyslurm's gres dict: `{"gpu": 2}`, `{"gpu:a100": {"count": "4", …}}`."""
    total = 0
    for name, value in (gres or {}).items():
        if name == "gpu" or str(name).startswith("gpu:"):
            total += to_int(value.get("count") if isinstance(value, dict) else value)
    return total


def to_job(j: Any) -> Job:
    """Read as squeue's record (pyslurm has no job flags: a start counts when the job
    runs, or ended after it)."""
    return json_job(
        {
            "job_id": j.id,
            "partition": j.partition,
            "qos": j.qos,
            "job_state": j.state,
            "state_reason": j.state_reason,
            "array_task_string": j.array_tasks_waiting,
            "array_task_id": j.array_task_id,
            "submit_time": j.submit_time,
            "eligible_time": j.eligible_time,
            "start_time": j.start_time,
            "end_time": j.end_time,
            "name": j.name,
        }
    )


def to_partition(p: Any) -> Partition:
    return Partition(
        name=str(p.name),
        state=str(p.state or "UNKNOWN").upper(),
        nodes=expand_hostlist(p.nodes),
        total_cpus=to_int(p.total_cpus),
        default=bool(p.is_default),
    )


def to_reservation(r: Any) -> Reservation:
    return Reservation(
        name=str(r.name),
        state="ACTIVE" if r.is_active else "INACTIVE",
        start=from_epoch(r.start_time),
        end=from_epoch(r.end_time),
        nodes=expand_hostlist(r.nodes),
        flags=frozenset(RESERVATION_FLAGS.get(f, f) for f in flag_names(r.flags)),
    )


def flag_names(flags: Any) -> list[str]:
    """The member names set in an `enum.Flag` value (pyslurm's `ReservationFlags`)."""
    return [str(m.name) for m in type(flags) if m.value and m in flags]


def to_qos(q: Any) -> Qos:
    mode = str(q.preempt_mode or "").lower()
    return Qos(
        name=str(q.name),
        priority=to_int(q.priority),
        preempt=tuple(str(p) for p in q.preempt or ()),
        preempt_mode="cluster" if mode in ("", "off") else mode,
        usage_factor=float(q.usage_factor if q.usage_factor is not None else 1.0),
        max_wall=minutes_text(q.max_wall_per_job),
    )
