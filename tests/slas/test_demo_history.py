"""The demo's made-up past: complete, deterministic, and shaped by its calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

from facility.config import load_facility
from facility.intervals import is_timeline
from facility.model import State
from slas.demo_history import history
from slas.ical import parse_maintenance_calendar

EXAMPLES = Path(__file__).parents[2] / "examples"
END = datetime(2026, 11, 21, 12, tzinfo=UTC)
START = END - timedelta(days=100)


def demo() -> list:
    config = load_facility(EXAMPLES / "demo-facility.yaml")
    windows = parse_maintenance_calendar(
        (EXAMPLES / "demo-maintenance.ics").read_bytes(), "ical:demo"
    )
    return history(config, windows, START, END)


def test_every_resource_has_a_gapless_closed_timeline_over_the_whole_span() -> None:
    past = demo()
    by_resource: dict[str, list] = {}
    for iv in past:
        by_resource.setdefault(iv.resource_id, []).append(iv)
    assert len(by_resource) == 17
    for rid, ivs in by_resource.items():
        assert is_timeline(ivs), rid
        assert ivs[0].start == START and ivs[-1].end == END, rid
        assert all(a.end == b.start for a, b in pairwise(ivs)), rid


def test_the_same_inputs_give_the_same_history() -> None:
    assert demo() == demo()


def test_past_maintenance_occurrences_appear_and_some_overrun() -> None:
    scratch = [iv for iv in demo() if iv.resource_id == "scratch"]
    maint = [iv for iv in scratch if iv.state == State.MAINTENANCE]
    assert [iv.start.date().isoformat() for iv in maint] == [
        "2026-09-01",
        "2026-10-06",
        "2026-11-03",
    ]
    overruns = [iv for iv in demo() if iv.reasons and iv.reasons[0].code == "maintenance_overrun"]
    assert overruns and all(iv.state == State.DOWN for iv in overruns)
    states = {iv.state for iv in demo()}
    assert states == {State.UP, State.DEGRADED, State.DOWN, State.UNKNOWN, State.MAINTENANCE}
