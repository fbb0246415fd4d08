"""Priority: a table of incidents and the level each gets, explanations, and properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facility.model import State
from slas.priority import BeamtimeNeed, Priority, PriorityInput, PriorityPolicy, prioritize

POLICY = PriorityPolicy()
XPCS = BeamtimeNeed(beamline="xpcs-8id", title="XPCS gels", active=True)
SOON = BeamtimeNeed(
    beamline="xpcs-8id", title="XPCS gels", active=False, starts_in=timedelta(hours=2)
)
LATER = replace(SOON, starts_in=timedelta(days=3))
SCRATCH_DOWN = PriorityInput(resource_id="scratch", state="down", tier="24x7", capacity_lost=1.0)
SCRATCH_HALF = replace(SCRATCH_DOWN, state="degraded", capacity_lost=0.5)
BROKER_DOWN = replace(SCRATCH_DOWN, resource_id="dsn-rabbitmq", time_sensitive=True)
TESTBED = PriorityInput(resource_id="tern", state="degraded", tier="8x5", capacity_lost=0.25)
PROJECT = PriorityInput(resource_id="project", state="degraded", tier="16x5", capacity_lost=0.2)

CASES: dict[str, tuple[PriorityInput, str]] = {
    "scratch down during an active beamtime is P1": (replace(SCRATCH_DOWN, beamtime=XPCS), "P1"),
    "a 24x7 filesystem down with no beamtime is P2": (SCRATCH_DOWN, "P2"),
    "a 24x7 filesystem down with many dependents is still P2": (
        replace(SCRATCH_DOWN, impacted=25),
        "P2",
    ),
    "a 24x7 filesystem down at night is still P2": (
        replace(SCRATCH_DOWN, in_service_hours=False),
        "P2",
    ),
    "a time-sensitive broker down with no beamtime is P2": (BROKER_DOWN, "P2"),
    "a time-sensitive broker down with a beamtime starting in two hours is P1": (
        replace(BROKER_DOWN, beamtime=SOON),
        "P1",
    ),
    "a beamtime starting in three days does not count yet": (
        replace(BROKER_DOWN, beamtime=LATER),
        "P2",
    ),
    "a degraded 8x5 testbed at night is P4": (replace(TESTBED, in_service_hours=False), "P4"),
    "an 8x5 testbed down in working hours is P3": (
        replace(TESTBED, state="down", capacity_lost=1.0),
        "P3",
    ),
    "the same testbed down at night is P4": (
        replace(TESTBED, state="down", capacity_lost=1.0, in_service_hours=False),
        "P4",
    ),
    "a slightly degraded 16x5 filesystem is P4": (PROJECT, "P4"),
    "budget nearly exhausted raises the priority": (replace(PROJECT, budget_remaining=0.05), "P3"),
    "a half-degraded 24x7 filesystem is P3": (SCRATCH_HALF, "P3"),
    "a fast burn that exhausts the budget within hours makes it P2": (
        replace(SCRATCH_HALF, budget_remaining=0.2, time_to_exhaustion=timedelta(hours=3)),
        "P2",
    ),
    "an unknown 24x7 resource is P3": (
        replace(SCRATCH_DOWN, state="unknown", capacity_lost=0),
        "P3",
    ),
    "a resource with no tier is at most P4, even during a beamtime": (
        replace(SCRATCH_DOWN, tier=None, beamtime=XPCS),
        "P4",
    ),
    "a resource in maintenance scores no state points": (
        replace(SCRATCH_DOWN, state=State.MAINTENANCE, capacity_lost=0),
        "P4",
    ),
}


@pytest.mark.parametrize(("inp", "level"), CASES.values(), ids=CASES.keys())
def test_priority_table(inp: PriorityInput, level: str) -> None:
    assert prioritize(inp, POLICY).level == level


def test_each_factor_explains_itself_with_its_points() -> None:
    p = prioritize(replace(SCRATCH_DOWN, beamtime=XPCS, impacted=3), POLICY)
    assert [f.explanation for f in p.factors] == [
        "scratch is down: +30",
        "24x7 service tier: +20",
        "100% of capacity lost: +15",
        "active beamtime 'XPCS gels' on xpcs-8id needs this resource: +40",
        "3 dependent(s) affected: +3",
    ]
    assert p.score == 108 == sum(f.points for f in p.factors)


def test_the_summary_names_the_level_and_the_biggest_factors() -> None:
    p = prioritize(replace(SCRATCH_DOWN, beamtime=XPCS), POLICY)
    assert p.summary == (
        "scratch is down: P1 (105 points) — active beamtime 'XPCS gels' on xpcs-8id needs "
        "this resource: +40; scratch is down: +30; 24x7 service tier: +20."
    )


def test_an_imminent_beamtime_says_when_it_starts() -> None:
    (f,) = [
        f
        for f in prioritize(replace(BROKER_DOWN, beamtime=SOON), POLICY).factors
        if f.name == "beamtime"
    ]
    assert (
        f.explanation
        == "beamtime 'XPCS gels' on xpcs-8id starts in 2 h and needs this resource: +20"
    )


def test_budget_and_burn_factors_read_as_sentences() -> None:
    inp = replace(SCRATCH_HALF, budget_remaining=0.05, time_to_exhaustion=timedelta(hours=3))
    texts = [f.explanation for f in prioritize(inp, POLICY).factors]
    assert "only 5% of the error budget left (below 25%): +10" in texts
    assert "at the current burn the error budget runs out in 3 h: +15" in texts


def test_an_exhausted_budget_counts_more_than_a_low_one() -> None:
    low = prioritize(replace(PROJECT, budget_remaining=0.1), POLICY)
    gone = prioritize(replace(PROJECT, budget_remaining=0.0), POLICY)
    assert gone.score - low.score == 10
    assert "error budget exhausted: +20" in [f.explanation for f in gone.factors]


def test_outside_service_hours_is_a_negative_factor_for_office_tiers_only() -> None:
    night = prioritize(replace(TESTBED, in_service_hours=False), POLICY)
    assert night.factors[-1].explanation == "outside 8x5 service hours: -30"
    assert prioritize(replace(SCRATCH_DOWN, in_service_hours=False), POLICY).score == 65


def test_no_tier_is_explained_and_the_cap_is_in_the_summary() -> None:
    p = prioritize(replace(SCRATCH_DOWN, tier=None, beamtime=XPCS), POLICY)
    assert "no service tier: not paged unless routed, at most P4: +0" in [
        f.explanation for f in p.factors
    ]
    assert p.score == 85 and "capped because it has no service tier" in p.summary
    low = prioritize(replace(TESTBED, tier=None), POLICY)
    assert low.level == "P4" and "capped" not in low.summary


def test_every_number_is_configurable() -> None:
    policy = PriorityPolicy.model_validate(
        {
            "thresholds": {"P1": 60, "P2": 40, "P3": 20},
            "tier": {"24x7": 0},
            "untiered_at_most": "P2",
        }
    )
    assert prioritize(SCRATCH_DOWN, policy).level == "P2"  # 30 + 0 + 15
    assert prioritize(replace(SCRATCH_DOWN, tier=None, beamtime=XPCS), policy).level == "P2"


def test_an_empty_policy_section_gives_the_defaults() -> None:
    assert PriorityPolicy.model_validate({}) == POLICY


@pytest.mark.parametrize(
    "fields",
    [{"capacity_lost": 1.5}, {"tier": "24x5"}, {"impacted": -1}],
    ids=["capacity above 1", "unknown tier", "negative impact"],
)
def test_impossible_inputs_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        replace(SCRATCH_DOWN, **fields)  # type: ignore[arg-type]


# --- properties -----------------------------------------------------------------


def rank(p: Priority) -> int:
    """1 for P1 (the most urgent) … 4 for P4."""
    return int(p.level[1])


beamtimes = st.one_of(
    st.none(),
    st.builds(
        BeamtimeNeed,
        beamline=st.just("bl"),
        title=st.just("t"),
        active=st.booleans(),
        starts_in=st.one_of(st.none(), st.timedeltas(timedelta(hours=-5), timedelta(days=5))),
    ),
)
inputs = st.builds(
    PriorityInput,
    resource_id=st.just("r"),
    state=st.sampled_from([s.value for s in State]),
    tier=st.sampled_from([None, "24x7", "16x5", "8x5"]),
    time_sensitive=st.booleans(),
    capacity_lost=st.floats(0, 1),
    beamtime=beamtimes,
    budget_remaining=st.one_of(st.none(), st.floats(-0.5, 1)),
    time_to_exhaustion=st.one_of(st.none(), st.timedeltas(timedelta(0), timedelta(days=10))),
    in_service_hours=st.booleans(),
    impacted=st.integers(0, 40),
)


@st.composite
def policies(draw: st.DrawFn) -> PriorityPolicy:
    active = draw(st.floats(0, 100))
    return PriorityPolicy.model_validate(
        {
            "capacity_lost": draw(st.floats(0, 100)),
            "beamtime": {"active": active, "imminent": draw(st.floats(0, active))},
            "untiered_at_most": draw(st.sampled_from(["P1", "P2", "P3", "P4"])),
        }
    )


@given(inputs, st.floats(0, 1), policies())
def test_more_capacity_lost_never_lowers_the_priority(
    inp: PriorityInput, more: float, policy: PriorityPolicy
) -> None:
    before = prioritize(inp, policy)
    after = prioritize(replace(inp, capacity_lost=max(inp.capacity_lost, more)), policy)
    assert after.score >= before.score and rank(after) <= rank(before)


@given(inputs, policies())
def test_an_active_beamtime_never_lowers_the_priority(
    inp: PriorityInput, policy: PriorityPolicy
) -> None:
    before = prioritize(inp, policy)
    after = prioritize(replace(inp, beamtime=XPCS), policy)
    assert after.score >= before.score and rank(after) <= rank(before)


@given(inputs)
def test_the_score_is_the_sum_of_the_factors_and_no_tier_is_never_paged_above_p4(
    inp: PriorityInput,
) -> None:
    p = prioritize(inp, POLICY)
    assert p.score == pytest.approx(sum(f.points for f in p.factors))
    assert inp.tier is not None or p.level == "P4"
