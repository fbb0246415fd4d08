"""Status history as SLA time: which bucket each stretch falls in, in service seconds.

A service's members' timelines are combined (worst state wins, as all members
are needed), gaps become `unknown`, and each stretch gets a bucket and the
share of it counted as down (1 for down, the degraded rule's share for
degraded). A maintenance *overrun* is the down-or-degraded stretch that starts
exactly where a maintenance interval ends and lasts until the service is up,
unknown or in maintenance again: it is not excluded like the window was, and
counts as down as its states do (down fully, degraded by the rule), so
planning an outage never costs more than not planning it. Pure: epoch seconds
in, sums out.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from facility.model import SEVERITY, Interval, State
from slas.calendars import ServiceClock
from slas.definitions import DegradedRule, SlaDefinition

UP, DEGRADED, DOWN, MAINTENANCE, OVERRUN, UNKNOWN = range(6)
_KIND = {
    State.UP: UP,
    State.DEGRADED: DEGRADED,
    State.DOWN: DOWN,
    State.MAINTENANCE: MAINTENANCE,
    State.UNKNOWN: UNKNOWN,
}
# bounds (n + 1), states, capacities, and whether each stretch is a maintenance overrun
Raw = tuple[list[float], list[State], list[float | None], list[bool]]
Piece = tuple[State, float | None, bool]  # one member's state, capacity and overrun


@dataclass(frozen=True, slots=True)
class Buckets:
    """Service seconds per bucket.

    The six time buckets (`up_s` … `unknown_s`) sum to `service_s`; the two
    `…_down_s` figures are the shares of their bucket counted as down.
    """

    service_s: float = 0.0
    up_s: float = 0.0
    degraded_s: float = 0.0  # raw degraded time (outside overruns)
    degraded_down_s: float = 0.0  # the share of it counted as down
    down_s: float = 0.0  # unplanned, counted as down
    maintenance_s: float = 0.0  # planned, excluded
    overrun_s: float = 0.0  # down or degraded right after maintenance
    overrun_down_s: float = 0.0  # the share of it counted as down
    unknown_s: float = 0.0  # stale or no data

    def __add__(self, other: Buckets) -> Buckets:
        return Buckets(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def bad_s(self, unknown: str) -> float:
        """Time counted as down: unplanned, overrun, degraded share, maybe unknown."""
        counted = self.unknown_s if unknown == "down" else 0.0
        return self.down_s + self.overrun_down_s + self.degraded_down_s + counted

    def eligible_s(self, unknown: str) -> float:
        """The denominator: service time minus maintenance (and unknown when excluded)."""
        excluded = self.unknown_s if unknown == "excluded" else 0.0
        return self.service_s - self.maintenance_s - excluded


@dataclass(frozen=True, slots=True)
class Ledger:
    """A service's history as contiguous stretches, with the clock that counts them."""

    bounds: list[float]  # n + 1 instants (epoch seconds)
    kinds: list[int]
    bad: list[float]  # share counted as down, per stretch
    clock: ServiceClock

    def buckets(self, a: datetime, b: datetime) -> Buckets:
        """Service time in each bucket within [a, b)."""
        return self.measure(a.timestamp(), b.timestamp())

    def measure(self, a: float, b: float) -> Buckets:
        """As `buckets`, in epoch seconds (the hot loop: `clock.at` is inlined)."""
        sums, counted = [0.0] * 6, [0.0] * 6
        bounds, kinds, bad, n = self.bounds, self.kinds, self.bad, len(self.kinds)
        starts, lengths, before = self.clock.starts, self.clock.lengths, self.clock.before
        i = max(bisect_right(bounds, a) - 1, 0)
        prev = self.clock.at(a)
        while i < n and bounds[i] < b:
            x = bounds[i + 1] if bounds[i + 1] < b else b
            j = bisect_right(starts, x) - 1
            d = x - starts[j]
            cur = before[j] + (d if d < lengths[j] else lengths[j])
            k = kinds[i]
            sums[k] += cur - prev
            counted[k] += (cur - prev) * bad[i]
            prev, i = cur, i + 1
        up, deg, down, maint, over, unk = sums
        deg_down, over_down = counted[DEGRADED], counted[OVERRUN]
        return Buckets(sum(sums), up, deg, deg_down, down, maint, over, over_down, unk)


def ledger(
    sla: SlaDefinition,
    timelines: Mapping[str, Sequence[Interval]],
    lo: datetime,
    hi: datetime,
    clock: ServiceClock,
) -> Ledger:
    """The ledger of `sla` over [lo, hi); history before `lo` is read for overruns."""
    lo_ts, hi_ts = lo.timestamp(), hi.timestamp()
    members = [timelines.get(rid, ()) for rid in sla.members]
    start = min([lo_ts, *(tl[0].start.timestamp() for tl in members if tl)])
    raws = [_raw(tl, start, hi_ts) for tl in members]
    raw = raws[0] if len(raws) == 1 else _combine(raws)
    return Ledger(raw[0], *_classify(raw, sla.degraded), clock)


