"""A stand-in for pyslurm 25.11's object API, fed from what the real test cluster answered.

pyslurm cannot be built against Debian's Slurm 22.05 (see shared/notes), so the pyslurm
backend is tested against this module, installed as `sys.modules["pyslurm"]`. It mirrors
the documented names: `Nodes`, `Partitions`, `Jobs`, `Reservations` (multi-cluster maps,
read with `.values()`) and their `Node`, `Partition`, `Job`, `Reservation` (with
`ReservationFlags`); `slurmctld.diag()` → `Statistics` with `rpcs_by_type` of `RPCType`;
`db.Connection.open()` and `db.QualitiesOfService.load(conn)` → `QualityOfService`;
`RPCError(errno, msg)`; `__version__`. QoS attributes beyond name/description/id are the
backend's unconfirmed names (`pyslurm_backend.UNCONFIRMED`).

The objects are built from one recorded scenario's slurmrestd answers
(`tests/data/slurm/22.05/<scenario>/restd/`), which hold the same cluster state as the
scenario's command outputs, turned into what libslurm hands pyslurm: complete node state
strings (`IDLE+DRAIN`), gres dicts, raw epoch times (None for 0), flag enums. A request
slurmrestd failed makes the matching load raise `RPCError` with the message libslurm gave
at that moment (the recorded sdiag stderr) or pyslurm's own message for slurmdbd.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

CLUSTER = "facstat"
DBD_DOWN = "Failed to open connection to slurmdbd"  # pyslurm.db.Connection.open()
# restd/scontrol reservation flag → pyslurm.ReservationFlags member (libslurm's bits)
FLAG_MEMBERS = {
    "MAINT": "MAINTENANCE",
    "IGNORE_JOBS": "IGNORE_RUNNING_JOBS",
    "SPEC_NODES": "SPECIFIC_NODES",
    "ALL_NODES": "ALL_NODES",
    "ANY_NODES": "ANY_NODES",
    "STATIC": "STATIC_NODES",
    "PART_NODES": "PARTITION_NODES_ONLY",
    "PURGE_COMP": "PURGE",
    "NO_HOLD_JOBS_AFTER_END": "NO_JOB_HOLD_AFTER_END",
    "OVERLAP": "OVERLAP",
    "FLEX": "FLEX",
    "MAGNETIC": "MAGNETIC",
}


class RPCError(Exception):
    def __init__(self, errno: int = -1, msg: str | None = None) -> None:
        self.errno, self.msg = errno, msg or "Unspecified error"
        super().__init__(self.msg)


class ReservationFlags(enum.Flag):
    MAINTENANCE = enum.auto()
    MAGNETIC = enum.auto()
    FLEX = enum.auto()
    IGNORE_RUNNING_JOBS = enum.auto()
    ANY_NODES = enum.auto()
    STATIC_NODES = enum.auto()
    PARTITION_NODES_ONLY = enum.auto()
    PURGE = enum.auto()
    SPECIFIC_NODES = enum.auto()
    NO_JOB_HOLD_AFTER_END = enum.auto()
    OVERLAP = enum.auto()
    ALL_NODES = enum.auto()


class MultiClusterMap:
    """pyslurm.xcollections.MultiClusterMap: {cluster: {key: value}}."""

    def __init__(self, items: dict[Any, Any]) -> None:
        self.data = {CLUSTER: items}

    def values(self) -> list[Any]:
        return [v for items in self.data.values() for v in items.values()]

    def keys(self) -> list[Any]:
        return [k for items in self.data.values() for k in items]

    def __len__(self) -> int:
        return len(self.values())


@dataclass
class Recording:
    """One scenario's slurmrestd answers, and the moment they were taken."""

    scenario: Path
    now: datetime

    def answer(self, name: str) -> dict[str, Any]:
        """The answer's body; RPCError when slurmrestd reported a failure."""
        status = self.scenario / "restd" / f"{name}.status"
        doc: dict[str, Any] = json.loads((self.scenario / "restd" / f"{name}.json").read_text())
        if status.exists() or doc.get("errors"):
            raise self.error(name)
        return doc

    def error(self, name: str) -> RPCError:
        if name == "qos":
            return RPCError(msg=DBD_DOWN)
        err = self.scenario / "sdiag.err"
        text = err.read_text().strip() if err.exists() else ""
        return RPCError(msg=text.split(": ", 1)[-1] or None)


