"""slurmrestd openapi/v0.0.38 and dbv0.0.38 answers → `collectors.slurm.model` values. Pure.

Each parser takes one answer (`Answer`: the request, its HTTP status and body; recorded
samples live in `tests/data/slurm/22.05/*/restd/`). A body whose `errors` list is not
empty, or a status other than 200, raises the error the CLI backend raises for the same
failure. slurmrestd 22.05 keeps no errno of a failed slurmctld RPC: with slurmctld
stopped, /diag answers 500 with `{"source": "slurm_get_statistics", "error": "Unspecified
error"}`, so an unspecified failure of a slurmctld RPC counts as the controller not
answering. Node and job records are the ones `sinfo --json` and `squeue --json` print
(the same v0.0.38 plugin), so they are read by the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from collectors.slurm import parse
from collectors.slurm.errors import (
    AccountingUnreachable,
    CommandFailed,
    ControllerUnreachable,
    OutputInvalid,
    SlurmError,
)
from collectors.slurm.fields import expand_hostlist, from_epoch, to_int
from collectors.slurm.model import Diag, Job, Node, Partition, Qos, Reservation

# Error texts meaning slurmctld, or slurmdbd for /slurmdb, did not answer.
CONTROLLER_GONE = ("Unable to contact slurm controller", "Socket timed out", "Unspecified error")
DBD_GONE = ("Unable to connect to database", "slurmdbd", "Connection refused")
DBD_CONNECTION_ERRNO = 7000  # ESLURM_DB_CONNECTION
_JOB_EVENTS = ("submitted", "started", "completed", "canceled", "failed")


@dataclass(frozen=True, slots=True)
class Answer:
    """What slurmrestd answered to one request (`GET /slurm/v0.0.38/nodes`)."""

    request: str
    status: int
    body: str

    @property
    def accounting(self) -> bool:
        return "/slurmdb/" in self.request


def records(answer: Answer, key: str) -> list[dict[str, Any]]:
    """The records under `key`; Slurm's errors or a non-200 status raise."""
    doc = _document(answer)
    errors = [e for e in doc.get("errors") or [] if isinstance(e, dict)]
    if errors or answer.status != 200:
        raise failure(answer, errors)
    if not isinstance(doc.get(key), list):
        raise OutputInvalid(answer.request, f"no '{key}' list in the JSON document")
    return [r for r in doc[key] if isinstance(r, dict)]


