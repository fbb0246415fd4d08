"""What a set of nodes can do: counts by category, CPU/GPU/memory pools, and the
summary of why some cannot take work. Pure functions of `Node`s.

A summary names each unusable group with its Slurm reasons, the earliest time a
reason was set and a few node names, e.g.
``2 of 400 nodes drained: 1 'bad DIMM' since 2026-11-21T12:09Z (node2), …``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC

from collectors.slurm.model import Node
from collectors.slurm.states import UNUSABLE, USABLE, Category
from facility.model import Reason

POOLS = ("cpus", "gpus", "memory_bytes")
POOL_STATES = ("allocated", "idle", "unavailable")
MIB = 1024 * 1024
MAX_GROUPS, MAX_NAMES = 5, 3
# Reason codes this module emits: one per unusable node category (`states.UNUSABLE`).
REASON_CODES: dict[str, str] = {
    "nodes_drained": "nodes drained or still draining (DRAIN or FAIL flag): they take no new jobs",
    "nodes_down": "nodes DOWN, in ERROR or NOT_RESPONDING",
    "nodes_maint": "nodes in MAINTENANCE (a MAINT reservation holds them)",
    "nodes_unavailable": "nodes rebooting, FUTURE or in a state Slurm did not name",
}


def by_category(nodes: Iterable[Node]) -> dict[Category, int]:
    """Nodes per category, every category present (zero when none)."""
    counts = Counter(n.category for n in nodes)
    return {c: counts.get(c, 0) for c in Category}


def usable(nodes: Iterable[Node]) -> int:
    return sum(n.category in USABLE for n in nodes)


def _pool(node: Node, pool: str) -> tuple[int, int]:
    if pool == "cpus":
        return node.cpus, node.cpus_alloc
    if pool == "gpus":
        return node.gpus, node.gpus_alloc
    return node.memory_mb * MIB, node.memory_alloc_mb * MIB


def pools(nodes: Iterable[Node]) -> dict[tuple[str, str], int]:
    """(pool, state) → amount: allocated, idle on usable nodes, unavailable on the rest."""
    out = {(p, s): 0 for p in POOLS for s in POOL_STATES}
    for n in nodes:
        free_state = "idle" if n.category in USABLE else "unavailable"
        for p in POOLS:
            total, alloc = _pool(n, p)
            out[(p, "allocated")] += alloc
            out[(p, free_state)] += max(total - alloc, 0)
    return out


def values(nodes: Sequence[Node]) -> dict[str, float]:
    """Observation values: node counts per category and the pools."""
    out: dict[str, float] = {"nodes_total": len(nodes), "nodes_usable": usable(nodes)}
    out |= {f"nodes_{c.value}": float(k) for c, k in by_category(nodes).items()}
    out |= {f"{p}_{s}": float(v) for (p, s), v in pools(nodes).items()}
    return out


def unusable_reasons(nodes: Sequence[Node]) -> tuple[Reason, ...]:
    """One reason per code (nodes_drained, nodes_down, …) that keeps nodes from work."""
    groups: dict[str, list[Node]] = defaultdict(list)
    for n in nodes:
        if n.category in UNUSABLE:
            groups[UNUSABLE[n.category][0]].append(n)
    return tuple(_reason(code, group, len(nodes)) for code, group in sorted(groups.items()))


def _reason(code: str, group: list[Node], total: int) -> Reason:
    words = UNUSABLE[group[0].category][1]
    by_why: dict[tuple[str, bool], list[Node]] = defaultdict(list)
    for n in group:
        why = n.reason or n.category.value.replace("_", " ")
        by_why[(why, n.category is Category.DRAINING)].append(n)
    ranked = sorted(by_why.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    parts = [_part(why, draining, members) for (why, draining), members in ranked[:MAX_GROUPS]]
    if len(ranked) > MAX_GROUPS:
        parts.append(f"{len(ranked) - MAX_GROUPS} more reasons")
    return Reason(code, f"{len(group)} of {total} nodes {words}: {', '.join(parts)}")


def _part(why: str, draining: bool, members: list[Node]) -> str:
    names = ", ".join(n.name for n in members[:MAX_NAMES])
    names += ", …" if len(members) > MAX_NAMES else ""
    times = [n.reason_since for n in members if n.reason_since is not None]
    since = f" since {min(times).astimezone(UTC):%Y-%m-%dT%H:%MZ}" if times else ""
    still = " (still draining)" if draining else ""
    return f"{len(members)} '{why}'{still}{since} ({names})"
