"""Filesystems of the facility file: facstat state, capacity and inodes, the I/O probe's
latency per operation and its failures, and Lustre OST/MDT states."""

from __future__ import annotations

from collectors import filesystem as fs
from collectors import lustre
from collectors.base import MetricSpec
from collectors.lustre_parse import ACTIVE
from dashboards import panels as P
from dashboards.page import Page, resources_of, state_row
from dashboards.panels import Query
from dashboards.promql import Not, Re, rate, sel, var
from facility.config import FacilityConfig

FILESYSTEM, LUSTRE = var("filesystem"), var("lustre")
TOTAL = "total"  # the operation label of the whole probe
FS_KIND, LUSTRE_KIND = fs.FilesystemCollector.kind, lustre.LustreCollector.kind
RESOURCE = "{{resource}}"


def pages(config: FacilityConfig) -> list[Page]:
    found = resources_of(config, FS_KIND, LUSTRE_KIND)
    if not found:
        return []
    plain = [r.id for r in found if r.collector and r.collector.kind == FS_KIND]
    lustres = [r.id for r in found if r.id not in plain]
    board, variables = P.Board(), []
    state_row(board, "facstat resources", found)
    _capacity(board, _queries(plain, lustres))
    if plain:
        _probe(board)
        variables.append(P.custom_var("filesystem", "Filesystem", plain))
    if lustres:
        _targets(board)
        variables.append(P.custom_var("lustre", "Lustre", lustres))
    page = Page(
        "filesystems",
        "Filesystems",
        "Space, inodes and I/O probes (filesystem collector); OST/MDT states (Lustre).",
        board,
        variables,
        ("filesystems",),
    )
    return [page]


def _of(spec: MetricSpec, resource: Re) -> str:
    return sel(spec.name, resource=resource)


def _used(used: str, avail: str) -> str:
    """Used share as df counts it: used / (used + available to users)."""
    return f"{used} / ({used} + {avail})"


def _queries(plain: list[str], lustres: list[str]) -> dict[str, list[Query]]:
    """Space used, space available and inodes used: one query per kind present."""
    out: dict[str, list[Query]] = {"used": [], "avail": [], "inodes": []}
    kinds = []
    if plain:
        used = f"({_of(fs.SIZE, FILESYSTEM)} - {_of(fs.FREE, FILESYSTEM)})"
        kinds.append((FILESYSTEM, used, fs.AVAIL, fs.INODES, fs.INODES_FREE))
    if lustres:
        kinds.append(
            (LUSTRE, _of(lustre.USED, LUSTRE), lustre.AVAIL, lustre.INODES, lustre.INODES_FREE)
        )
    for r, used, avail, inodes, free in kinds:
        out["used"].append((_used(used, _of(avail, r)), RESOURCE))
        out["avail"].append((_of(avail, r), RESOURCE))
        out["inodes"].append((f"1 - {_of(free, r)} / {_of(inodes, r)}", RESOURCE))
    return out


def _capacity(board: P.Board, queries: dict[str, list[Query]]) -> None:
    df = "As df counts it: used / (used + available to users)."
    board.row("Capacity")
    board.add_all(
        [
            P.timeseries("Space used", queries["used"], "percentunit", df, ratio=True),
            P.timeseries("Space available to users", queries["avail"], "bytes"),
            P.timeseries("Inodes used", queries["inodes"], "percentunit", ratio=True),
        ]
    )


def _probe(board: P.Board) -> None:
    latency = sel(fs.LATENCY.name, resource=FILESYSTEM, operation=Not(TOTAL))
    spread = [
        (_of(fs.PERCENTILE, FILESYSTEM), "{{resource}} p{{percentile}}"),
        (_of(fs.STDDEV, FILESYSTEM), "{{resource}} stddev"),
    ]
    failures = f"sum by (resource) ({rate(_of(fs.FAILURES, FILESYSTEM))})"
    probes = f"sum by (resource) ({rate(_of(fs.PROBES, FILESYSTEM))})"
    board.row("I/O probe")
    board.add_all(
        [
            P.series(
                "Latency by operation (last probe)", latency, "{{resource}} {{operation}}", "s"
            ),
            P.timeseries("Latency of the recent probes: percentiles and spread", spread, "s"),
        ],
        w=12,
        h=9,
    )
    board.add_all(
        [
            P.series("Failed or hung probes", f"{failures} or {probes} * 0", RESOURCE, "ops"),
            P.series("Probes run", probes, RESOURCE, "ops"),
        ],
        w=12,
    )


def _targets(board: P.Board) -> None:
    by_state = f"sum by (type, state) ({_of(lustre.TARGETS, LUSTRE)})"
    inactive = sel(lustre.TARGETS.name, resource=LUSTRE, state=Not(ACTIVE))
    states = P.timeline(
        "Target states",
        [(_of(lustre.TARGET_ACTIVE, LUSTRE), "{{target}}")],
        "Each OST and MDT: active, or inactive/unreachable.",
        P.binary_mappings("not active", "active"),
    )
    board.row("Lustre targets")
    board.add(P.stat("Targets by type and state", [(by_state, "{{type}} {{state}}")]), w=8)
    board.add(P.series("Targets not active", inactive, "{{resource}} {{type}} {{state}}"), w=16)
    board.add(states, w=24, h=14)
