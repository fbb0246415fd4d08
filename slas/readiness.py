"""Readiness: is everything a beamtime needs ready, from `start` to `end`? Pure.

The caller gathers, per needed resource, a `Facts` value (its effective status
now, its latest measured values, the maintenance occurrences and scheduler
reservations overlapping the window, its SLA budget); `assess` returns a
`go | at_risk | no_go` verdict with one line per resource and one check per
reason. The verdict is the worst line: a beamline is never readier than its
least ready resource, and missing data is never read as ready.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import TypeAdapter, ValidationError

from facility.model import EffectiveStatus, ReservationFact, State


class Verdict(enum.StrEnum):
    GO = "go"
    AT_RISK = "at_risk"
    NO_GO = "no_go"


_RANK = {Verdict.GO: 0, Verdict.AT_RISK: 1, Verdict.NO_GO: 2}


def worst(verdicts: Sequence[Verdict]) -> Verdict:
    return max(verdicts, key=_RANK.__getitem__, default=Verdict.GO)


@dataclass(frozen=True, slots=True)
class Need:
    """What a workflow needs of one resource during the window."""

    resource_id: str
    nodes: int | None = None
    bandwidth_gbps: float | None = None
    free_space_tb: float | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Planned:
    """A maintenance occurrence overlapping the window."""

    window_id: str
    title: str
    start: datetime
    end: datetime
    effect: str = "down"


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything known about one needed resource, gathered by the caller."""

    status: EffectiveStatus | None
    values: Mapping[str, float] = field(default_factory=dict)
    maintenance: tuple[Planned, ...] = ()
    reservations: tuple[ReservationFact, ...] = ()
    budget_remaining: float | None = None  # fraction of the SLA error budget left
    is_partition: bool = False


@dataclass(frozen=True, slots=True)
class Policy:
    imminent: timedelta = timedelta(hours=24)
    queue_wait_risk: timedelta = timedelta(hours=1)
    budget_risk: float = 0.1


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    verdict: Verdict
    message: str


