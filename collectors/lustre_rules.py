"""The pure core of the Lustre collector: its options, the targets the commands describe,
and the rules that make them an observation. See `collectors.lustre`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from collectors.common import Finding, Verdict, worst
from collectors.filesystem_space import Space, space_findings
from collectors.lustre_parse import ACTIVE, INACTIVE, DfBlock, split_name
from facility.model import ProbeState, Reason

NAMES_SHOWN = 4  # target names listed in a reason; the count is always given
UNREACHABLE = "unreachable"
STATES = (ACTIVE, INACTIVE, UNREACHABLE)
# Reason codes this module emits (see `collectors.reason_codes`).
REASON_CODES: dict[str, str] = {
    "osts_unavailable": "some OSTs (degraded) or all of them (down) are inactive or do not answer",
    "mdts_unavailable": "some MDTs (degraded) or all of them (down) are inactive or do not answer",
    "targets_degraded": "an active target carries the D flag: degraded RAID or a rebuild in progress",
    "not_mounted": "the filesystem is in neither lfs df nor lfs check servers: not mounted on the collector host",
    "command_timeout": "an lfs command was killed at command_timeout (lfs hangs on an unreachable target)",
}


class LustreOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fsname: str = Field(pattern=r"^[A-Za-z0-9_-]{1,8}$", description="Lustre filesystem name")
    mount: str | None = Field(None, description="a path on the filesystem, passed to lfs df")
    lfs: str = Field("lfs", description="the lfs command")
    command_timeout: float = Field(30.0, gt=0, description="seconds before an lfs run is killed")
    capacity_degraded_ratio: float = Field(0.9, gt=0, le=1, description="used fraction: degraded")
    capacity_down_ratio: float = Field(0.98, gt=0, le=1, description="used fraction: down")
    inodes_degraded_ratio: float = Field(0.9, gt=0, le=1, description="used inodes: degraded")
    ignore_targets: list[str] = Field(
        default_factory=list, description="targets deactivated on purpose, e.g. orion-OST0011"
    )
    interval: float = Field(60.0, gt=0, description="seconds between cycles")


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    kind: str  # "OST" | "MDT"
    state: str  # active | inactive | unreachable
    detail: str = ""
    flags: str = ""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the three commands said about one filesystem."""

    fsname: str
    df: DfBlock | None
    df_inodes: DfBlock | None
    checks: dict[str, str]
    ignore: frozenset[str] = frozenset()
    hung: tuple[str, ...] = ()  # commands killed at their timeout


def block_for(blocks: Sequence[DfBlock], fsname: str) -> DfBlock | None:
    return next((b for b in blocks if b.fsname == fsname), None)


def targets(s: Snapshot) -> list[Target]:
    """Every target either command names, with the worse of the two states."""
    found: dict[str, Target] = {}
    for t in s.df.targets if s.df else ():
        name = s.df.target_name(t) if s.df else ""
        found[name] = Target(name, t.kind, *_state(t.status), flags=t.flags)
    for name, status in s.checks.items():
        parts = split_name(name)
        if parts is None or parts[0] != s.fsname:
            continue
        seen = found.get(name) or Target(name, parts[1], ACTIVE)
        found[name] = _worse(seen, Target(name, parts[1], *_state(status)))
    kept = (t for t in found.values() if t.name not in s.ignore)
    return sorted(kept, key=lambda t: (t.kind, t.name))


def _state(status: str) -> tuple[str, str]:
    if status in (ACTIVE, INACTIVE):
        return status, ""
    return UNREACHABLE, status


def _worse(a: Target, b: Target) -> Target:
    if b.state == ACTIVE:
        return a
    return Target(a.name, a.kind, b.state, b.detail, a.flags) if a.state == ACTIVE else a


def unavailable_message(kind: str, bad: Sequence[Target], total: int) -> str:
    """`6 of 40 OSTs inactive: orion-OST0003, orion-OST0007, … (2 more)`."""
    states = sorted({t.state for t in bad})
    how = states[0] if len(states) == 1 else " or ".join(states)
    names = ", ".join(_named(t) for t in bad[:NAMES_SHOWN])
    more = f", … ({len(bad) - NAMES_SHOWN} more)" if len(bad) > NAMES_SHOWN else ""
    return f"{len(bad)} of {total} {kind}s {how}: {names}{more}"


def _named(t: Target) -> str:
    return f"{t.name} ({t.detail})" if t.detail else t.name


def target_findings(all_targets: Sequence[Target]) -> list[Finding]:
    out: list[Finding] = []
    for kind, code in (("MDT", "mdts_unavailable"), ("OST", "osts_unavailable")):
        of_kind = [t for t in all_targets if t.kind == kind]
        bad = [t for t in of_kind if t.state != ACTIVE]
        if bad:
            state = ProbeState.DOWN if len(bad) == len(of_kind) else ProbeState.DEGRADED
            out.append((state, Reason(code, unavailable_message(kind, bad, len(of_kind)))))
    flagged = [t.name for t in all_targets if t.state == ACTIVE and "D" in t.flags]
    if flagged:
        message = f"{len(flagged)} target(s) degraded (RAID rebuild or failed disk): " + ", ".join(
            flagged
        )
        out.append((ProbeState.DEGRADED, Reason("targets_degraded", message)))
    return out


def summary_space(s: Snapshot) -> Space | None:
    if s.df is None or s.df.summary is None:
        return None
    u, kib = s.df.summary, 1024
    inodes = s.df_inodes.summary if s.df_inodes else None
    return Space(
        u.total * kib,
        (u.total - u.used) * kib,
        u.avail * kib,
        inodes.total if inodes else 0,
        inodes.avail if inodes else 0,
    )


def evaluate(s: Snapshot, opts: LustreOptions) -> Verdict:
    """The observation a snapshot makes; pure."""
    all_targets, space = targets(s), summary_space(s)
    if not all_targets:
        message = f"no Lustre filesystem {s.fsname!r} in the output of lfs df and lfs check"
        return Verdict(ProbeState.UNKNOWN, None, (Reason("not_mounted", message),))
    findings = target_findings(all_targets) + (space_findings(space, opts) if space else [])
    findings += [(ProbeState.DEGRADED, Reason("command_timeout", hung)) for hung in s.hung]
    state = worst(findings)
    osts = [t for t in all_targets if t.kind == "OST"]
    active = sum(t.state == ACTIVE for t in osts)
    capacity = 0.0 if state == ProbeState.DOWN else (active / len(osts) if osts else None)
    values = {**(space.values() if space else {}), "ost_total": len(osts), "ost_active": active}
    return Verdict(
        state, capacity, tuple(r for _, r in findings), {k: float(v) for k, v in values.items()}
    )
