"""Lustre: target states from `lfs df`, `lfs df -i` and `lfs check servers`, one collector per
filesystem resource.

Options: `fsname` (e.g. `orion`), `mount` (a path on the filesystem; default: every mount,
filtered by `fsname`), `lfs` (the command, default `lfs`), `command_timeout` (30 s),
`capacity_degraded_ratio`/`capacity_down_ratio`/`inodes_degraded_ratio` (as for
`filesystem`), `interval` (60 s). `lfs check servers` needs root on recent Lustre versions.

States: an OST or MDT that `lfs df` shows as an inactive device, that does not answer, or that
`lfs check servers` finds inactive or cannot ping is unavailable. Some OSTs unavailable →
`degraded`, capacity = available OSTs / all OSTs, reason `osts_unavailable`
("6 of 40 OSTs inactive: orion-OST0003, …"); every OST or every MDT unavailable → `down`;
some MDTs → `degraded`; an OST flagged `D` (RAID degraded) → `degraded`; space and inodes from
`filesystem_summary:` as for `filesystem`. A command that hangs (what `lfs df` does when a
target stops answering) is killed after `command_timeout`; what it printed until then is used
and the filesystem is `degraded` (`command_timeout`) unless worse. No usable output from any
command → `unknown` (`command_failed`).

Exposition, for a resource `scratch`::

    facstat_lustre_targets{resource="scratch",state="active",type="ost"} 34.0
    facstat_lustre_target_active{resource="scratch",target="orion-OST0003"} 0.0
    facstat_lustre_avail_bytes{resource="scratch"} 2.6e+17
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.core import Metric

from collectors import filesystem_io
from collectors.base import Collector, Cycle, MetricSpec
from collectors.common import parse_options
from collectors.filesystem_space import Space
from collectors.lustre_parse import ACTIVE, parse_check, parse_df
from collectors.lustre_rules import (
    STATES,
    LustreOptions,
    Snapshot,
    block_for,
    evaluate,
    summary_space,
    targets,
)
from facility.config import FacilityConfig, Resource
from facility.model import Observation, ProbeState, Reason

# Reason codes this module emits (see `collectors.reason_codes`).
REASON_CODES: dict[str, str] = {
    "command_failed": "no lfs command could run or answer (lfs missing, or every one exited with an error and no output)",
}

TARGETS = MetricSpec(
    "facstat_lustre_targets",
    "gauge",
    "Lustre targets by type (ost, mdt) and state (active, inactive, unreachable).",
    ("resource", "type", "state"),
)
TARGET_ACTIVE = MetricSpec(
    "facstat_lustre_target_active",
    "gauge",
    "Whether a Lustre target answers and is active (1) or not (0).",
    ("resource", "target"),
)
SIZE = MetricSpec("facstat_lustre_size_bytes", "gauge", "Size of the active OSTs.", ("resource",))
USED = MetricSpec(
    "facstat_lustre_used_bytes", "gauge", "Space used on the active OSTs.", ("resource",)
)
AVAIL = MetricSpec(
    "facstat_lustre_avail_bytes", "gauge", "Space available to users.", ("resource",)
)
INODES = MetricSpec("facstat_lustre_inodes", "gauge", "Inodes of the filesystem.", ("resource",))
INODES_FREE = MetricSpec("facstat_lustre_inodes_free", "gauge", "Free inodes.", ("resource",))


# --- render ------------------------------------------------------------------------------


def render_df(opts: LustreOptions, inodes: bool = False) -> list[str]:
    return [opts.lfs, "df", *(["-i"] if inodes else []), *([opts.mount] if opts.mount else [])]


def render_check(opts: LustreOptions) -> list[str]:
    return [opts.lfs, "check", "servers"]


# --- the collector -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ran:
    argv: list[str]
    output: str
    problem: str | None  # why the run gave nothing (or only part) usable
    timed_out: bool = False


Spawn = Callable[[list[str], float], filesystem_io.ChildRun]


def run(argv: list[str], timeout: float, spawn: Spawn | None = None) -> Ran:
    """Run an lfs command with a hard deadline (`lfs df` hangs with a dead target).
    `spawn` runs the process (default `filesystem_io.run`; the demo simulates it)."""
    try:
        child = (spawn or filesystem_io.run)(argv, timeout)
    except OSError as exc:
        return Ran(argv, "", f"{argv[0]}: {exc.strerror or exc}")
    if child.timed_out:
        message = f"{' '.join(argv)} did not finish within {timeout:g} s"
        return Ran(argv, child.output, message, timed_out=True)
    if child.returncode != 0 and not child.output.strip():
        return Ran(argv, "", f"{' '.join(argv)} exited with {child.returncode}")
    return Ran(argv, child.output, None)


class LustreCollector:
    kind = "lustre"

    def __init__(self, resource_id: str, opts: LustreOptions, spawn: Spawn | None = None) -> None:
        self.name = f"lustre-{resource_id}"
        self.resource_ids: Sequence[str] = (resource_id,)
        self.interval = opts.interval
        self.timeout = 3 * (opts.command_timeout + 2 * filesystem_io.REAP_SECONDS) + 5
        self.opts = opts
        self.spawn = spawn

    def collect(self, now: datetime) -> Cycle:
        runs = [run(argv, self.opts.command_timeout, self.spawn) for argv in self._commands()]
        rid = self.resource_ids[0]
        if all(r.problem for r in runs):
            reason = Reason(
                "command_failed", "; ".join(dict.fromkeys(r.problem or "" for r in runs))
            )
            return Cycle([Observation(rid, now, self.name, ProbeState.UNKNOWN, reasons=(reason,))])
        snap = self._snapshot(*runs)
        v = evaluate(snap, self.opts)
        obs = Observation(rid, now, self.name, v.state, v.capacity, v.values, v.reasons)
        return Cycle([obs], families(rid, snap))

    def _commands(self) -> list[list[str]]:
        return [render_df(self.opts), render_df(self.opts, inodes=True), render_check(self.opts)]

    def _snapshot(self, df: Ran, df_inodes: Ran, check: Ran) -> Snapshot:
        fs = self.opts.fsname
        return Snapshot(
            fs,
            block_for(parse_df(df.output), fs),
            block_for(parse_df(df_inodes.output), fs),
            parse_check(check.output).states,
            frozenset(self.opts.ignore_targets),
            tuple(r.problem for r in (df, df_inodes, check) if r.timed_out and r.problem),
        )


def families(rid: str, s: Snapshot) -> list[Metric]:
    counts, active = TARGETS.family(), TARGET_ACTIVE.family()
    all_targets = targets(s)
    for kind in ("MDT", "OST"):
        for state in STATES:
            n = sum(t.kind == kind and t.state == state for t in all_targets)
            counts.add_metric([rid, kind.lower(), state], n)
    for t in all_targets:
        active.add_metric([rid, t.name], float(t.state == ACTIVE))
    return [counts, active, *_space_families(rid, summary_space(s))]


def _space_families(rid: str, space: Space | None) -> list[Metric]:
    fams = [spec.family() for spec in (SIZE, USED, AVAIL, INODES, INODES_FREE)]
    if space is None:
        return list(fams)
    numbers = [space.size, space.size - space.free, space.avail]
    if space.inodes:  # only when `lfs df -i` answered
        numbers += [space.inodes, space.inodes_free]
    for fam, value in zip(fams, numbers, strict=False):
        fam.add_metric([rid], value)
    return list(fams)


def build(config: FacilityConfig, resources: list[Resource]) -> list[Collector]:
    """One collector per Lustre filesystem resource."""
    return [LustreCollector(r.id, parse_options(LustreOptions, r)) for r in resources]