@dataclass(frozen=True, slots=True)
class Line:
    resource_id: str
    verdict: Verdict
    checks: tuple[Check, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class Assessment:
    verdict: Verdict
    start: datetime
    end: datetime
    lines: tuple[Line, ...]


def assess(
    needs: Sequence[Need],
    facts: Mapping[str, Facts],
    start: datetime,
    end: datetime,
    now: datetime,
    policy: Policy = Policy(),
) -> Assessment:
    """The verdict for a window, with one line per needed resource."""
    imminent = start - now <= policy.imminent
    lines = tuple(_line(n, facts[n.resource_id], imminent, policy) for n in needs)
    return Assessment(worst([ln.verdict for ln in lines]), start, end, lines)


def _line(need: Need, facts: Facts, imminent: bool, policy: Policy) -> Line:
    checks = [_status(facts.status, imminent), *_planned(facts.maintenance)]
    checks += _capacity(need, facts, imminent, policy)
    if facts.budget_remaining is not None:
        checks.append(_budget(facts.budget_remaining, policy))
    return Line(need.resource_id, worst([c.verdict for c in checks]), tuple(checks), need.note)


def _status(status: EffectiveStatus | None, imminent: bool) -> Check:
    if status is None:
        return Check("status", Verdict.AT_RISK, "no status recorded yet")
    state, why = status.state, "; ".join(r.message for r in status.reasons)
    text = f"now {state.value}" + (f": {why}" if why else "")
    if state == State.UP:
        return Check("status", Verdict.GO, text)
    if state == State.DOWN and imminent:
        return Check("status", Verdict.NO_GO, text)
    return Check("status", Verdict.AT_RISK, text)


def _planned(occurrences: Sequence[Planned]) -> list[Check]:
    if not occurrences:
        return [Check("maintenance", Verdict.GO, "no maintenance planned in the window")]
    return [
        Check(
            "maintenance",
            Verdict.NO_GO if o.effect == "down" else Verdict.AT_RISK,
            f"maintenance {o.title!r} ({o.window_id}) {o.start:%Y-%m-%d %H:%M}–"
            f"{o.end:%Y-%m-%d %H:%M} UTC takes it {o.effect}",
        )
        for o in occurrences
    ]


def _capacity(need: Need, facts: Facts, imminent: bool, policy: Policy) -> list[Check]:
    out: list[Check] = []
    v = facts.values
    if need.nodes is not None:
        out.append(_nodes(need.nodes, v.get("nodes_usable"), imminent))
        out.append(_reservation(need.nodes, facts.reservations))
    if facts.is_partition and "oldest_pending_age_seconds" in v:
        out.append(_queue_wait(v, policy))
    if need.bandwidth_gbps is not None:
        out.append(_bandwidth(need.bandwidth_gbps, v.get("throughput_bits_per_second")))
    if need.free_space_tb is not None:
        out.append(_space(need.free_space_tb, v.get("avail_bytes"), imminent))
    return out


def _nodes(needed: int, usable: float | None, imminent: bool) -> Check:
    if usable is None:
        return Check("nodes", Verdict.AT_RISK, f"needs {needed} nodes; usable nodes not measured")
    text = f"{usable:.0f} nodes usable now, {needed} needed"
    if usable >= needed:
        return Check("nodes", Verdict.GO, text)
    return Check("nodes", Verdict.NO_GO if imminent else Verdict.AT_RISK, text)


def _reservation(needed: int, reservations: Sequence[ReservationFact]) -> Check:
    fits = [r for r in reservations if not r.maintenance and r.nodes >= needed]
    if fits:
        r = fits[0]
        return Check("reservation", Verdict.GO, f"reservation {r.name} holds {r.nodes} nodes")
    return Check(
        "reservation", Verdict.AT_RISK, f"no reservation of {needed}+ nodes covers the window"
    )


def _queue_wait(values: Mapping[str, float], policy: Policy) -> Check:
    oldest = timedelta(seconds=values["oldest_pending_age_seconds"])
    recent = values.get("recent_start_wait_seconds")
    text = f"oldest pending job waits {_hm(oldest)}"
    if recent is not None:
        text += f"; recent jobs waited {_hm(timedelta(seconds=recent))}"
    risky = oldest > policy.queue_wait_risk
    return Check("queue_wait", Verdict.AT_RISK if risky else Verdict.GO, text)


def _bandwidth(needed_gbps: float, bps: float | None) -> Check:
    if bps is None:
        return Check("bandwidth", Verdict.AT_RISK, f"needs {needed_gbps:g} Gb/s; not measured yet")
    text = f"measured {bps / 1e9:.1f} Gb/s, {needed_gbps:g} Gb/s needed"
    return Check("bandwidth", Verdict.GO if bps >= needed_gbps * 1e9 else Verdict.AT_RISK, text)


def _space(needed_tb: float, avail: float | None, imminent: bool) -> Check:
    if avail is None:
        return Check("free_space", Verdict.AT_RISK, f"needs {needed_tb:g} TB; not measured")
    text = f"{avail / 1e12:,.1f} TB free, {needed_tb:g} TB needed"
    if avail >= needed_tb * 1e12:
        return Check("free_space", Verdict.GO, text)
    return Check("free_space", Verdict.NO_GO if imminent else Verdict.AT_RISK, text)


def _budget(remaining: float, policy: Policy) -> Check:
    text = f"{remaining:.0%} of the SLA error budget left"
    return Check(
        "sla_budget", Verdict.AT_RISK if remaining < policy.budget_risk else Verdict.GO, text
    )


def _hm(d: timedelta) -> str:
    minutes = int(d.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


# -- will a job finish before the next maintenance? ---------------------------------


@dataclass(frozen=True, slots=True)
class WalltimeAnswer:
    fits: bool
    expected_start: datetime
    expected_end: datetime
    next_maintenance: Planned | None
    latest_submit: datetime | None
    message: str


def walltime(
    submit_at: datetime,
    limit: timedelta,
    queue_wait: timedelta,
    upcoming: Sequence[Planned],
) -> WalltimeAnswer:
    """Whether a job of walltime `limit` submitted at `submit_at`, expected to wait
    `queue_wait`, ends before the next maintenance that takes its partition down."""
    start = submit_at + queue_wait
    end = start + limit
    blocking = sorted((o for o in upcoming if o.effect == "down" and o.end > start), key=_start)
    nxt = blocking[0] if blocking else None
    if nxt is None:
        return WalltimeAnswer(True, start, end, None, None, "no maintenance ahead")
    latest = nxt.start - limit - queue_wait
    fits = end <= nxt.start
    verb = "ends before" if fits else "would not end before"
    text = f"expected to {verb} maintenance {nxt.title!r} at {nxt.start:%Y-%m-%d %H:%M} UTC"
    return WalltimeAnswer(fits, start, end, nxt, latest, text)


def _start(o: Planned) -> datetime:
    return o.start


_SLURM_TIME = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")


def parse_walltime(text: str) -> timedelta:
    """A time limit as users write it: seconds (`3600`), Slurm's `[D-]HH:MM:SS`,
    `HH:MM` or `D-HH`, `6h`/`90m`, or ISO 8601 (`PT6H`). `ValueError` otherwise."""
    text = text.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    if m := re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhd])", text):
        return timedelta(seconds=float(m[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m[2]])
    if (m := _SLURM_TIME.match(text)) and (":" in text or "-" in text):
        return _slurm_time(*m.groups(), has_days=m[1] is not None)
    try:
        return TypeAdapter(timedelta).validate_python(text)
    except ValidationError as exc:
        raise ValueError(f"not a time limit: {text!r}") from exc


def _slurm_time(
    days: str | None, a: str, b: str | None, c: str | None, *, has_days: bool
) -> timedelta:
    """Slurm's forms: `HH:MM:SS` (three parts), `MM:SS` (two), and with days `D-HH`,
    `D-HH:MM`, `D-HH:MM:SS`."""
    nums = [int(x) for x in (a, b, c) if x is not None]
    if has_days:
        h, m, s = [*nums, 0, 0][:3]
    elif len(nums) == 3:
        h, m, s = nums
    else:
        h, (m, s) = 0, nums
    return timedelta(days=int(days or 0), hours=h, minutes=m, seconds=s)
