"""Escalation: what to page next, never twice, and when to stay quiet."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from slas.escalation import (
    EscalationPolicy,
    PageState,
    cooldown_reopens,
    next_due,
    next_pages,
    schedule,
)
from slas.priority import Priority

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)
MIN = timedelta(minutes=1)
POLICY = EscalationPolicy()
STATE = PageState(incident_id="inc-7", triggered_at=T0, levels=3)


def keys(
    state: PageState, now: datetime, priority: str = "P1", policy: EscalationPolicy = POLICY
) -> list[str]:
    return [p.key for p in next_pages(state, priority, policy, now)]  # type: ignore[arg-type]


def sent(state: PageState, *ks: str) -> PageState:
    return replace(state, sent=state.sent | set(ks))


def test_the_trigger_page_goes_to_level_one_at_once() -> None:
    (page,) = next_pages(STATE, "P1", POLICY, T0)
    assert (page.key, page.level, page.repeat, page.kind, page.due) == (
        "inc-7:1:0",
        1,
        0,
        "trigger",
        T0,
    )


def test_an_unacknowledged_p1_escalates_to_level_2_after_5_minutes() -> None:
    state = sent(STATE, "inc-7:1:0")
    assert keys(state, T0 + 5 * MIN - timedelta(seconds=1)) == []
    (page,) = next_pages(state, "P1", POLICY, T0 + 5 * MIN)
    assert (page.key, page.level, page.kind) == ("inc-7:2:0", 2, "escalation")


def test_no_duplicate_page_for_the_same_incident() -> None:
    now = T0 + 6 * MIN
    first = keys(STATE, now)
    assert first == ["inc-7:1:0", "inc-7:2:0"]
    assert keys(STATE, now) == first  # pure: the same state gives the same answer
    assert keys(sent(STATE, *first), now) == []


def test_an_acknowledged_incident_is_never_paged_again() -> None:
    state = replace(sent(STATE, "inc-7:1:0"), acknowledged_at=T0 + 2 * MIN)
    assert all(keys(state, T0 + k * MIN) == [] for k in range(2, 24 * 60, 7))


def test_an_acknowledgement_after_now_does_not_silence_the_past() -> None:
    assert keys(replace(STATE, acknowledged_at=T0 + 10 * MIN), T0) == ["inc-7:1:0"]


def test_a_resolved_incident_is_never_paged_again() -> None:
    assert keys(replace(STATE, resolved_at=T0 + MIN), T0 + 30 * MIN) == []


def test_a_resource_under_planned_maintenance_does_not_page() -> None:
    assert keys(replace(STATE, under_maintenance=True), T0 + 30 * MIN) == []


def test_an_overrun_pages() -> None:
    """An overrun is not planned maintenance: the engine passes under_maintenance=False."""
    overrun = replace(STATE, under_maintenance=False)
    assert keys(overrun, T0) == ["inc-7:1:0"]


def test_maintenance_pages_can_be_enabled() -> None:
    policy = EscalationPolicy.model_validate({"maintenance_pages": True})
    assert keys(replace(STATE, under_maintenance=True), T0, policy=policy) == ["inc-7:1:0"]


def test_the_top_level_repeats_every_15_minutes_three_times_then_stops() -> None:
    pages = schedule(STATE, "P1", POLICY)
    assert [(p.key, p.kind, (p.due - T0) // MIN) for p in pages] == [
        ("inc-7:1:0", "trigger", 0),
        ("inc-7:2:0", "escalation", 5),
        ("inc-7:3:0", "escalation", 10),
        ("inc-7:3:1", "repeat", 25),
        ("inc-7:3:2", "repeat", 40),
        ("inc-7:3:3", "repeat", 55),
    ]
    everything = sent(STATE, *(p.key for p in pages))
    assert keys(everything, T0 + timedelta(days=2)) == []


def test_a_lower_level_repeats_until_the_next_level_is_due() -> None:
    policy = EscalationPolicy.model_validate(
        {"P3": {"ack_within": "1h", "repeat_every": "20m", "max_repeats": 5}}
    )
    pages = schedule(replace(STATE, levels=2), "P3", policy)
    assert [(p.key, (p.due - T0) // MIN) for p in pages] == [
        ("inc-7:1:0", 0),
        ("inc-7:1:1", 20),
        ("inc-7:1:2", 40),
        ("inc-7:2:0", 60),
        *((f"inc-7:2:{r}", 60 + 20 * r) for r in range(1, 6)),
    ]


def test_a_one_person_chain_repeats_at_level_one() -> None:
    pages = schedule(replace(STATE, levels=1), "P1", POLICY)
    assert [p.key for p in pages] == ["inc-7:1:0", "inc-7:1:1", "inc-7:1:2", "inc-7:1:3"]


def test_after_an_engine_outage_each_level_gets_one_page_not_a_burst_of_stale_repeats() -> None:
    assert keys(STATE, T0 + 45 * MIN) == ["inc-7:1:0", "inc-7:2:0", "inc-7:3:2"]


def test_a_level_first_paged_in_a_repeats_slot_gets_a_trigger_not_a_repeat() -> None:
    (page,) = next_pages(replace(STATE, levels=1), "P1", POLICY, T0 + 20 * MIN)
    assert (page.key, page.kind) == ("inc-7:1:1", "trigger")
    (page,) = next_pages(
        replace(STATE, levels=1, sent=frozenset({"inc-7:1:0"})), "P1", POLICY, T0 + 20 * MIN
    )
    assert (page.key, page.kind) == ("inc-7:1:1", "repeat")


def test_a_priority_raised_mid_incident_keeps_the_keys_already_sent() -> None:
    state = sent(STATE, "inc-7:1:0")
    assert keys(state, T0 + 20 * MIN, priority="P3") == []
    assert keys(state, T0 + 20 * MIN, priority="P1") == ["inc-7:2:0", "inc-7:3:0"]


def test_the_priority_may_be_given_as_a_priority_value() -> None:
    p1 = Priority(level="P1", score=100, factors=(), summary="")
    assert [p.key for p in next_pages(STATE, p1, POLICY, T0)] == ["inc-7:1:0"]


def test_a_partly_given_priority_keeps_its_own_defaults() -> None:
    policy = EscalationPolicy.model_validate({"P2": {"max_repeats": 1}})
    assert (policy.p2.ack_within, policy.p2.repeat_every, policy.p2.max_repeats) == (
        15 * MIN,
        30 * MIN,
        1,
    )
    assert policy.p1 == POLICY.p1


def test_next_due_says_when_to_look_again() -> None:
    assert next_due(sent(STATE, "inc-7:1:0"), "P1", POLICY, T0) == T0 + 5 * MIN
    assert next_due(STATE, "P1", POLICY, T0 + 2 * 60 * MIN) is None
    assert next_due(replace(STATE, acknowledged_at=T0), "P1", POLICY, T0) is None


def test_a_retrigger_within_the_cooldown_reopens() -> None:
    assert cooldown_reopens(T0, T0 + 29 * MIN, POLICY)
    assert cooldown_reopens(T0, T0 + 30 * MIN, POLICY)
    assert not cooldown_reopens(T0, T0 + 31 * MIN, POLICY)
    assert not cooldown_reopens(None, T0, POLICY)
    assert not cooldown_reopens(T0, T0 - MIN, POLICY)


@given(
    st.lists(st.integers(0, 180), min_size=1, max_size=40),
    st.integers(1, 5),
    st.sampled_from(["P1", "P2", "P3", "P4"]),
)
def test_an_engine_polling_at_any_times_never_sends_a_key_twice_nor_early(
    minutes: list[int], levels: int, priority: str
) -> None:
    state, seen = replace(STATE, levels=levels), list[str]()
    for m in sorted(minutes):
        now = T0 + m * MIN
        pages = next_pages(state, priority, POLICY, now)  # type: ignore[arg-type]
        assert all(p.due <= now and 1 <= p.level <= levels for p in pages)
        seen += [p.key for p in pages]
        state = sent(state, *(p.key for p in pages))
    assert len(seen) == len(set(seen))
    first = next_pages(replace(STATE, levels=levels), priority, POLICY, T0 + min(minutes) * MIN)  # type: ignore[arg-type]
    assert (first[0].level, first[0].kind) == (1, "trigger")