def _raw(timeline: Sequence[Interval], start: float, end: float) -> Raw:
    """Bounds, states and capacities covering [start, end) (start <= the first interval's)."""
    tl = timeline[: bisect_left(timeline, end, key=_start)]
    if not tl or [iv.end for iv in tl[:-1]] != [iv.start for iv in tl[1:]]:
        return _with_gaps(tl, start, end)
    last = tl[-1].end.timestamp() if tl[-1].end else end
    bounds = [*(iv.start.timestamp() for iv in tl), min(last, end)]
    states, caps = [iv.state for iv in tl], [iv.capacity for iv in tl]
    if bounds[0] > start:  # no history yet: unknown
        bounds, states, caps = [start, *bounds], [State.UNKNOWN, *states], [None, *caps]
    if bounds[-1] < end:
        _extend(bounds, states, caps, end, State.UNKNOWN, None)
    return bounds, states, caps, _overruns(states)


def _start(iv: Interval) -> float:
    return iv.start.timestamp()


def _with_gaps(timeline: Sequence[Interval], start: float, end: float) -> Raw:
    """As `_raw`, for a timeline with holes: each becomes an unknown stretch."""
    bounds: list[float] = [start]
    states: list[State] = []
    caps: list[float | None] = []
    for iv in timeline:
        s, e = iv.start.timestamp(), min(iv.end.timestamp() if iv.end else end, end)
        if s > bounds[-1]:
            _extend(bounds, states, caps, s, State.UNKNOWN, None)
        if e > bounds[-1]:
            _extend(bounds, states, caps, e, iv.state, iv.capacity)
    if bounds[-1] < end:
        _extend(bounds, states, caps, end, State.UNKNOWN, None)
    return bounds, states, caps, _overruns(states)


def _extend(
    bounds: list[float],
    states: list[State],
    caps: list[float | None],
    t: float,
    state: State,
    cap: float | None,
) -> None:
    """Add a stretch that ends at `t`."""
    bounds.append(t)
    states.append(state)
    caps.append(cap)


def _overruns(states: list[State]) -> list[bool]:
    """Down or degraded right after maintenance, until up, unknown or maintenance again."""
    out, n = [False] * len(states), len(states)
    i = _next_maintenance(states, 0)
    while i < n:
        i += 1
        while i < n and (states[i] is State.DOWN or states[i] is State.DEGRADED):
            out[i] = True
            i += 1
        i = _next_maintenance(states, i)
    return out


def _next_maintenance(states: list[State], i: int) -> int:
    """The index of the next maintenance stretch from `i` on (a C-speed scan), or the end."""
    try:
        return states.index(State.MAINTENANCE, i)
    except ValueError:
        return len(states)


def _combine(raws: list[Raw]) -> Raw:
    """The worst state of the members at every instant; capacity is the members' minimum.

    The service overruns when every member in the worst state does: a member's
    outage during another member's maintenance is not an overrun. Every member
    covers the same span; this sweeps over the starts of their stretches.
    """
    events = sorted(
        (b[j], k, (st[j], cp[j], ov[j]))
        for k, (b, st, cp, ov) in enumerate(raws)
        for j in range(len(st))
    )
    now: list[Piece] = [(State.UNKNOWN, None, False)] * len(raws)
    bounds: list[float] = []
    pieces: list[Piece] = []
    for i, (t, k, piece) in enumerate(events):
        now[k] = piece
        if i + 1 < len(events) and events[i + 1][0] == t:
            continue
        worst = _worst(now)
        if not pieces or pieces[-1] != worst:
            bounds.append(t)
            pieces.append(worst)
    bounds.append(raws[0][0][-1])
    return bounds, [p[0] for p in pieces], [p[1] for p in pieces], [p[2] for p in pieces]


def _worst(now: list[Piece]) -> Piece:
    """The worst state, the smallest capacity, and whether all members in that state overrun."""
    state, rank, cap, overrun = State.UP, -1, None, True
    for s, c, o in now:
        r = SEVERITY[s]
        if r > rank:
            state, rank, overrun = s, r, o
        elif r == rank:
            overrun = overrun and o
        if c is not None and (cap is None or c < cap):
            cap = c
    return state, cap, overrun


def _classify(raw: Raw, rule: DegradedRule) -> tuple[list[int], list[float]]:
    """The bucket of every stretch, and the share of it counted as down."""
    _, states, caps, overruns = raw
    kinds = [OVERRUN if o else _KIND[s] for s, o in zip(states, overruns, strict=True)]
    share = {s: 0.0 for s in State} | {State.DOWN: 1.0, State.DEGRADED: 1.0 - rule.weight}
    by_capacity = rule.count == "capacity"
    bad = [
        1.0 - min(max(c, 0.0), 1.0) if by_capacity and c is not None and s is State.DEGRADED
        else share[s]
        for s, c in zip(states, caps, strict=True)
    ]  # fmt: skip
    return kinds, bad
