"""Interval algebra over status history. Pure functions on sorted `Interval`s.

A *timeline* is a list of intervals of one resource, sorted by start, not
overlapping, where only the last may be open (`end is None`). Everything
downstream (SLA buckets, uptime bars, `at=` reads) is built from these
operations, so its cost follows the number of transitions, not of samples.
Time not covered by any interval counts as `unknown`: absence of data is
never availability.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from facility.model import Interval, Reason, State

NO_DATA = (Reason("no_data", "no status recorded"),)


def is_timeline(intervals: Sequence[Interval]) -> bool:
    """Sorted, non-overlapping, non-empty, and only the last one open."""
    for i, cur in enumerate(intervals):
        if cur.end is not None and cur.end <= cur.start:
            return False
        if i + 1 < len(intervals):
            nxt = intervals[i + 1]
            if cur.end is None or cur.end > nxt.start:
                return False
    return True


def clip(intervals: Sequence[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The parts of `intervals` inside [start, end); open intervals are closed at `end`."""
    out = []
    for iv in intervals:
        lo, hi = max(iv.start, start), min(iv.end or end, end)
        if lo < hi:
            out.append(replace(iv, start=lo, end=hi))
    return out


def fill_gaps(
    intervals: Sequence[Interval], start: datetime, end: datetime, resource_id: str
) -> list[Interval]:
    """A timeline covering exactly [start, end): uncovered time becomes `unknown`."""
    out: list[Interval] = []
    cursor = start
    for iv in clip(intervals, start, end):
        if iv.start > cursor:
            out.append(Interval(resource_id, cursor, iv.start, State.UNKNOWN, reasons=NO_DATA))
        out.append(iv)
        cursor = iv.end or end
    if cursor < end:
        out.append(Interval(resource_id, cursor, end, State.UNKNOWN, reasons=NO_DATA))
    return out


def durations(
    intervals: Sequence[Interval], start: datetime, end: datetime
) -> dict[State, timedelta]:
    """Time spent in each state within [start, end); gaps count as `unknown`."""
    out = dict.fromkeys(State, timedelta(0))
    rid = intervals[0].resource_id if intervals else ""
    for iv in fill_gaps(intervals, start, end, rid):
        out[iv.state] += iv.duration(end)
    return out


def merge(intervals: Sequence[Interval]) -> list[Interval]:
    """Coalesce touching intervals of the same state (reasons of the first are kept)."""
    out: list[Interval] = []
    for iv in intervals:
        last = out[-1] if out else None
        if last is not None and last.state == iv.state and last.end == iv.start:
            out[-1] = replace(last, end=iv.end)
        else:
            out.append(iv)
    return out


def state_at(intervals: Sequence[Interval], t: datetime) -> Interval | None:
    """The interval covering instant `t`, if any."""
    starts = [iv.start for iv in intervals]
    i = bisect_right(starts, t) - 1
    if i < 0:
        return None
    iv = intervals[i]
    return iv if iv.end is None or t < iv.end else None


def split(intervals: Sequence[Interval], t: datetime) -> tuple[list[Interval], list[Interval]]:
    """The timeline before `t` and from `t` on; an interval spanning `t` is cut in two."""
    before, after = [], []
    for iv in intervals:
        if iv.end is not None and iv.end <= t:
            before.append(iv)
        elif iv.start >= t:
            after.append(iv)
        else:
            before.append(replace(iv, end=t))
            after.append(replace(iv, start=t))
    return before, after
