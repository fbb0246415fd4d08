"""Interval algebra: properties that SLA maths and time travel rely on."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from facility.intervals import clip, durations, fill_gaps, is_timeline, merge, split, state_at
from facility.model import Interval, State

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def timelines(draw: st.DrawFn) -> list[Interval]:
    """Random timelines: sorted, non-overlapping, with gaps, maybe an open last interval."""
    n = draw(st.integers(0, 12))
    t = T0 + timedelta(seconds=draw(st.integers(0, 100)))
    out = []
    for i in range(n):
        t += timedelta(seconds=draw(st.integers(0, 50)))
        length = timedelta(seconds=draw(st.integers(1, 500)))
        state = draw(st.sampled_from(list(State)))
        is_open = i == n - 1 and draw(st.booleans())
        out.append(Interval("r", t, None if is_open else t + length, state))
        t += length
    return out


windows = st.tuples(st.integers(0, 3000), st.integers(1, 3000)).map(
    lambda p: (T0 + timedelta(seconds=p[0]), T0 + timedelta(seconds=p[0] + p[1]))
)


@given(timelines())
def test_generated_timelines_are_timelines(tl: list[Interval]) -> None:
    assert is_timeline(tl)


@given(timelines(), windows)
def test_durations_sum_to_the_window_whatever_the_gaps(
    tl: list[Interval], w: tuple[datetime, datetime]
) -> None:
    start, end = w
    assert sum(durations(tl, start, end).values(), timedelta(0)) == end - start


@given(timelines(), windows)
def test_filled_timelines_cover_the_window_without_overlap(
    tl: list[Interval], w: tuple[datetime, datetime]
) -> None:
    start, end = w
    filled = fill_gaps(tl, start, end, "r")
    assert is_timeline(filled)
    assert filled[0].start == start and filled[-1].end == end
    assert all(a.end == b.start for a, b in itertools.pairwise(filled))


@given(timelines(), windows, st.floats(0, 1))
def test_splitting_a_window_and_adding_the_parts_gives_the_same_durations(
    tl: list[Interval], w: tuple[datetime, datetime], frac: float
) -> None:
    start, end = w
    mid = start + (end - start) * frac
    whole = durations(tl, start, end)
    left, right = durations(tl, start, mid), durations(tl, mid, end)
    assert all(left[s] + right[s] == whole[s] for s in State)


@given(timelines(), st.integers(0, 4000))
def test_split_at_an_instant_preserves_coverage_and_state(tl: list[Interval], secs: int) -> None:
    t = T0 + timedelta(seconds=secs)
    before, after = split(tl, t)
    assert all((iv.end or t) <= t for iv in before)
    assert all(iv.start >= t for iv in after)
    probe = T0 + timedelta(seconds=secs // 2)
    joined = before + after
    a, b = state_at(tl, probe), state_at(joined, probe)
    assert (a.state if a else None) == (b.state if b else None)


@given(timelines(), windows)
def test_merging_preserves_durations(tl: list[Interval], w: tuple[datetime, datetime]) -> None:
    start, end = w
    assert durations(merge(tl), start, end) == durations(tl, start, end)
    assert is_timeline(merge(tl))


@given(timelines(), windows)
def test_clipping_never_leaves_the_window(tl: list[Interval], w: tuple[datetime, datetime]) -> None:
    start, end = w
    for iv in clip(tl, start, end):
        assert start <= iv.start < (iv.end or end) <= end


def test_time_with_no_interval_counts_as_unknown_never_as_up() -> None:
    tl = [Interval("r", T0 + timedelta(hours=1), T0 + timedelta(hours=2), State.UP)]
    d = durations(tl, T0, T0 + timedelta(hours=3))
    assert d[State.UP] == timedelta(hours=1)
    assert d[State.UNKNOWN] == timedelta(hours=2)


def test_state_at_finds_the_covering_interval_and_nothing_in_a_gap() -> None:
    a = Interval("r", T0, T0 + timedelta(minutes=10), State.UP)
    b = Interval("r", T0 + timedelta(minutes=20), None, State.DOWN)
    assert state_at([a, b], T0 + timedelta(minutes=5)) == a
    assert state_at([a, b], T0 + timedelta(minutes=15)) is None
    assert state_at([a, b], T0 + timedelta(days=5)) == b
    assert state_at([a, b], T0 - timedelta(seconds=1)) is None
