"""A plausible past for the demo facility, so that SLA reports, uptime bars and
readiness have months of history the moment `facstat demo` starts. Pure and
deterministic: the same facility, windows and `end` give the same history.

Each resource is mostly up, with occasional degraded spells, rarer outages and
short stale gaps (more often for lower tiers); the past occurrences of its
maintenance windows are painted over as `maintenance`, and some of them overrun.
The live engine takes over at `end`.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from facility.config import FacilityConfig, Resource
from facility.engine import OVERRUN
from facility.intervals import merge
from facility.model import Interval, Reason, State
from slas.maintenance import MaintenanceWindow, occurrences

# Mean days between spells, per tier: (degraded, down, stale).
RATES = {"24x7": (9.0, 30.0, 12.0), "16x5": (6.0, 20.0, 8.0), "8x5": (4.0, 12.0, 6.0)}
DEFAULT_RATES = (5.0, 15.0, 7.0)
# (code, message) of a degraded and of a down spell, per resource type: declared codes.
DEGRADED = {
    "urn:facstat:partition": ("nodes_drained", "nodes drained: 'NHC: gpu'"),
    "storage:filesystem": ("io_slow", "I/O probe slow: write 2.4 s"),
    "urn:facstat:dsn": ("broker_slow", "publish→consume round trip 850 ms"),
    "network": ("packet_loss", "packet loss 3 % over 20 probes"),
}
DOWN = {
    "urn:facstat:partition": ("nodes_down", "nodes down: 'Not responding'"),
    "storage:filesystem": ("io_error", "I/O probe failed: write: EIO"),
    "urn:facstat:dsn": ("broker_unreachable", "connection refused"),
    "network": ("link_down", "no TCP connection in 5 probes"),
}
OTHER_DEGRADED = ("capacity_below_threshold", "reduced service")
OTHER_DOWN = ("probe_failed", "not answering")
OVERRUN_SHARE = 0.3


@dataclass(frozen=True, slots=True)
class _Spell:
    state: State
    mean_days: float
    minutes: tuple[int, int]


def history(
    config: FacilityConfig,
    windows: Sequence[MaintenanceWindow],
    start: datetime,
    end: datetime,
) -> list[Interval]:
    """Closed intervals covering [start, end) for every resource of the facility."""
    out: list[Interval] = []
    for r in config.resources:
        rng = random.Random(zlib.crc32(r.id.encode()))
        base = _spells(r, config.tier(r), rng, start, end)
        mine = [w for w in windows if r.id in w.resources and not w.cancelled]
        out += merge(_maintenance(base, mine, rng, start, end))
    return out


def _spells(
    r: Resource, tier: str | None, rng: random.Random, start: datetime, end: datetime
) -> list[Interval]:
    deg, down, stale = RATES.get(tier or "", DEFAULT_RATES)
    kinds = [
        _Spell(State.DEGRADED, deg, (10, 180)),
        _Spell(State.DOWN, down, (5, 120)),
        _Spell(State.UNKNOWN, stale, (3, 30)),
    ]
    out, t = [], start
    while t < end:
        gap = min(timedelta(days=rng.expovariate(1 / k.mean_days)) for k in kinds)
        spell = rng.choices(kinds, weights=[1 / k.mean_days for k in kinds])[0]
        lo = min(t + gap, end)
        hi = min(lo + timedelta(minutes=rng.randint(*spell.minutes)), end)
        out.append(Interval(r.id, t, lo, State.UP, 1.0))
        if lo < hi:
            out.append(_spell(r, spell.state, lo, hi, rng))
        t = hi
    return [i for i in out if i.end is not None and i.end > i.start]


def _spell(r: Resource, state: State, lo: datetime, hi: datetime, rng: random.Random) -> Interval:
    if state == State.DEGRADED:
        why = Reason(*DEGRADED.get(r.type, OTHER_DEGRADED))
        return Interval(r.id, lo, hi, state, round(rng.uniform(0.6, 0.88), 2), (why,))
    if state == State.DOWN:
        return Interval(r.id, lo, hi, state, 0.0, (Reason(*DOWN.get(r.type, OTHER_DOWN)),))
    return Interval(r.id, lo, hi, state, None, (Reason("stale", "no observation received"),))


def _maintenance(
    base: list[Interval],
    windows: Iterable[MaintenanceWindow],
    rng: random.Random,
    start: datetime,
    end: datetime,
) -> list[Interval]:
    out = base
    for w in windows:
        for occ in occurrences(w, start, end, limit=500):
            lo, hi = max(occ.start, start), min(occ.end, end)
            why = Reason("maintenance", f"planned maintenance: {w.title}")
            out = _paint(
                out, Interval(base[0].resource_id, lo, hi, State.MAINTENANCE, None, (why,))
            )
            if rng.random() < OVERRUN_SHARE and hi < end:
                late = min(hi + timedelta(minutes=rng.randint(10, 45)), end)
                over = Reason(OVERRUN, f"still down after maintenance {w.id} ended")
                out = _paint(out, Interval(base[0].resource_id, hi, late, State.DOWN, 0.0, (over,)))
    return out


def _paint(timeline: list[Interval], piece: Interval) -> list[Interval]:
    """`timeline` with [piece.start, piece.end) replaced by `piece`."""
    assert piece.end is not None
    out = []
    for iv in timeline:
        assert iv.end is not None
        if iv.end <= piece.start or iv.start >= piece.end:
            out.append(iv)
            continue
        if iv.start < piece.start:
            out.append(replace(iv, end=piece.start))
        if iv.end > piece.end:
            out.append(replace(iv, start=piece.end))
    out.append(piece)
    return sorted(out, key=lambda i: i.start)
