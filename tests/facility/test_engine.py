"""The status engine as pure functions: thresholds, hysteresis, staleness, dependencies,
maintenance overlay. Values in, values out; `now` is always passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facility.engine import (
    NoMaintenance,
    Policy,
    Track,
    Window,
    classify,
    evaluate,
    observe,
    own_status,
)
from facility.model import EffectiveStatus, Observation, ProbeState, Reason, State

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
P = Policy(stale_after=timedelta(minutes=2), consecutive=2)


def obs(
    state: ProbeState, secs: float = 0, cap: float | None = None, rid: str = "r", *reasons: Reason
) -> Observation:
    return Observation(rid, T0 + timedelta(seconds=secs), "test", state, cap, {}, tuple(reasons))


def fold(track: Track, *observations: Observation, policy: Policy = P) -> Track:
    for o in observations:
        track = observe(track, o, policy)
    return track


UP, DEG, DOWN, UNK = ProbeState.UP, ProbeState.DEGRADED, ProbeState.DOWN, ProbeState.UNKNOWN


class Maint:
    def __init__(self, ids: set[str]) -> None:
        self.ids = ids

    def active_window(self, resource_id: str, now: datetime) -> Window | None:
        return Window("w1", "OS upgrade") if resource_id in self.ids else None

    def next_change(self, now: datetime) -> datetime | None:
        return None


def run(
    tracks: dict[str, Track], pols: dict[str, Policy], now: datetime, maint: object = None
) -> dict[str, EffectiveStatus]:
    order = {rid: i for i, rid in enumerate(pols)}  # callers list dependencies first
    return evaluate(pols, order, tracks, pols, {}, maint or NoMaintenance(), now)


# -- thresholds -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "cap", "expected"),
    [
        (UP, 1.0, UP),
        (UP, 0.95, UP),
        (UP, 0.85, DEG),
        (UP, 0.0, DOWN),
        (DEG, 0.95, DEG),
        (DOWN, 1.0, DOWN),
        (UP, None, UP),
    ],
)
def test_capacity_thresholds_decide_the_probe_state(
    state: ProbeState, cap: float | None, expected: ProbeState
) -> None:
    got, reasons = classify(obs(state, cap=cap), P)
    assert got == expected
    if got != state:
        assert reasons[-1].code == "capacity_below_threshold"


def test_a_partition_with_29_of_400_nodes_drained_keeps_its_drain_reason_and_capacity() -> None:
    reason = Reason("nodes_drained", '29 nodes drained: "bad DIMM"')
    t = fold(Track(), obs(UP, 0, 371 / 400, "r", reason))
    assert t.capacity == pytest.approx(0.9275)
    assert t.state == UP and t.reasons == (reason,)


# -- hysteresis -------------------------------------------------------------------


def test_the_first_observation_is_accepted_at_once() -> None:
    assert fold(Track(), obs(DOWN)).state == DOWN


def test_a_single_contrary_observation_does_not_flip_the_state() -> None:
    t = fold(Track(), obs(UP, 0), obs(DOWN, 10))
    assert t.state == UP and t.candidate == DOWN and t.candidate_count == 1


def test_n_consecutive_observations_flip_the_state() -> None:
    assert fold(Track(), obs(UP, 0), obs(DOWN, 10), obs(DOWN, 20)).state == DOWN


def test_a_flapping_probe_never_flips_the_state() -> None:
    seq = [obs(UP if i % 2 else DOWN, 10 * i) for i in range(1, 40)]
    t = fold(Track(), obs(UP, 0), *seq)
    assert t.state == UP


def test_a_new_state_held_for_min_duration_is_accepted_with_fewer_observations() -> None:
    policy = Policy(
        stale_after=timedelta(minutes=10), consecutive=5, min_duration=timedelta(seconds=60)
    )
    t = fold(Track(), obs(UP, 0), obs(DOWN, 10), obs(DOWN, 75), policy=policy)
    assert t.state == DOWN


def test_an_observation_older_than_the_last_one_is_ignored() -> None:
    t = fold(Track(), obs(UP, 50), obs(DOWN, 10), obs(DOWN, 20))
    assert t.state == UP and t.observed_at == T0 + timedelta(seconds=50)


def test_fresh_data_after_a_silence_longer_than_stale_after_is_accepted_at_once() -> None:
    t = fold(Track(), obs(UP, 0), obs(DOWN, 600))
    assert t.state == DOWN


# -- staleness --------------------------------------------------------------------


def test_a_resource_never_observed_is_unknown_with_no_data() -> None:
    state, cap, reasons = own_status("r", Track(), P, T0)
    assert state == State.UNKNOWN and cap is None and reasons[0].code == "no_data"


def test_silence_past_stale_after_is_unknown_with_a_stale_reason() -> None:
    t = fold(Track(), obs(UP, 0, 1.0))
    assert own_status("r", t, P, T0 + timedelta(seconds=120))[0] == State.UP
    state, cap, reasons = own_status("r", t, P, T0 + timedelta(seconds=121))
    assert state == State.UNKNOWN and cap is None
    assert reasons[0].code == "stale"
    assert reasons[0].message == "no observation for 2m01s (stale after 2m00s); last seen up"


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(list(ProbeState)), st.integers(0, 3600), st.none() | st.floats(0, 1)
        ),
        max_size=30,
    ),
    st.integers(0, 7200),
    st.integers(1, 600),
    st.integers(1, 5),
)
def test_stale_is_never_up(
    seq: list[tuple[ProbeState, int, float | None]], now_s: int, stale_s: int, n: int
) -> None:
    policy = Policy(stale_after=timedelta(seconds=stale_s), consecutive=n)
    track = fold(Track(), *(obs(s, t, c) for s, t, c in seq), policy=policy)
    now = T0 + timedelta(seconds=now_s)
    out = run({"r": track}, {"r": policy}, now)["r"]
    last = track.observed_at
    if last is None or now - last > policy.stale_after:
        assert out.state == State.UNKNOWN
    assert out.state != State.UP or (last is not None and now - last <= policy.stale_after)


@settings(max_examples=200)
@given(st.sampled_from(list(ProbeState)), st.sampled_from(list(ProbeState)), st.integers(0, 400))
def test_a_resource_is_never_up_when_a_dependency_is_down_or_degraded(
    dep_state: ProbeState, own: ProbeState, age: int
) -> None:
    pols = {"dep": P, "r": Policy(stale_after=P.stale_after, depends_on=("dep",))}
    tracks = {"dep": fold(Track(), obs(dep_state, 0, rid="dep")), "r": fold(Track(), obs(own, 0))}
    out = run(tracks, pols, T0 + timedelta(seconds=age))
    if out["dep"].state in (State.DOWN, State.DEGRADED):
        assert out["r"].state != State.UP


# -- dependencies -----------------------------------------------------------------


def test_a_degraded_filesystem_degrades_its_dependents_and_is_named_as_root_cause() -> None:
    pols = {
        "scratch": P,
        "broker": Policy(P.stale_after, depends_on=("scratch",)),
        "beamline-path": Policy(P.stale_after, depends_on=("broker",)),
    }
    inactive = Reason("osts_inactive", "12 of 40 OSTs inactive")
    tracks = {
        "scratch": fold(Track(), obs(DOWN, 0, None, "scratch", inactive)),
        "broker": fold(Track(), obs(UP, 0, rid="broker")),
        "beamline-path": fold(Track(), obs(UP, 0, rid="beamline-path")),
    }
    out = run(tracks, pols, T0 + timedelta(seconds=5))
    assert out["broker"].state == State.DEGRADED
    path = out["beamline-path"]
    assert path.state == State.DEGRADED
    assert path.root_cause is not None and path.root_cause.resource_id == "scratch"
    assert path.reasons[-1].message == "depends on scratch (down: 12 of 40 OSTs inactive)"


def test_a_dependency_never_makes_a_resource_look_better_than_its_own_probe() -> None:
    pols = {"dep": P, "r": Policy(P.stale_after, depends_on=("dep",))}
    tracks = {"dep": fold(Track(), obs(DEG, 0, rid="dep")), "r": fold(Track(), obs(DOWN, 0))}
    assert run(tracks, pols, T0)["r"].state == State.DOWN


def test_a_stale_resource_stays_unknown_and_does_not_blame_its_dependency() -> None:
    pols = {"dep": P, "r": Policy(timedelta(seconds=30), depends_on=("dep",))}
    tracks = {"dep": fold(Track(), obs(DOWN, 100, rid="dep")), "r": fold(Track(), obs(UP, 0))}
    out = run(tracks, pols, T0 + timedelta(seconds=101))["r"]
    assert out.state == State.UNKNOWN and out.root_cause is None


def test_an_unknown_dependency_is_reported_but_does_not_invent_a_degradation() -> None:
    pols = {"dep": P, "r": Policy(P.stale_after, depends_on=("dep",))}
    tracks = {"dep": Track(), "r": fold(Track(), obs(UP, 0))}
    out = run(tracks, pols, T0)["r"]
    assert out.state == State.UP
    assert out.reasons[-1].code == "dependency" and "unknown" in out.reasons[-1].message


# -- maintenance overlay -----------------------------------------------------------


def test_maintenance_shows_maintenance_and_keeps_what_the_probe_sees_underneath() -> None:
    pols = {"r": P}
    tracks = {"r": fold(Track(), obs(DOWN, 0))}
    out = run(tracks, pols, T0, Maint({"r"}))["r"]
    assert out.state == State.MAINTENANCE
    assert out.underlying is not None and out.underlying.state == State.DOWN
    assert out.reasons[0].code == "maintenance"


def _after_window(state: ProbeState) -> EffectiveStatus:
    pols = {"r": P}
    tracks = {"r": fold(Track(), obs(state, 0))}
    during = run(tracks, pols, T0, Maint({"r"}))
    later = T0 + timedelta(minutes=1)
    return evaluate(pols, {"r": 0}, tracks, pols, during, NoMaintenance(), later)["r"]


def test_a_resource_still_down_when_its_window_ends_is_in_overrun() -> None:
    out = _after_window(DOWN)
    assert out.state == State.DOWN
    assert out.reasons[0].code == "maintenance_overrun" and "w1" in out.reasons[0].message


def test_a_resource_up_when_its_window_ends_has_no_overrun() -> None:
    out = _after_window(UP)
    assert out.state == State.UP and not out.reasons


def test_an_overrun_lasts_until_the_resource_recovers() -> None:
    pols = {"r": P}
    first = {"r": _after_window(DOWN)}
    tracks = {"r": fold(Track(), obs(DOWN, 0))}
    still = evaluate(
        pols, {"r": 0}, tracks, pols, first, NoMaintenance(), T0 + timedelta(minutes=2)
    )
    assert still["r"].reasons[0].code == "maintenance_overrun"
    healed = {"r": fold(Track(), obs(UP, 100), obs(UP, 110))}
    up = evaluate(pols, {"r": 0}, healed, pols, still, NoMaintenance(), T0 + timedelta(minutes=2))
    assert up["r"].state == State.UP and not up["r"].reasons


def test_a_dependency_in_maintenance_degrades_dependents_with_the_window_as_cause() -> None:
    pols = {"fs": P, "r": Policy(P.stale_after, depends_on=("fs",))}
    tracks = {"fs": fold(Track(), obs(UP, 0, rid="fs")), "r": fold(Track(), obs(UP, 0))}
    out = run(tracks, pols, T0, Maint({"fs"}))["r"]
    assert out.state == State.DEGRADED
    assert out.root_cause is not None and out.root_cause.state == State.MAINTENANCE
