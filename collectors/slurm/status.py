"""Observations of one cluster's resources from a `Snapshot`: pure, `now` passed in.

- scheduler (urn:facstat:scheduler): `up` with sdiag's figures; `degraded` when
  slurmdbd does not answer (code `slurmdbd_unreachable`).
- partition: `down` when Slurm marks it DOWN/DRAIN/INACTIVE or no node can take
  work; `degraded` when usable/total nodes is below the resource's `degraded_below`
  threshold; otherwise `up`. Unusable nodes are named in the reasons either way.
- compute system: the same rule over every node of the cluster.

Job figures come from the snapshot's `queue.Summary`, made once for every resource.
When slurmctld does not answer, every resource of the cluster is `unknown` with
the error's code (`slurmctld_unreachable`): never `up`.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from collectors.slurm import capacity
from collectors.slurm.errors import SlurmError
from collectors.slurm.model import Diag, Node, Snapshot
from collectors.slurm.queue import Summary
from collectors.slurm.states import Category
from facility.model import Observation, ProbeState, Reason

Role = Literal["scheduler", "partition", "system"]
US = 1e-6
# Reason codes this module emits: the `code` of each `SlurmError` it is given, the
# partition's own state (`partition_<state>`) and the rest.
REASON_CODES: dict[str, str] = {
    "slurmctld_unreachable": "slurmctld did not answer (connection refused or timed out)",
    "slurmdbd_unreachable": "slurmdbd did not answer the accounting (QoS) query: the scheduler is degraded",
    "slurm_command_failed": "a Slurm command or slurmrestd call failed for another reason (exit code, errors in --json, missing socket)",
    "slurm_output_invalid": "a Slurm command answered with output facstat cannot read (Slurm version change?)",
    "partition_down": "Slurm marks the partition DOWN: jobs may be queued but none start",
    "partition_drain": "Slurm marks the partition DRAIN: no new jobs are queued, queued ones may still start",
    "partition_inactive": "Slurm marks the partition INACTIVE: jobs are neither queued nor started",
    "partition_unknown": "Slurm reported no state for the partition",
    "partition_not_found": "the cluster has no partition of the configured name",
    "no_nodes": "the partition or cluster has no nodes at all",
}


@dataclass(frozen=True, slots=True)
class Target:
    """One resource the cluster's collector reports on."""

    resource_id: str
    role: Role
    partition: str | None = None
    degraded_below: float = 0.9


@dataclass(frozen=True, slots=True)
class Context:
    cluster: str
    source: str
    now: datetime


def observe(
    ctx: Context, targets: Sequence[Target], snap: Snapshot, jobs: Summary
) -> list[Observation]:
    """Each target's observation; `jobs` is `queue.summarize` of the snapshot's jobs."""
    return [_observe(ctx, t, snap, jobs) for t in targets]


def _observe(ctx: Context, t: Target, snap: Snapshot, jobs: Summary) -> Observation:
    if t.role == "scheduler":
        return scheduler(ctx, t, snap, jobs)
    if t.role == "partition":
        return partition(ctx, t, snap, jobs)
    return system(ctx, t, snap, jobs)


def unreachable(ctx: Context, targets: Sequence[Target], exc: SlurmError) -> list[Observation]:
    """Every resource `unknown`, with the error's code and message."""
    reason = Reason(exc.code, f"cluster {ctx.cluster}: {exc}"[:500])
    return [
        Observation(t.resource_id, ctx.now, ctx.source, ProbeState.UNKNOWN, reasons=(reason,))
        for t in targets
    ]


def scheduler(ctx: Context, t: Target, snap: Snapshot, jobs: Summary) -> Observation:
    vals = _diag_values(snap.diag) | _job_values(jobs, None)
    obs = Observation(t.resource_id, ctx.now, ctx.source, ProbeState.UP, None, vals)
    if snap.qos_error is None:
        return obs
    reason = Reason(snap.qos_error.code, f"accounting: {snap.qos_error}"[:500])
    return replace(obs, state=ProbeState.DEGRADED, reasons=(reason,))


def _diag_values(d: Diag) -> dict[str, float]:
    return {
        "server_threads": d.server_threads,
        "agent_queue_size": d.agent_queue_size,
        "dbd_agent_queue_size": d.dbd_agent_queue_size,
        "main_cycle_last_seconds": d.main_last_cycle_us * US,
        "main_cycle_mean_seconds": d.main_mean_cycle_us * US,
        "backfill_cycle_last_seconds": d.backfill_last_cycle_us * US,
        "backfill_cycle_mean_seconds": d.backfill_mean_cycle_us * US,
    }


def partition(ctx: Context, t: Target, snap: Snapshot, jobs: Summary) -> Observation:
    found = next((p for p in snap.partitions if p.name == t.partition), None)
    if found is None:
        msg = f"cluster {ctx.cluster} has no partition '{t.partition}'"
        reason = Reason("partition_not_found", msg)
        return Observation(
            t.resource_id, ctx.now, ctx.source, ProbeState.UNKNOWN, reasons=(reason,)
        )
    by_name = {n.name: n for n in named_maint(snap)}
    nodes = [by_name[n] for n in found.nodes if n in by_name]
    obs = _from_nodes(ctx, t, nodes, _job_values(jobs, found.name))
    if found.state == "UP":
        return obs
    reason = Reason(f"partition_{found.state.lower()}", f"partition {found.name} is {found.state}")
    return replace(obs, state=ProbeState.DOWN, capacity=0.0, reasons=(reason, *obs.reasons))


def system(ctx: Context, t: Target, snap: Snapshot, jobs: Summary) -> Observation:
    return _from_nodes(ctx, t, named_maint(snap), _job_values(jobs, None))


def named_maint(snap: Snapshot) -> list[Node]:
    """The nodes, those in maintenance without a reason given their MAINT reservation's name."""
    maint = {
        n: r.name for r in snap.reservations if r.maint and r.state == "ACTIVE" for n in r.nodes
    }
    return [
        replace(n, reason=f"reservation {maint[n.name]}")
        if n.category is Category.MAINT and not n.reason and n.name in maint
        else n
        for n in snap.nodes
    ]


def _from_nodes(
    ctx: Context, t: Target, nodes: Sequence[Node], extra: dict[str, float]
) -> Observation:
    reasons = capacity.unusable_reasons(nodes)
    if not nodes:
        reasons = (Reason("no_nodes", "no nodes"),)
    cap = capacity.usable(nodes) / len(nodes) if nodes else 0.0
    state = _state(cap, t.degraded_below)
    vals = capacity.values(nodes) | extra
    return Observation(t.resource_id, ctx.now, ctx.source, state, cap, vals, reasons)


def _state(cap: float, degraded_below: float) -> ProbeState:
    if cap == 0:
        return ProbeState.DOWN
    return ProbeState.DEGRADED if cap < degraded_below else ProbeState.UP


def _job_values(jobs: Summary, part: str | None) -> dict[str, float]:
    """Pending/running jobs, oldest pending age, median recent start wait (one partition
    or, with `part` None, the whole cluster)."""
    out = {
        "jobs_pending": float(jobs.jobs("pending", part)),
        "jobs_running": float(jobs.jobs("running", part)),
        "oldest_pending_age_seconds": jobs.oldest_pending_age(part),
    }
    if waits := jobs.waits(part):
        out["recent_start_wait_seconds"] = statistics.median(waits)
    return out