def _time(value: Any) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def gres_dict(text: str | None) -> dict[str, Any]:
    """pyslurm's cstr.to_gres_dict: `gpu:2` → {"gpu": 2}; `gpu:1(IDX:0)` → {"gpu": {…}}."""
    out: dict[str, Any] = {}
    for item in re.split(r",(?=[^,]+?:)", text or ""):
        if not item or item == "(null)":
            continue
        name, typ, *rest = re.split(r":(?=[^:]+?)", item.replace("(", ":", 1).replace(")", ""))
        count, typ_name = (typ, None) if typ.isdigit() else (rest[0], typ)
        key = f"{name}:{typ_name}" if typ_name else name
        idx = "IDX" in rest
        out[key] = {"count": count, "indexes": rest[-1]} if idx else int(count)
    return out


# --- the objects -----------------------------------------------------------------------------


@dataclass
class Node:
    name: str
    state: str
    reason: str | None
    reason_time: int | None
    reason_user: str | None
    partitions: list[str]
    total_cpus: int
    allocated_cpus: int
    real_memory: int
    allocated_memory: int
    configured_gres: dict[str, Any]
    allocated_gres: dict[str, Any]
    cluster: str = CLUSTER

    @classmethod
    def from_restd(cls, r: dict[str, Any]) -> Node:
        return cls(
            name=r["name"],
            state="+".join([str(r["state"]).upper(), *r.get("state_flags", [])]),
            reason=r.get("reason") or None,
            reason_time=_time(r.get("reason_changed_at")),
            reason_user=r.get("reason_set_by_user"),
            partitions=list(r.get("partitions") or []),
            total_cpus=r["cpus"],
            allocated_cpus=r["alloc_cpus"],
            real_memory=r["real_memory"],
            allocated_memory=r["alloc_memory"],
            configured_gres=gres_dict(r.get("gres")),
            allocated_gres=gres_dict(r.get("gres_used")),
        )


@dataclass
class Partition:
    name: str
    state: str
    nodes: str
    total_cpus: int
    is_default: bool
    cluster: str = CLUSTER

    @classmethod
    def from_restd(cls, r: dict[str, Any]) -> Partition:
        default = "default" in (r.get("flags") or [])
        return cls(r["name"], r["state"], r["nodes"], r["total_cpus"], default)


@dataclass
class Job:
    id: int
    name: str
    user_name: str
    partition: str
    qos: str
    state: str
    state_reason: str
    submit_time: int | None
    eligible_time: int | None
    start_time: int | None
    end_time: int | None
    array_task_id: int | None
    array_tasks_waiting: str | None
    cluster: str = CLUSTER

    @classmethod
    def from_restd(cls, r: dict[str, Any]) -> Job:
        return cls(
            id=r["job_id"],
            name=r["name"],
            user_name=r["user_name"],
            partition=r["partition"],
            qos=r["qos"],
            state=r["job_state"],
            state_reason=r["state_reason"],
            submit_time=_time(r.get("submit_time")),
            eligible_time=_time(r.get("eligible_time")),
            start_time=_time(r.get("start_time")),
            end_time=_time(r.get("end_time")),
            array_task_id=r.get("array_task_id"),
            array_tasks_waiting=r.get("array_task_string") or None,
        )


@dataclass
class Reservation:
    name: str
    start_time: int | None
    end_time: int | None
    nodes: str
    flags: ReservationFlags
    now: datetime = field(repr=False)
    cluster: str = CLUSTER

    @property
    def is_active(self) -> bool:
        """As pyslurm: start <= now <= end, at the moment of the recording."""
        now = self.now.timestamp()
        return bool(self.start_time and self.end_time and self.start_time <= now <= self.end_time)

    @classmethod
    def from_restd(cls, r: dict[str, Any], now: datetime) -> Reservation:
        flags = ReservationFlags(0)
        for f in r.get("flags") or []:
            flags |= ReservationFlags[FLAG_MEMBERS[f]]
        start, end = _time(r.get("start_time")), _time(r.get("end_time"))
        return cls(r["name"], start, end, r["node_list"], flags, now)


@dataclass
class RPCType:
    id: int
    name: str
    count: int
    time: int
    average_time: int


