"""Entry point: `.venv/bin/python bench/sla.py [--services N] [--naive K] [--repeat R]`.

The SLA engine at scale: one report (availability, buckets, error budget, burn
rates, time to exhaustion) for each of 1,000 services over a year of history,
computed from status intervals (`slas.sla.report`), and the same numbers from a
naive per-minute sampling of the same history, which must agree. The history is
synthetic but shaped like a facility's: a few hundred transitions per resource
per year (degraded stretches with a capacity, outages, stale spells), six
four-hour maintenance windows of which about half overrun, every instant on a
whole minute so that per-minute samples are exact. Services mix the calendars
(24x7 in UTC and Europe/Berlin, 16x5 in Europe/Berlin and 8x5 in
America/Chicago, both with holidays), degraded-by-weight and by-capacity, unknown
excluded or counted as down; one in ten is a group of three resources. The
naive computation runs on a sample of `--naive` services (all of them is a
matter of minutes) and its time is scaled to the whole set for the ratio.
Target (SLA issue): the interval engine under 1 s for 1,000 services.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from facility.model import SEVERITY, Interval, State  # noqa: E402
from slas.calendars import service_clock  # noqa: E402
from slas.definitions import SlaDefinition  # noqa: E402
from slas.ledger import Buckets  # noqa: E402
from slas.sla import SlaReport, report  # noqa: E402

TARGET_S = 1.0
NOW = datetime(2026, 1, 1, tzinfo=UTC)
YEAR = timedelta(days=365)
HISTORY_START = NOW - YEAR - timedelta(days=7)
HOLIDAYS = [date(2025, 1, 1), date(2025, 5, 1), date(2025, 12, 24), date(2025, 12, 25)]
CALENDARS = [
    {"timezone": "UTC", "service_hours": {"calendar": "24x7"}},
    {"timezone": "Europe/Berlin", "service_hours": {"calendar": "24x7"}},
    {"timezone": "Europe/Berlin", "service_hours": {"calendar": "16x5", "holidays": HOLIDAYS}},
    {"timezone": "America/Chicago", "service_hours": {"calendar": "8x5", "holidays": HOLIDAYS}},
]
Timelines = dict[str, list[Interval]]


def _log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# --- synthetic history -------------------------------------------------------------------


def _minutes(rng: random.Random, lo: int, hi: int) -> timedelta:
    return timedelta(minutes=rng.randint(lo, hi))


def _incident(rng: random.Random) -> tuple[State, float | None, timedelta]:
    roll = rng.random()
    if roll < 0.6:
        return State.DEGRADED, round(rng.uniform(0.3, 0.85), 2), _minutes(rng, 5, 240)
    if roll < 0.85:
        return State.DOWN, None, _minutes(rng, 2, 120)
    return State.UNKNOWN, None, _minutes(rng, 5, 60)


def _maintenance_starts(rng: random.Random) -> list[datetime]:
    days = sorted(rng.sample(range(5, 360), 6))
    return [HISTORY_START + timedelta(days=d, hours=rng.choice((6, 8, 20))) for d in days]


def _after_maintenance(rng: random.Random, rid: str, t: datetime) -> list[Interval]:
    """Half the windows overrun: down (sometimes then degraded) before coming back."""
    if rng.random() < 0.5:
        return []
    down = Interval(rid, t, t + _minutes(rng, 10, 120), State.DOWN)
    if rng.random() < 0.7:
        return [down]
    assert down.end is not None
    return [down, Interval(rid, down.end, down.end + _minutes(rng, 10, 60), State.DEGRADED, 0.6)]


def history(rid: str, rng: random.Random, transitions: int) -> list[Interval]:
    """About `transitions` state changes over the year, on whole minutes; the last is open."""
    mean_up = YEAR.total_seconds() / 60 / (transitions / 2)
    windows, out, t = _maintenance_starts(rng), [], HISTORY_START
    while t < NOW:
        if windows and t >= windows[0]:
            end = t + timedelta(hours=4)
            out.append(Interval(rid, t, end, State.MAINTENANCE))
            out += _after_maintenance(rng, rid, end)
            t, windows = out[-1].end or end, windows[1:]
            continue
        up = timedelta(minutes=max(1, round(rng.expovariate(1 / mean_up))))
        if windows:
            up = min(up, windows[0] - t)
        out.append(Interval(rid, t, t + up, State.UP, 1.0))
        state, cap, length = _incident(rng)
        out.append(Interval(rid, t + up, t + up + length, state, cap))
        t = t + up + length
    last = [iv for iv in out if iv.start < NOW]
    return [*last[:-1], Interval(rid, last[-1].start, None, last[-1].state, last[-1].capacity)]


def definitions(n: int, rng: random.Random) -> list[SlaDefinition]:
    out = []
    for i in range(n):
        members = [f"r{i}"] if i % 10 else [f"r{i}", f"g{i}a", f"g{i}b"]
        spec = {
            "id": f"s{i}",
            "service": f"r{i}" if len(members) == 1 else f"group{i}",
            "resources": members,
            "objective": rng.choice((99.0, 99.5, 99.9)),
            "period": "365d",
            "degraded": "capacity" if i % 3 == 0 else 0.5,
            "unknown": "down" if i % 5 == 0 else "excluded",
            **CALENDARS[i % len(CALENDARS)],
        }
        out.append(SlaDefinition.model_validate(spec))
    return out


def facility(n: int, transitions: int, seed: int) -> tuple[list[SlaDefinition], Timelines]:
    rng = random.Random(seed)
    slas = definitions(n, rng)
    ids = sorted({rid for s in slas for rid in s.members})
    return slas, {rid: history(rid, rng, transitions) for rid in ids}


# --- the naive per-minute computation ---------------------------------------------------------

Sums = dict[str, float]


def service_minutes(sla: SlaDefinition, start: datetime, n: int) -> bytearray:
    """1 for each minute whose local wall-clock time is a service minute."""
    zone, h = ZoneInfo(sla.timezone), sla.service_hours
    first = h.day_start.hour * 60 + h.day_start.minute
    last = first + int(h.day_length.total_seconds()) // 60
    mask = bytearray(n)
    for m in range(n):
        local = (start + timedelta(minutes=m)).astimezone(zone)
        wall = local.hour * 60 + local.minute
        ok = local.weekday() in h.days and local.date() not in h.holidays
        mask[m] = ok and first <= wall < last
    return mask


def _sample(tl: Sequence[Interval], i: int, t: datetime) -> tuple[int, State, float | None]:
    """The state of one timeline at `t` (unknown in gaps), moving the cursor `i` forward."""
    while i < len(tl) and tl[i].end is not None and tl[i].end <= t:  # type: ignore[operator]
        i += 1
    if i < len(tl) and tl[i].start <= t:
        return i, tl[i].state, tl[i].capacity
    return i, State.UNKNOWN, None


def naive(sla: SlaDefinition, timelines: Timelines, mask: bytearray) -> Sums:
    """Bucket minutes from HISTORY_START to NOW; only service minutes of the year count.

    Each member overruns while down or degraded since its own maintenance ended; the
    service overruns when every member in the worst state does.
    """
    tls = [timelines[r] for r in sla.members]
    cursors, after = [0] * len(tls), [False] * len(tls)
    skip = (NOW - YEAR - HISTORY_START) // timedelta(minutes=1)
    keys = ("up", "degraded", "degraded_down", "down", "maint", "over", "over_down", "unk")
    sums = dict.fromkeys(keys, 0.0)
    for m in range(len(mask)):
        t = HISTORY_START + timedelta(minutes=m)
        seen = [_sample(tl, cursors[k], t) for k, tl in enumerate(tls)]
        cursors = [c for c, _, _ in seen]
        over = [
            a and s in (State.DOWN, State.DEGRADED)
            for a, (_, s, _) in zip(after, seen, strict=True)
        ]
        after = [o or s is State.MAINTENANCE for o, (_, s, _) in zip(over, seen, strict=True)]
        state = max((s for _, s, _ in seen), key=SEVERITY.__getitem__)
        caps = [c for _, _, c in seen if c is not None]
        overrun = all(o for o, (_, s, _) in zip(over, seen, strict=True) if s is state)
        if m >= skip and mask[m]:
            _count(sums, sla, state, min(caps, default=None), overrun)
    return sums


def _count(sums: Sums, sla: SlaDefinition, state: State, cap: float | None, after: bool) -> None:
    """One service minute into its bucket; overruns count as down as their state does."""
    if state is State.MAINTENANCE:
        sums["maint"] += 60
    elif after:
        sums["over"] += 60
        sums["over_down"] += 60 * _share(sla, state, cap)
    elif state is State.DEGRADED:
        sums["degraded"] += 60
        sums["degraded_down"] += 60 * _share(sla, state, cap)
    else:
        sums[{State.UP: "up", State.DOWN: "down", State.UNKNOWN: "unk"}[state]] += 60


def _share(sla: SlaDefinition, state: State, cap: float | None) -> float:
    if state is State.DOWN:
        return 1.0
    if sla.degraded.count == "capacity" and cap is not None:
        return 1 - cap
    return 1 - sla.degraded.weight


def naive_availability(sla: SlaDefinition, s: Sums) -> float | None:
    unknown_bad = s["unk"] if sla.unknown == "down" else 0.0
    bad = s["down"] + s["over_down"] + s["degraded_down"] + unknown_bad
    total = sum(v for k, v in s.items() if not k.endswith("_down"))
    eligible = total - s["maint"] - (s["unk"] if sla.unknown == "excluded" else 0.0)
    return 1 - bad / eligible if eligible > 0 else None


def differences(r: SlaReport, sla: SlaDefinition, s: Sums) -> tuple[float, float]:
    """Largest bucket difference (seconds) and availability difference."""
    b = r.buckets
    pairs = [
        (b.up_s, s["up"]), (b.degraded_s, s["degraded"]), (b.degraded_down_s, s["degraded_down"]),
        (b.down_s, s["down"]), (b.maintenance_s, s["maint"]), (b.overrun_s, s["over"]),
        (b.overrun_down_s, s["over_down"]), (b.unknown_s, s["unk"]),
    ]  # fmt: skip
    avail = naive_availability(sla, s)
    da = abs((r.availability or 0.0) - (avail or 0.0))
    return max(abs(a - n) for a, n in pairs), da


# --- timing and report ------------------------------------------------------------------------


def engine_run(
    slas: Sequence[SlaDefinition], timelines: Timelines
) -> tuple[float, list[SlaReport]]:
    service_clock.cache_clear()  # the calendars are part of the work
    start = time.perf_counter()
    reports = [report(s, timelines, NOW) for s in slas]
    return time.perf_counter() - start, reports


@dataclass(frozen=True)
class NaiveFigure:
    services: int
    mask_s: float  # the per-minute service-hours masks, once per calendar
    services_s: float

    def scaled(self, n: int) -> float:
        """The time the naive computation would take for `n` services."""
        return self.mask_s + self.services_s / self.services * n


def naive_run(
    sample: Sequence[SlaDefinition], timelines: Timelines
) -> tuple[NaiveFigure, dict[str, Sums]]:
    n = int((NOW - HISTORY_START).total_seconds()) // 60
    start = time.perf_counter()
    calendars = {_calendar(s): s for s in sample}  # one mask per calendar
    masks = {key: service_minutes(s, HISTORY_START, n) for key, s in calendars.items()}
    mask_s, start = time.perf_counter() - start, time.perf_counter()
    out = {s.id: naive(s, timelines, masks[_calendar(s)]) for s in sample}
    return NaiveFigure(len(sample), mask_s, time.perf_counter() - start), out


def _calendar(sla: SlaDefinition) -> tuple[object, ...]:
    return sla.timezone, sla.service_hours


def summary(slas: Sequence[SlaDefinition], timelines: Mapping[str, Sequence[Interval]]) -> str:
    transitions = sum(len(tl) for tl in timelines.values())
    groups = sum(1 for s in slas if len(s.members) > 1)
    return (
        f"{len(slas):,} services ({groups} groups of 3), {len(timelines):,} resources, "
        f"{transitions:,} intervals ({transitions / len(timelines):.0f} per resource-year), "
        f"period: rolling 365 days to {NOW:%Y-%m-%d}"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--services", type=int, default=1000)
    p.add_argument("--transitions", type=int, default=300, help="per resource per year")
    p.add_argument("--naive", type=int, default=40, help="services computed per minute too")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--seed", type=int, default=20260101)
    args = p.parse_args(argv)
    args.load = os.getloadavg()[0]
    _log("generating history")
    slas, timelines = facility(args.services, args.transitions, args.seed)
    runs = [engine_run(slas, timelines) for _ in range(args.repeat)]
    times, reports = [t for t, _ in runs], runs[0][1]
    sample = slas[:: max(1, len(slas) // args.naive)][: args.naive]
    _log(f"naive per-minute computation of {len(sample)} services")
    naive_fig, sums = naive_run(sample, timelines)
    by_id = {r.sla_id: r for r in reports}
    diffs = [differences(by_id[s.id], s, sums[s.id]) for s in sample]
    print(render(args, slas, reports, timelines, times, naive_fig, diffs))
    return 0


def totals(reports: Sequence[SlaReport]) -> str:
    """Every bucket summed over all services, in hours: the mix the engine chewed through."""
    b = sum((r.buckets for r in reports), Buckets())
    h = lambda s: f"{s / 3600:,.0f} h"  # noqa: E731
    return (
        f"service time {h(b.service_s)}: up {h(b.up_s)}, degraded {h(b.degraded_s)} "
        f"({h(b.degraded_down_s)} as down), down {h(b.down_s)}, maintenance {h(b.maintenance_s)}, "
        f"overrun {h(b.overrun_s)} ({h(b.overrun_down_s)} as down), unknown {h(b.unknown_s)}"
    )


def render(
    args: argparse.Namespace,
    slas: Sequence[SlaDefinition],
    reports: Sequence[SlaReport],
    timelines: Timelines,
    times: Sequence[float],
    naive: NaiveFigure,
    diffs: Sequence[tuple[float, float]],
) -> str:
    med, best, n = statistics.median(times), min(times), len(slas)
    per_service = naive.services_s / naive.services
    verdict = "PASS" if med < TARGET_S else "MISS"
    return "\n".join(
        [
            "SLA ENGINE: reports from intervals vs per-minute samples",
            summary(slas, timelines),
            totals(reports),
            f"load average before the run: {args.load:.2f} (2 cores; the process is not pinned)",
            "",
            f"interval engine   {n:,} reports   median {med:.3f} s   best {best:.3f} s"
            f"   ({args.repeat} runs; {med / n * 1e3:.3f} ms per service)",
            f"naive per-minute  {naive.services} reports   {naive.mask_s + naive.services_s:.1f} s"
            f"   (calendar masks {naive.mask_s:.1f} s once + {per_service:.2f} s per service"
            f" → {naive.scaled(n):,.0f} s for {n:,}, scaled)",
            f"ratio             naive / interval = {naive.scaled(n) / med:,.0f}×",
            f"agreement         max |Δ bucket| = {max(d for d, _ in diffs):.3g} s,"
            f"   max |Δ availability| = {max(a for _, a in diffs):.3g}"
            f"   ({naive.services} services, every bucket)",
            "",
            f"target: interval engine < {TARGET_S:.0f} s for {n:,} services (median): {verdict}",
        ]
    )


if __name__ == "__main__":
    raise SystemExit(main())