def _document(answer: Answer) -> dict[str, Any]:
    try:
        doc = parse.loads(answer.body)
    except ValueError as exc:
        if answer.status != 200:
            raise failure(answer, []) from exc
        raise OutputInvalid(answer.request, f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise OutputInvalid(answer.request, "not a JSON object")
    return doc


def failure(answer: Answer, errors: list[dict[str, Any]]) -> SlurmError:
    """The error for a failed answer, classified as the CLI backend classifies stderr."""
    text = "; ".join(_error_text(e) for e in errors) or _http_text(answer)
    numbers = {e.get("error_number", e.get("errno")) for e in errors}
    if answer.accounting:
        gone = DBD_CONNECTION_ERRNO in numbers or any(s in text for s in DBD_GONE)
        return (AccountingUnreachable if gone else CommandFailed)(answer.request, text)
    if any(s in text for s in CONTROLLER_GONE):
        return ControllerUnreachable(answer.request, text)
    return CommandFailed(answer.request, text)


def _error_text(e: dict[str, Any]) -> str:
    words = (e.get("source"), e.get("description"), e.get("error"))
    return ": ".join(str(w) for w in words if w) or "error without text"


def _http_text(answer: Answer) -> str:
    first = next((line.strip() for line in answer.body.splitlines() if line.strip()), "")
    return f"HTTP {answer.status}" + (f": {first[:200]}" if first else "")


# --- slurmctld ----------------------------------------------------------------------------


def parse_diag(answer: Answer) -> Diag:
    """The figures of /diag, named as sdiag prints them."""
    doc = _document(answer)
    errors = [e for e in doc.get("errors") or [] if isinstance(e, dict)]
    stats = doc.get("statistics")
    if errors or answer.status != 200:
        raise failure(answer, errors)
    if not isinstance(stats, dict) or "server_thread_count" not in stats:
        raise OutputInvalid(answer.request, "no 'statistics' with 'server_thread_count'")
    return _diag(stats)


def _diag(s: dict[str, Any]) -> Diag:
    return Diag(
        since=from_epoch(s.get("req_time_start")),
        server_threads=to_int(s.get("server_thread_count")),
        agent_queue_size=to_int(s.get("agent_queue_size")),
        agent_count=to_int(s.get("agent_count")),
        dbd_agent_queue_size=to_int(s.get("dbd_agent_queue_size")),
        jobs={e: to_int(s.get(f"jobs_{e}")) for e in _JOB_EVENTS},
        main_last_cycle_us=to_int(s.get("schedule_cycle_last")),
        main_mean_cycle_us=to_int(s.get("schedule_cycle_mean")),
        main_cycles=to_int(s.get("schedule_cycle_total")),
        backfill_last_cycle_us=to_int(s.get("bf_cycle_last")),
        backfill_mean_cycle_us=to_int(s.get("bf_cycle_mean")),
        backfill_cycles=to_int(s.get("bf_cycle_counter")),
        rpcs=_rpcs(s.get("rpcs_by_message_type")),
    )


def _rpcs(items: Any) -> dict[str, int]:
    rows = [r for r in items or () if isinstance(r, dict) and r.get("message_type")]
    return {str(r["message_type"]): to_int(r.get("count")) for r in rows}


def parse_nodes(answer: Answer) -> list[Node]:
    return [parse._json_node(r) for r in records(answer, "nodes") if r.get("name")]


def parse_jobs(answer: Answer) -> list[Job]:
    rows = records(answer, "jobs")
    return [parse.json_job(r) for r in rows if isinstance(r.get("job_id"), int)]


def parse_partitions(answer: Answer) -> list[Partition]:
    return [_partition(r) for r in records(answer, "partitions") if r.get("name")]


def _partition(r: dict[str, Any]) -> Partition:
    return Partition(
        name=str(r["name"]),
        state=str(r.get("state") or "UNKNOWN").upper(),
        nodes=expand_hostlist(r.get("nodes")),
        total_cpus=to_int(r.get("total_cpus")),
        default="default" in (r.get("flags") or ()),
    )


def parse_reservations(answer: Answer, now: datetime) -> list[Reservation]:
    """Reservations; ACTIVE when `now` lies between start and end, as scontrol says."""
    return [_reservation(r, now) for r in records(answer, "reservations") if r.get("name")]


def _reservation(r: dict[str, Any], now: datetime) -> Reservation:
    start, end = from_epoch(r.get("start_time")), from_epoch(r.get("end_time"))
    active = start is not None and end is not None and start <= now <= end
    return Reservation(
        name=str(r["name"]),
        state="ACTIVE" if active else "INACTIVE",
        start=start,
        end=end,
        nodes=expand_hostlist(r.get("node_list")),
        flags=frozenset(str(f).upper() for f in r.get("flags") or ()),
    )


# --- slurmdbd -----------------------------------------------------------------------------


def parse_qos(answer: Answer) -> list[Qos]:
    return [_qos(r) for r in records(answer, "QOS") if r.get("name")]


def _qos(r: dict[str, Any]) -> Qos:
    preempt = r.get("preempt") or {}
    modes = [str(m).lower() for m in preempt.get("mode") or ()]
    wall = (((r.get("limits") or {}).get("max") or {}).get("wall_clock") or {}).get("per") or {}
    usage = r.get("usage_factor")
    return Qos(
        name=str(r["name"]),
        priority=to_int(r.get("priority")),
        preempt=tuple(str(p) for p in preempt.get("list") or ()),
        preempt_mode=",".join(modes) or "cluster",
        usage_factor=float(usage) if isinstance(usage, int | float) else 1.0,
        max_wall=minutes_text(wall.get("job")),
    )


def minutes_text(minutes: Any) -> str:
    """Minutes as sacctmgr prints a time limit: `1-02:03:00`, `00:30:00`; "" when none."""
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
        return ""
    days, rest = divmod(minutes * 60, 86400)
    clock = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days}-{clock}" if days else clock