@dataclass
class Statistics:
    data_since: int | None
    server_thread_count: int
    agent_queue_size: int
    agent_count: int
    dbd_agent_queue_size: int
    jobs_submitted: int
    jobs_started: int
    jobs_completed: int
    jobs_canceled: int
    jobs_failed: int
    schedule_cycle_last: int
    schedule_cycle_mean: int
    schedule_cycle_counter: int
    backfill_cycle_last: int
    backfill_cycle_mean: int
    backfill_cycle_counter: int
    rpcs_by_type: dict[str, RPCType]

    @classmethod
    def from_restd(cls, s: dict[str, Any]) -> Statistics:
        same = ("server_thread_count", "agent_queue_size", "agent_count", "dbd_agent_queue_size")
        jobs = ("submitted", "started", "completed", "canceled", "failed")
        return cls(
            data_since=_time(s["req_time_start"]),
            **{k: s[k] for k in same},
            **{f"jobs_{e}": s[f"jobs_{e}"] for e in jobs},
            schedule_cycle_last=s["schedule_cycle_last"],
            schedule_cycle_mean=s["schedule_cycle_mean"],
            schedule_cycle_counter=s["schedule_cycle_total"],
            backfill_cycle_last=s["bf_cycle_last"],
            backfill_cycle_mean=s["bf_cycle_mean"],
            backfill_cycle_counter=s["bf_cycle_counter"],
            rpcs_by_type={r["message_type"]: _rpc(r) for r in s["rpcs_by_message_type"]},
        )


def _rpc(r: dict[str, Any]) -> RPCType:
    return RPCType(r["type_id"], r["message_type"], r["count"], r["total_time"], r["average_time"])


@dataclass
class QualityOfService:
    name: str
    description: str
    id: int
    priority: int
    preempt: list[str]
    preempt_mode: str
    usage_factor: float
    max_wall_per_job: int | None

    @classmethod
    def from_restd(cls, r: dict[str, Any]) -> QualityOfService:
        preempt = r.get("preempt") or {}
        wall = r["limits"]["max"]["wall_clock"]["per"]["job"]
        mode = ",".join(preempt.get("mode") or []) or "OFF"
        return cls(
            r["name"], r["description"], r["id"], r["priority"], list(preempt.get("list") or []),
            mode, r["usage_factor"], wall,
        )  # fmt: skip


class Connection:
    def __init__(self) -> None:
        self.is_open = True

    def close(self) -> None:
        self.is_open = False


# --- the module ------------------------------------------------------------------------------


def module(scenario: Path, now: datetime, version: str = "25.11.0") -> ModuleType:
    """A `pyslurm` module answering from `scenario`'s recording taken at `now`."""
    rec = Recording(scenario, now)
    m = ModuleType("pyslurm")
    m.__dict__.update(
        __version__=version,
        RPCError=RPCError,
        ReservationFlags=ReservationFlags,
        Node=Node,
        Partition=Partition,
        Job=Job,
        Reservation=Reservation,
        Nodes=_collection(lambda: [Node.from_restd(r) for r in rec.answer("nodes")["nodes"]]),
        Partitions=_collection(lambda: _partitions(rec)),
        Jobs=_collection(lambda: [Job.from_restd(r) for r in rec.answer("jobs")["jobs"]]),
        Reservations=_collection(lambda: _reservations(rec)),
        slurmctld=SimpleNamespace(diag=lambda: _statistics(rec), Statistics=Statistics),
        db=SimpleNamespace(
            Connection=SimpleNamespace(open=lambda: _connect(rec)),
            QualitiesOfService=SimpleNamespace(load=lambda db_conn, **kw: _qos(rec, db_conn)),
        ),
    )
    return m


def _collection(items: Any) -> SimpleNamespace:
    def load() -> MultiClusterMap:
        return MultiClusterMap({_key(x): x for x in items()})

    return SimpleNamespace(load=load)


def _key(x: Any) -> Any:
    return x.id if isinstance(x, Job) else x.name


def _partitions(rec: Recording) -> list[Partition]:
    return [Partition.from_restd(r) for r in rec.answer("partitions")["partitions"]]


def _reservations(rec: Recording) -> list[Reservation]:
    records = rec.answer("reservations")["reservations"]
    return [Reservation.from_restd(r, rec.now) for r in records]


def _statistics(rec: Recording) -> Statistics:
    return Statistics.from_restd(rec.answer("diag")["statistics"])


def _connect(rec: Recording) -> Connection:
    if (rec.scenario / "restd" / "qos.status").exists():
        raise RPCError(msg=DBD_DOWN)
    return Connection()


def _qos(rec: Recording, conn: Connection) -> dict[str, QualityOfService]:
    assert conn.is_open, "QualitiesOfService.load needs an open db connection"
    return {r["name"]: QualityOfService.from_restd(r) for r in rec.answer("qos")["QOS"]}
