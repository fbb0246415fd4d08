"""Properties of SLA maths that must hold for any history, calendar and rule."""

from __future__ import annotations

import math
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from facility.model import Interval, State
from slas.calendars import Period, service_windows
from slas.definitions import SlaDefinition
from slas.ledger import Buckets
from slas.sla import measure, report

T0 = datetime(2026, 3, 25, tzinfo=UTC)  # the clocks change in Berlin on Sunday 29 March
SPAN = timedelta(days=8)
NOW = T0 + SPAN
MINUTE = timedelta(minutes=1)


@st.composite
def timelines(draw: st.DrawFn) -> list[Interval]:
    """Minute-aligned timelines of `r` over the span: gaps, every state, maybe open at the end."""
    t, out = T0 - timedelta(hours=draw(st.integers(0, 12))), list[Interval]()
    while t < NOW and len(out) < 30:
        t += MINUTE * draw(st.sampled_from([0, 0, 0, 17, 600]))
        length = MINUTE * draw(st.integers(1, 2000))
        state = draw(st.sampled_from(list(State)))
        cap = draw(st.sampled_from([None, 0.0, 0.4, 0.85, 1.0]))
        out.append(Interval("r", t, t + length, state, cap))
        t += length
    still_open: bool = draw(st.booleans())
    if out and still_open:
        out[-1] = replace(out[-1], end=None)
    return out


slas = st.builds(
    lambda cal, tz, deg, unk, hol: SlaDefinition.model_validate(
        {
            "id": "s",
            "service": "r",
            "objective": 99.5,
            "timezone": tz,
            "service_hours": {"calendar": cal, "holidays": ["2026-03-27"] if hol else []},
            "degraded": deg,
            "unknown": unk,
        }
    ),
    st.sampled_from(["24x7", "16x5", "8x5"]),
    st.sampled_from(["UTC", "Europe/Berlin", "America/Chicago"]),
    st.sampled_from([0.5, 0.0, 1.0, "capacity"]),
    st.sampled_from(["excluded", "down"]),
    st.booleans(),
)
instants = st.integers(0, int(SPAN / MINUTE)).map(lambda m: T0 + m * MINUTE)


def close(a: Buckets, b: Buckets) -> bool:
    return all(
        math.isclose(getattr(a, f.name), getattr(b, f.name), abs_tol=1e-6) for f in fields(a)
    )


@given(timelines(), slas, instants)
def test_availability_stays_between_0_and_1(
    tl: list[Interval], sla: SlaDefinition, now: datetime
) -> None:
    r = report(sla, {"r": tl}, now + MINUTE, Period(T0, NOW))
    assert r.availability is None or 0.0 <= r.availability <= 1.0
    assert math.isclose(r.budget.used_fraction + r.budget.remaining_fraction, 1.0)


@given(timelines(), slas, instants)
def test_buckets_sum_to_the_service_hours_in_the_period(
    tl: list[Interval], sla: SlaDefinition, now: datetime
) -> None:
    b = report(sla, {"r": tl}, now + MINUTE, Period(T0, NOW)).buckets
    until = min(now + MINUTE, NOW)  # the report measures no further than the period's end
    windows = service_windows(sla.service_hours, sla.timezone, T0, until)
    expected = sum((hi - lo).total_seconds() for lo, hi in windows)
    parts = (b.up_s, b.degraded_s, b.down_s, b.maintenance_s, b.overrun_s, b.unknown_s)
    assert math.isclose(sum(parts), expected, abs_tol=1e-6)
    assert math.isclose(b.service_s, expected, abs_tol=1e-6)


@given(timelines(), slas, instants, instants)
def test_splitting_a_period_and_merging_the_parts_gives_the_same_totals(
    tl: list[Interval], sla: SlaDefinition, a: datetime, b: datetime
) -> None:
    start, mid = min(a, b), max(a, b)
    whole = measure(sla, {"r": tl}, T0, NOW, NOW)
    parts = [measure(sla, {"r": tl}, x, y, NOW) for x, y in ((T0, start), (start, mid), (mid, NOW))]
    assert close(parts[0] + parts[1] + parts[2], whole)


@given(timelines(), slas, st.data())
def test_down_time_inside_a_planned_window_never_lowers_availability(
    tl: list[Interval], sla: SlaDefinition, data: st.DataObject
) -> None:
    downs = [i for i, iv in enumerate(tl) if iv.state is State.DOWN]
    if not downs:
        return
    i = data.draw(st.sampled_from(downs))
    planned = tl[:i] + _plan(tl[i], data) + tl[i + 1 :]
    before = report(sla, {"r": tl}, NOW, Period(T0, NOW)).availability
    after = report(sla, {"r": planned}, NOW, Period(T0, NOW)).availability
    if before is not None and after is not None:
        assert after >= before - 1e-12


def _plan(down: Interval, data: st.DataObject) -> list[Interval]:
    """The down interval with a planned maintenance window laid over part of it."""
    end = down.end or NOW + timedelta(days=1)
    minutes = int((end - down.start) / MINUTE)
    lo = data.draw(st.integers(0, minutes - 1))
    hi = data.draw(st.integers(lo + 1, minutes))
    c, d = down.start + lo * MINUTE, down.start + hi * MINUTE
    pieces = [replace(down, end=c), replace(down, start=c, end=d, state=State.MAINTENANCE)]
    pieces.append(replace(down, start=d))
    return [p for p in pieces if p.end is None or p.end > p.start]


@given(timelines(), slas)
def test_the_interval_engine_agrees_with_per_minute_samples(
    tl: list[Interval], sla: SlaDefinition
) -> None:
    got = report(sla, {"r": tl}, NOW, Period(T0, NOW)).buckets
    want = per_minute(tl, sla)
    assert close(got, want)


def per_minute(tl: list[Interval], sla: SlaDefinition) -> Buckets:
    """The same buckets, naively: one sample a minute from the first interval on."""
    sums = {f.name: 0.0 for f in fields(Buckets)}
    after, t = False, min([T0, *(iv.start for iv in tl[:1])])
    while t < NOW:
        iv = next((iv for iv in tl if iv.start <= t < (iv.end or NOW)), None)
        state, cap = (iv.state, iv.capacity) if iv else (State.UNKNOWN, None)
        overrun = after and state in (State.DOWN, State.DEGRADED)
        after = overrun or state is State.MAINTENANCE
        if t >= T0 and _in_service(sla, t):
            _count(sums, sla, state, cap, overrun)
        t += MINUTE
    return Buckets(**sums)


def _in_service(sla: SlaDefinition, t: datetime) -> bool:
    local, h = t.astimezone(ZoneInfo(sla.timezone)), sla.service_hours
    first = h.day_start.hour * 60 + h.day_start.minute
    minute = local.hour * 60 + local.minute
    in_day = first <= minute < first + h.day_length.total_seconds() / 60
    return in_day and local.weekday() in h.days and local.date() not in h.holidays


def _count(
    sums: dict[str, float], sla: SlaDefinition, state: State, cap: float | None, overrun: bool
) -> None:
    share = 1.0 if state is State.DOWN else 1 - sla.degraded.weight
    if state is State.DEGRADED and sla.degraded.count == "capacity" and cap is not None:
        share = 1 - cap
    name = {State.UP: "up", State.DEGRADED: "degraded", State.DOWN: "down"}.get(state)
    name = (
        "overrun" if overrun else name or {State.MAINTENANCE: "maintenance"}.get(state, "unknown")
    )
    sums["service_s"] += 60
    sums[f"{name}_s"] += 60
    if name in ("degraded", "overrun"):
        sums[f"{name}_down_s"] += 60 * share
