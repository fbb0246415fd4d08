"""The facility's dependency graph: reference checks, cycles, evaluation order."""

from __future__ import annotations

from collections.abc import Iterable
from graphlib import CycleError, TopologicalSorter

from facility.config import RESOURCE_TYPES, FacilityConfig
from facility.errors import Issue


def check_references(config: FacilityConfig) -> list[Issue]:
    """Every cross-reference problem of a facility file, located by YAML path."""
    issues = list(_duplicates(config))
    issues += _resource_refs(config)
    issues += _bundle_refs(config)
    if not issues:
        issues += _cycles(config)
    return issues


def _duplicates(config: FacilityConfig) -> Iterable[Issue]:
    for field, ids in (
        ("facility.sites", [s.id for s in config.facility.sites]),
        ("systems", [s.id for s in config.systems]),
        ("resources", [r.id for r in config.resources]),
        ("experiment_facilities", [e.id for e in config.experiment_facilities]),
    ):
        seen: set[str] = set()
        for i, item_id in enumerate(ids):
            if item_id in seen:
                yield Issue(f"{field}[{i}].id", f"duplicate id {item_id!r}")
            seen.add(item_id)


def _resource_refs(config: FacilityConfig) -> Iterable[Issue]:
    sites = {s.id for s in config.facility.sites}
    systems = {s.id for s in config.systems}
    resources = {r.id for r in config.resources}
    for i, s in enumerate(config.systems):
        if s.site is not None and s.site not in sites:
            yield Issue(f"systems[{i}].site", f"unknown site {s.site!r}")
    for i, r in enumerate(config.resources):
        if r.type not in RESOURCE_TYPES:
            yield Issue(f"resources[{i}].type", f"unknown resource type {r.type!r}")
        if r.system not in systems:
            yield Issue(f"resources[{i}].system", f"unknown system {r.system!r}")
        for j, dep in enumerate(r.depends_on):
            if dep not in resources:
                yield Issue(f"resources[{i}].depends_on[{j}]", f"unknown resource {dep!r}")
            elif dep == r.id:
                yield Issue(f"resources[{i}].depends_on[{j}]", "a resource cannot depend on itself")


def _bundle_refs(config: FacilityConfig) -> Iterable[Issue]:
    resources = {r.id for r in config.resources}
    for i, ef in enumerate(config.experiment_facilities):
        for j, bl in enumerate(ef.beamlines):
            for k, need in enumerate(bl.bundle):
                if need.resource not in resources:
                    path = f"experiment_facilities[{i}].beamlines[{j}].bundle[{k}].resource"
                    yield Issue(path, f"unknown resource {need.resource!r}")


def _cycles(config: FacilityConfig) -> list[Issue]:
    try:
        evaluation_order(config)
    except CycleError as exc:
        cycle = exc.args[1]
        first = next(i for i, r in enumerate(config.resources) if r.id == cycle[0])
        chain = " -> ".join(reversed(cycle))
        return [Issue(f"resources[{first}].depends_on", f"dependency cycle: {chain}")]
    return []


def evaluation_order(config: FacilityConfig) -> list[str]:
    """Resource ids with every dependency before its dependents (raises CycleError)."""
    graph = {r.id: list(r.depends_on) for r in config.resources}
    return list(TopologicalSorter(graph).static_order())


def dependents(config: FacilityConfig) -> dict[str, set[str]]:
    """For each resource, the resources that depend on it, directly or not."""
    direct: dict[str, set[str]] = {r.id: set() for r in config.resources}
    for r in config.resources:
        for dep in r.depends_on:
            direct[dep].add(r.id)
    out: dict[str, set[str]] = {}
    for rid in direct:
        seen: set[str] = set()
        stack = list(direct[rid])
        while stack:
            cur = stack.pop()
            if cur not in seen:
                seen.add(cur)
                stack.extend(direct[cur])
        out[rid] = seen
    return out
