"""On-call: rotations on the team's local clock (across DST), overrides, the chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facility.errors import NotFoundError
from slas.incident_policy import Person, Team
from slas.oncall import escalation_chain, on_call

NY = ZoneInfo("America/New_York")
PEOPLE = tuple(
    Person(id=n, name=n.title(), email=f"{n}@example.org") for n in ("ann", "ben", "cat", "dan")
)


def team(**fields: Any) -> Team:
    """A weekly New York rotation ann -> ben -> cat, handing off on Mondays at 09:00."""
    rotation = {"members": ["ann", "ben", "cat"], "start": "2026-03-02T09:00", "length": "7d"}
    body = {"id": "ops", "name": "Ops", "timezone": "America/New_York", "rotation": rotation}
    return Team.model_validate({**body, **fields})


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_the_first_member_is_on_call_from_the_first_handoff() -> None:
    oc = on_call(team(), PEOPLE, utc(2026, 3, 2, 14, 0))  # 09:00 EST
    assert (oc.primary.id, oc.source, oc.shift_start) == ("ann", "rotation", utc(2026, 3, 2, 14))


def test_the_handoff_stays_at_nine_local_when_the_clocks_spring_forward() -> None:
    """DST starts in New York on Sunday 8 March 2026: the Monday hand-off is at 13:00 UTC."""
    assert on_call(team(), PEOPLE, utc(2026, 3, 9, 12, 59)).primary.id == "ann"
    oc = on_call(team(), PEOPLE, utc(2026, 3, 9, 13, 0))
    assert oc.primary.id == "ben" and oc.shift_start == utc(2026, 3, 9, 13)
    assert oc.shift_start.astimezone(NY).hour == 9


def test_the_shift_across_the_spring_change_is_an_hour_short() -> None:
    oc = on_call(team(), PEOPLE, utc(2026, 3, 5, 12))
    assert oc.shift_end - oc.shift_start == timedelta(hours=7 * 24 - 1)


def test_the_shift_across_the_autumn_change_is_an_hour_long() -> None:
    """DST ends on Sunday 1 November 2026; the shift from Monday 26 October lasts 169 h."""
    oc = on_call(team(), PEOPLE, utc(2026, 11, 1, 12))
    assert (oc.shift_start, oc.shift_end) == (utc(2026, 10, 26, 13), utc(2026, 11, 2, 14))


def test_twelve_hour_shifts_hand_off_at_the_same_local_times_across_dst() -> None:
    rotation = {
        "members": ["ann", "ben"],
        "start": "2026-03-07",
        "handoff": "09:00",
        "length": "12h",
    }
    t = team(rotation=rotation)
    night = on_call(t, PEOPLE, utc(2026, 3, 8, 5))  # the night the clocks change
    assert night.primary.id == "ben"
    assert [x.astimezone(NY).hour for x in (night.shift_start, night.shift_end)] == [21, 9]
    assert night.shift_end - night.shift_start == timedelta(hours=11)


def test_before_the_first_handoff_the_rotation_runs_backwards() -> None:
    assert on_call(team(), PEOPLE, utc(2026, 3, 1)).primary.id == "cat"


def test_an_override_takes_precedence_over_the_rotation() -> None:
    t = team(overrides=[{"person": "dan", "start": "2026-03-03T18:00", "end": "2026-03-04T08:00"}])
    oc = on_call(t, PEOPLE, utc(2026, 3, 4, 1))
    assert (oc.primary.id, oc.source) == ("dan", "override")
    assert (oc.shift_start, oc.shift_end) == (utc(2026, 3, 3, 23), utc(2026, 3, 4, 13))


def test_an_override_with_a_utc_offset_is_read_as_given() -> None:
    o = {"person": "dan", "start": "2026-03-04T00:00:00+00:00", "end": "2026-03-04T06:00:00+00:00"}
    oc = on_call(team(overrides=[o]), PEOPLE, utc(2026, 3, 4, 5, 59))
    assert oc.primary.id == "dan" and oc.shift_end == utc(2026, 3, 4, 6)


def test_a_rotation_shift_is_cut_where_overrides_start_and_end() -> None:
    overrides = [
        {"person": "dan", "start": "2026-03-03T18:00", "end": "2026-03-04T08:00"},
        {"person": "dan", "start": "2026-03-06T18:00", "end": "2026-03-07T08:00"},
    ]
    oc = on_call(team(overrides=overrides), PEOPLE, utc(2026, 3, 5))
    assert (oc.primary.id, oc.source) == ("ann", "rotation")
    assert (oc.shift_start, oc.shift_end) == (utc(2026, 3, 4, 13), utc(2026, 3, 6, 23))


def test_the_secondary_is_the_next_person_in_the_rotation() -> None:
    oc = on_call(team(secondary=True), PEOPLE, utc(2026, 3, 5))
    assert (oc.primary.id, oc.secondary and oc.secondary.id) == ("ann", "ben")
    assert on_call(team(), PEOPLE, utc(2026, 3, 5)).secondary is None


def test_when_the_next_person_overrides_the_scheduled_one_becomes_secondary() -> None:
    t = team(
        secondary=True,
        overrides=[{"person": "ben", "start": "2026-03-04T09:00", "end": "2026-03-05T09:00"}],
    )
    oc = on_call(t, PEOPLE, utc(2026, 3, 4, 20))
    assert (oc.primary.id, oc.secondary and oc.secondary.id) == ("ben", "ann")


def test_the_escalation_chain_is_primary_secondary_then_escalation_contacts_each_once() -> None:
    t = team(secondary=True, escalate_to=["dan", "ann"])
    assert [p.id for p in escalation_chain(t, PEOPLE, utc(2026, 3, 5))] == ["ann", "ben", "dan"]
    assert [p.id for p in escalation_chain(team(), PEOPLE, utc(2026, 3, 5))] == ["ann"]


def test_people_may_be_given_as_a_mapping() -> None:
    by_id = {p.id: p for p in PEOPLE}
    assert on_call(team(), by_id, utc(2026, 3, 5)).primary == by_id["ann"]


def test_a_person_missing_from_people_is_named() -> None:
    with pytest.raises(NotFoundError, match="unknown person 'ann'"):
        on_call(team(), PEOPLE[1:], utc(2026, 3, 5))


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        on_call(team(), PEOPLE, datetime(2026, 3, 5))


@given(st.integers(0, 2 * 365 * 24 * 60).map(lambda m: utc(2026, 1, 1) + timedelta(minutes=m)))
def test_any_instant_lies_in_a_monday_nine_oclock_shift_whose_end_hands_over(now: datetime) -> None:
    oc = on_call(team(), PEOPLE, now)
    start, end = oc.shift_start.astimezone(NY), oc.shift_end.astimezone(NY)
    assert oc.shift_start <= now < oc.shift_end
    assert (start.weekday(), start.hour, start.minute, end.weekday(), end.hour) == (0, 9, 0, 0, 9)
    assert on_call(team(), PEOPLE, oc.shift_end).primary != oc.primary
