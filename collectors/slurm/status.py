"""Observations of one cluster's resources from a `Snapshot`: pure, `now` passed in.

- scheduler (urn:facstat:scheduler): `up` with sdiag's figures; `degraded` when
  slurmdbd does not answer (code `slurmdbd_unreachable`).
- partition: `down` when Slurm marks it DOWN/DRAIN/INACTIVE or no node can take
  work; `degraded` when usable/total nodes is below the resource's `degraded_below`
  threshold; otherwise `up`. Unusable nodes are named in the reasons either way.
- compute system: the same rule over every node of the cluster.

When slurmctld does not answer, every resource of the cluster is `unknown` with
the error's code (`slurmctld_unreachable`): never `up`.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from collectors.slurm import capacity, queue
from collectors.slurm.errors import SlurmError
from collectors.slurm.model import Diag, Node, Snapshot
from collectors.slurm.states import Category
from facility.model import Observation, ProbeState, Reason

Role = Literal["scheduler", "partition", "system"]
US = 1e-6


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
    recent_window: float


def observe(ctx: Context, targets: Sequence[Target], snap: Snapshot) -> list[Observation]:
    return [_observe(ctx, t, snap) for t in targets]


def _observe(ctx: Context, t: Target, snap: Snapshot) -> Observation:
    if t.role == "scheduler":
        return scheduler(ctx, t, snap)
    if t.role == "partition":
        return partition(ctx, t, snap)
    return system(ctx, t, snap)


def unreachable(ctx: Context, targets: Sequence[Target], exc: SlurmError) -> list[Observation]:
    """Every resource `unknown`, with the error's code and message."""
    reason = Reason(exc.code, f"cluster {ctx.cluster}: {exc}"[:500])
    return [
        Observation(t.resource_id, ctx.now, ctx.source, ProbeState.UNKNOWN, reasons=(reason,))
        for t in targets
    ]


def scheduler(ctx: Context, t: Target, snap: Snapshot) -> Observation:
    vals = _diag_values(snap.diag) | _job_values(ctx, snap, None)
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


def partition(ctx: Context, t: Target, snap: Snapshot) -> Observation:
    found = next((p for p in snap.partitions if p.name == t.partition), None)
    if found is None:
        msg = f"cluster {ctx.cluster} has no partition '{t.partition}'"
        reason = Reason("partition_not_found", msg)
        return Observation(
            t.resource_id, ctx.now, ctx.source, ProbeState.UNKNOWN, reasons=(reason,)
        )
    by_name = {n.name: n for n in named_maint(snap)}
    nodes = [by_name[n] for n in found.nodes if n in by_name]
    obs = _from_nodes(ctx, t, nodes, _job_values(ctx, snap, found.name))
    if found.state == "UP":
        return obs
    reason = Reason(f"partition_{found.state.lower()}", f"partition {found.name} is {found.state}")
    return replace(obs, state=ProbeState.DOWN, capacity=0.0, reasons=(reason, *obs.reasons))


def system(ctx: Context, t: Target, snap: Snapshot) -> Observation:
    return _from_nodes(ctx, t, named_maint(snap), _job_values(ctx, snap, None))


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


def _job_values(ctx: Context, snap: Snapshot, part: str | None) -> dict[str, float]:
    """Pending/running jobs, oldest pending age, median recent start wait (one partition
    or, with `part` None, the whole cluster)."""
    jobs = [j for j in snap.jobs if part is None or j.partition == part]
    counts = queue.depth(jobs)
    out = {
        "jobs_pending": float(sum(n for k, n in counts.items() if k[2] == "pending")),
        "jobs_running": float(sum(n for k, n in counts.items() if k[2] == "running")),
    }
    ages = queue.oldest_pending_age(jobs, ctx.now).values()
    out["oldest_pending_age_seconds"] = max(ages, default=0.0)
    recent = queue.recent_start_waits(jobs, ctx.now, ctx.recent_window).values()
    if waits := [w for ws in recent for w in ws]:
        out["recent_start_wait_seconds"] = statistics.median(waits)
    return out
