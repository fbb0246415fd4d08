"""Synthetic facility files of any size, for the benchmarks.

Shape (acyclic by construction: every edge points at an earlier layer):

    storage   : FILESYSTEMS filesystems                      (no deps)
    network   : LINKS WAN links                              (no deps)
    cNN       : a scheduler                                  (no deps)
                PARTITIONS partitions  -> scheduler, one filesystem
                a compute:system       -> its first partition
                nodes (the rest)       -> every NODE_DEP_EVERY-th -> its partition
    services  : SERVICES services      -> two filesystems
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

COMPUTE_SYSTEMS = 6
PARTITIONS = 8
FILESYSTEMS = 8
LINKS = 6
SERVICES = 10
NODE_DEP_EVERY = 10


def _res(rid: str, rtype: str, system: str, group: str, deps: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rid, "name": rid.upper(), "type": rtype, "system": system}
    out["group"] = group
    if deps:
        out["depends_on"] = deps
    return out


def _shared() -> list[dict[str, Any]]:
    fs = [
        _res(f"fs{i:02d}", "storage:filesystem", "storage", "filesystems", [])
        for i in range(FILESYSTEMS)
    ]
    links = [_res(f"link{i:02d}", "network", "network", "links", []) for i in range(LINKS)]
    return fs + links


def _compute(sys_id: str, k: int, nodes: int) -> list[dict[str, Any]]:
    sched = f"{sys_id}-slurmctld"
    parts = [f"{sys_id}-p{j}" for j in range(PARTITIONS)]
    out = [_res(sched, "urn:facstat:scheduler", sys_id, "scheduler", [])]
    for j, p in enumerate(parts):
        fs = f"fs{(k + j) % FILESYSTEMS:02d}"
        out.append(_res(p, "urn:facstat:partition", sys_id, "partitions", [sched, fs]))
    out.append(_res(sys_id, "compute:system", sys_id, "compute", [parts[0]]))
    for i in range(nodes):
        deps = [parts[i % PARTITIONS]] if i % NODE_DEP_EVERY == 0 else []
        out.append(_res(f"{sys_id}-n{i:05d}", "compute:node", sys_id, "nodes", deps))
    return out


def _services() -> list[dict[str, Any]]:
    return [
        _res(
            f"svc{i:02d}",
            "service",
            "services",
            "interactive",
            [f"fs{i % FILESYSTEMS:02d}", f"fs{(i + 1) % FILESYSTEMS:02d}"],
        )
        for i in range(SERVICES)
    ]


def facility(resources: int) -> dict[str, Any]:
    """A facility document with exactly `resources` resources."""
    fixed = FILESYSTEMS + LINKS + SERVICES + COMPUTE_SYSTEMS * (PARTITIONS + 2)
    nodes = resources - fixed
    if nodes < COMPUTE_SYSTEMS:
        raise ValueError(f"need at least {fixed + COMPUTE_SYSTEMS} resources")
    systems = [f"c{k:02d}" for k in range(COMPUTE_SYSTEMS)]
    items = _shared() + _services()
    for k, sys_id in enumerate(systems):
        items += _compute(sys_id, k, nodes // COMPUTE_SYSTEMS + (k < nodes % COMPUTE_SYSTEMS))
    kinds = [(s, "production") for s in systems]
    kinds += [("storage", "service"), ("network", "service"), ("services", "service")]
    return {
        "facility": {"id": "bench", "name": f"Bench facility ({resources} resources)"},
        "defaults": {"stale_after": "1h", "hysteresis": {"consecutive": 2}},
        "systems": [{"id": s, "name": s.upper(), "kind": kind} for s, kind in kinds],
        "resources": items,
    }


def write_facility(resources: int, directory: Path) -> Path:
    path = directory / f"facility-{resources}.yaml"
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    path.write_text(yaml.dump(facility(resources), Dumper=dumper, sort_keys=False))
    return path


def edge_count(doc: dict[str, Any]) -> int:
    return sum(len(r.get("depends_on", ())) for r in doc["resources"])
