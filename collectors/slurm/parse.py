"""Slurm 22.05 command output → `collectors.slurm.model` values. Pure functions.

Each parser takes the text a command printed (recorded samples live in
`tests/data/slurm/22.05/`). Records or lines that cannot be read are skipped;
output that is not what the command prints at all raises `OutputInvalid`, and
`--json` output that carries Slurm errors raises `CommandFailed`. Times printed
without a zone (scontrol) are read in `tz`, the zone the command ran in.

The CLI backend reads jobs from `squeue -O` (`parse_squeue`); `squeue --json`
(`parse_squeue_json`) gives the same jobs, and its records are slurmrestd's and,
rebuilt, pyslurm's (`json_job`).
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo
from typing import Any

from collectors.slurm import reasons
from collectors.slurm.errors import CommandFailed, OutputInvalid
from collectors.slurm.fields import (
    array_size,
    epoch,
    expand_hostlist,
    from_epoch,
    gres_count,
    local_time,
    node_state,
    records,
    split_top,
    to_int,
)
from collectors.slurm.model import (
    FINISHED_STATES,
    STARTED_STATES,
    Diag,
    Job,
    Node,
    Partition,
    Qos,
    Reservation,
)

_REASON = re.compile(r"^(?P<text>.*?)\s*\[(?P<by>[^@\]]*)@(?P<at>[^\]]+)\]$")
_RPC = re.compile(r"^\s*(?P<name>[A-Z][A-Z0-9_]+)\s*\(\s*\d+\)\s*count:(?P<count>\d+)")
_EPOCH = re.compile(r"\((\d+)\)\s*$")


# --- JSON (sinfo --json, squeue --json) -------------------------------------------------


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic GC off for a parse: 100,000 jobs are 100,000 new objects (millions of
    containers in `squeue --json`), and collections during the parse free none of them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def loads(text: str) -> Any:
    """`json.loads`, the GC paused (slurmrestd's /jobs is `squeue --json`'s size)."""
    with _gc_paused():
        return json.loads(text)


def load_json(text: str, key: str, command: str) -> list[dict[str, Any]]:
    """The records under `key` of a `--json` document; Slurm's own errors raise."""
    try:
        doc = loads(text)
    except ValueError as exc:
        raise OutputInvalid(command, f"not JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get(key), list):
        raise OutputInvalid(command, f"no '{key}' list in the JSON document")
    errors = [e for e in doc.get("errors") or [] if isinstance(e, dict)]
    if errors:
        raise CommandFailed(command, "; ".join(_json_error(e) for e in errors))
    return [r for r in doc[key] if isinstance(r, dict)]


def _json_error(e: dict[str, Any]) -> str:
    words = (e.get("source"), e.get("description"), e.get("error"))
    return ": ".join(str(w) for w in words if w) or "error without text"


def parse_sinfo_json(text: str) -> list[Node]:
    """Nodes from `sinfo --json` (22.05: `state` a word, `state_flags` a list)."""
    records = load_json(text, "nodes", "sinfo --json")
    return [_json_node(r) for r in records if r.get("name")]


def _json_node(r: dict[str, Any]) -> Node:
    state = r.get("state") or "UNKNOWN"
    words = [str(s) for s in state] if isinstance(state, list) else [str(state)]
    return Node(
        name=str(r["name"]),
        state=words[0].upper() if words else "UNKNOWN",
        flags=frozenset(str(f).upper() for f in [*words[1:], *(r.get("state_flags") or [])]),
        reason=str(r.get("reason") or ""),
        reason_since=from_epoch(r.get("reason_changed_at")),
        reason_by=r.get("reason_set_by_user") or None,
        partitions=tuple(str(p) for p in r.get("partitions") or ()),
        cpus=to_int(r.get("cpus")),
        cpus_alloc=to_int(r.get("alloc_cpus")),
        memory_mb=to_int(r.get("real_memory")),
        memory_alloc_mb=to_int(r.get("alloc_memory")),
        gpus=gres_count(r.get("gres")),
        gpus_alloc=gres_count(r.get("gres_used")),
    )


def parse_squeue_json(text: str) -> list[Job]:
    """Jobs from `squeue --json`, finished ones included (they linger for MinJobAge)."""
    records = load_json(text, "jobs", "squeue --json")
    return [json_job(r) for r in records if isinstance(r.get("job_id"), int)]


def json_job(r: dict[str, Any]) -> Job:
    """One job record of `squeue --json` or slurmrestd's /jobs."""
    state = str(r.get("job_state") or "UNKNOWN").upper()
    array_spec = str(r.get("array_task_string") or "")
    is_array_record = state == "PENDING" and array_spec and r.get("array_task_id") is None
    start, end = epoch(r.get("start_time")), epoch(r.get("end_time"))
    started = state in STARTED_STATES or "JOB_WAS_RUNNING" in (r.get("flags") or ())
    return Job(
        job_id=r["job_id"],
        partition=str(r.get("partition") or "").split(",")[0],
        qos=str(r.get("qos") or ""),
        state=state,
        reason=str(r.get("state_reason") or "None"),
        tasks=array_size(array_spec) if is_array_record else 1,
        submit=epoch(r.get("submit_time")),
        eligible=epoch(r.get("eligible_time")),
        start=start if started or _ran(state, start, end) else None,
        name=str(r.get("name") or ""),
    )


def _ran(state: str, start: int | None, end: int | None) -> bool:
    """Whether a finished job's start is a real one: a job cancelled while pending gets
    start = end = the time it was cancelled (and a pending job's start is an estimate)."""
    return state in FINISHED_STATES and start is not None and end is not None and start < end


# --- squeue -O --------------------------------------------------------------------------


def parse_squeue(text: str) -> list[Job]:
    """Jobs from `squeue -h -a -t all -O` with `render.JOB_FIELDS` (`|` after each,
    epoch times, "N/A" for none), finished ones included (they linger for MinJobAge)."""
    lines = text.splitlines()
    strings: dict[str, str] = {}  # one str per distinct partition, QoS, state, reason
    with _gc_paused():
        jobs = [_squeue_job(f, strings) for f in _rows(lines)]
    if not jobs and any(line.strip() for line in lines):
        raise OutputInvalid("squeue", "no line of `|`-separated job fields")
    return jobs


def _rows(lines: list[str]) -> Iterator[list[str]]:
    rows = (line.split("|", 10) for line in lines)
    return (f for f in rows if len(f) == 11 and f[0].isdigit())


def _squeue_job(f: list[str], strings: dict[str, str]) -> Job:
    """One row. squeue prints no job flags: as for pyslurm, a start counts when the job
    runs, or ended after it (slurmctld keeps JOB_WAS_RUNNING only while it runs)."""
    job_id, parts, qos, state, reason, submit, eligible, start, end, task, name = f
    started = state in STARTED_STATES or (
        state in FINISHED_STATES and _ran(state, _epoch(start), _epoch(end))
    )
    is_array_record = state == "PENDING" and task != "N/A" and not task.isdigit()
    part = parts.split(",", 1)[0]  # a pending job may name several
    return Job(
        job_id=int(job_id),
        partition=strings.setdefault(part, part),
        qos=strings.setdefault(qos, qos),
        state=strings.setdefault(state, state),
        reason=reasons.code(reason),
        tasks=array_size(task) if is_array_record else 1,
        submit=_epoch(submit),
        eligible=_epoch(eligible),
        start=_epoch(start) if started else None,
        name=name,
    )


def _epoch(text: str) -> int | None:
    """squeue's time with SLURM_TIME_FORMAT=%s: epoch seconds, or N/A / Unknown."""
    return (int(text) or None) if text.isdigit() else None


# --- scontrol -o ------------------------------------------------------------------------


def parse_scontrol_nodes(text: str, tz: tzinfo = UTC) -> list[Node]:
    """Nodes from `scontrol -o show node`."""
    return [_scontrol_node(r, tz) for r in records(text, "NodeName")]


def _scontrol_node(r: dict[str, str], tz: tzinfo) -> Node:
    base, flags = node_state(r.get("State", "UNKNOWN"))
    reason, by, since = _reason(r.get("Reason", ""), tz)
    alloc = dict(kv.partition("=")[::2] for kv in split_top(r.get("AllocTRES", "")))
    return Node(
        name=r["NodeName"],
        state=base,
        flags=flags,
        reason=reason,
        reason_since=since,
        reason_by=by,
        partitions=tuple(p for p in r.get("Partitions", "").split(",") if p),
        cpus=to_int(r.get("CPUTot")),
        cpus_alloc=to_int(r.get("CPUAlloc")),
        memory_mb=to_int(r.get("RealMemory")),
        memory_alloc_mb=to_int(r.get("AllocMem")),
        gpus=gres_count(r.get("Gres")),
        gpus_alloc=to_int(alloc.get("gres/gpu")),
    )


def _reason(text: str, tz: tzinfo) -> tuple[str, str | None, datetime | None]:
    """`bad DIMM [root@2026-11-21T12:09:15]` → ("bad DIMM", "root", that time)."""
    m = _REASON.match(text)
    if not m:
        return text, None, None
    return m["text"], m["by"] or None, local_time(m["at"], tz)


def parse_partitions(text: str) -> list[Partition]:
    """Partitions from `scontrol -o show partition`."""
    return [
        Partition(
            name=r["PartitionName"],
            state=r.get("State", "UNKNOWN").upper(),
            nodes=expand_hostlist(r.get("Nodes")),
            total_cpus=to_int(r.get("TotalCPUs")),
            default=r.get("Default") == "YES",
        )
        for r in records(text, "PartitionName")
    ]


def parse_reservations(text: str, tz: tzinfo = UTC) -> list[Reservation]:
    """Reservations from `scontrol -o show reservation` ("No reservations…" → [])."""
    return [
        Reservation(
            name=r["ReservationName"],
            state=r.get("State", "UNKNOWN").upper(),
            start=local_time(r.get("StartTime"), tz),
            end=local_time(r.get("EndTime"), tz),
            nodes=expand_hostlist(r.get("Nodes")),
            flags=frozenset(f for f in r.get("Flags", "").upper().split(",") if f),
        )
        for r in records(text, "ReservationName")
    ]


# --- sacctmgr -P ------------------------------------------------------------------------


def parse_qos(text: str) -> list[Qos]:
    """QoS from `sacctmgr -P show qos` (a header line, then `|`-separated rows)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("Name|"):
        raise OutputInvalid("sacctmgr -P show qos", "no 'Name|…' header line")
    header = lines[0].split("|")
    rows = [
        dict(zip(header, line.split("|"), strict=True))
        for line in lines[1:]
        if line.count("|") == len(header) - 1
    ]
    return [_qos(row) for row in rows if row["Name"]]


def _qos(row: dict[str, str]) -> Qos:
    try:
        usage = float(row.get("UsageFactor") or 1.0)
    except ValueError:
        usage = 1.0
    return Qos(
        name=row["Name"],
        priority=to_int(row.get("Priority")),
        preempt=tuple(p for p in (row.get("Preempt") or "").split(",") if p),
        preempt_mode=row.get("PreemptMode") or "cluster",
        usage_factor=usage,
        max_wall=row.get("MaxWall") or "",
    )


# --- sdiag ------------------------------------------------------------------------------

_SECTIONS = {
    "Main schedule statistics": "main",
    "Backfilling stats": "backfill",
    "Remote Procedure Call statistics by message type": "rpc",
    "Remote Procedure Call statistics by user": "users",
    "Pending RPC statistics": "pending",
}
_FIELDS = {
    ("", "Server thread count"): "server_threads",
    ("", "Agent queue size"): "agent_queue_size",
    ("", "Agent count"): "agent_count",
    ("", "DBD Agent queue size"): "dbd_agent_queue_size",
    ("main", "Last cycle"): "main_last_cycle_us",
    ("main", "Mean cycle"): "main_mean_cycle_us",
    ("main", "Total cycles"): "main_cycles",
    ("backfill", "Last cycle"): "backfill_last_cycle_us",
    ("backfill", "Mean cycle"): "backfill_mean_cycle_us",
    ("backfill", "Total cycles"): "backfill_cycles",
}
_JOB_EVENTS = ("submitted", "started", "completed", "canceled", "failed")


def parse_sdiag(text: str) -> Diag:
    """The figures of `sdiag`'s text report."""
    if "Server thread count" not in text:
        raise OutputInvalid("sdiag", "no 'Server thread count' line")
    fields: dict[str, Any] = {"jobs": {}, "rpcs": {}}
    section = ""
    for line in text.splitlines():
        section = next((s for h, s in _SECTIONS.items() if line.startswith(h)), section)
        _sdiag_line(line, section, fields)
    return Diag(**fields)


def _sdiag_line(line: str, section: str, fields: dict[str, Any]) -> None:
    if section == "rpc" and (m := _RPC.match(line)):
        fields["rpcs"][m["name"]] = int(m["count"])
        return
    if line.startswith("Data since") and (m := _EPOCH.search(line)):
        fields["since"] = from_epoch(m.group(1))
        return
    label, sep, value = line.strip().partition(":")
    if not sep:
        return
    if label.startswith("Jobs ") and label[5:] in _JOB_EVENTS and section == "":
        fields["jobs"][label[5:]] = to_int(value.strip())
    elif (name := _FIELDS.get((section, label))) is not None:
        fields[name] = to_int(value.strip())
