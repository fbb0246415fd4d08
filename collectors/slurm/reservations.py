"""Slurm reservations mapped onto facility resources. Pure.

A reservation holds nodes; it concerns each partition resource whose nodes it
touches, and the cluster's system resource. A resource whose nodes it holds all
of is fully covered; one it holds some of is partly covered (`partial`), which a
MAINT reservation turns into a `degraded` maintenance window instead of `down`.
So one reservation gives up to two facts: the resources it covers fully, and
those it covers partly (named `<reservation>~partial`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from collectors.slurm.model import Reservation, Snapshot
from collectors.slurm.status import Target
from facility.model import ReservationFact

PARTIAL = "~partial"


def facts(snap: Snapshot, targets: Sequence[Target]) -> list[ReservationFact]:
    """Every reservation with a start and an end, as facts about our resources."""
    nodes_of = _nodes_of(snap, targets)
    out: list[ReservationFact] = []
    for r in snap.reservations:
        if r.start is None or r.end is None:
            continue
        held = set(r.nodes)
        full = sorted(rid for rid, ns in nodes_of.items() if ns and ns <= held)
        part = sorted(rid for rid, ns in nodes_of.items() if ns & held and not ns <= held)
        out += [_fact(r, r.start, r.end, full, False)] if full else []
        out += [_fact(r, r.start, r.end, part, True)] if part else []
    return out


def _nodes_of(snap: Snapshot, targets: Sequence[Target]) -> dict[str, frozenset[str]]:
    """The nodes of each partition and system resource (the scheduler holds none)."""
    by_partition = {p.name: frozenset(p.nodes) for p in snap.partitions}
    everything = frozenset(n.name for n in snap.nodes)
    out: dict[str, frozenset[str]] = {}
    for t in targets:
        if t.role == "partition" and t.partition is not None:
            out[t.resource_id] = by_partition.get(t.partition, frozenset())
        elif t.role == "system":
            out[t.resource_id] = everything
    return out


def _fact(
    r: Reservation, start: datetime, end: datetime, rids: list[str], partial: bool
) -> ReservationFact:
    return ReservationFact(
        name=r.name + (PARTIAL if partial else ""),
        start=start,
        end=end,
        resources=tuple(rids),
        nodes=len(r.nodes),
        flags=tuple(sorted(r.flags)),
        partial=partial,
    )
