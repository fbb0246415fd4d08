"""Correlation: status transitions in, incident actions out, one incident per root cause."""

from __future__ import annotations

from datetime import UTC, datetime

from facility.model import EffectiveStatus, Reason, RootCause, State, Transition, Underlying
from slas.incidents import Affect, Open, OpenIncident, Recover, Resolve, correlate, key_of

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
DEPENDS = {"svc1": ("scratch",), "svc2": ("scratch",), "part": ("ctld",), "scratch": ()}
TIERS = {
    "scratch": "24x7",
    "svc1": "24x7",
    "svc2": None,
    "ctld": "24x7",
    "part": "24x7",
    "lab": None,
}


def st(
    rid: str,
    state: State,
    *codes: str,
    root: str | None = None,
    source: str | None = "coll",
    under: bool = False,
) -> EffectiveStatus:
    reasons = tuple(Reason(c, f"{c} message") for c in codes)
    cause = RootCause(root, State.DOWN, "down") if root else None
    underlying = Underlying(State.DOWN, "w1", "upgrade") if under else None
    return EffectiveStatus(rid, state, None, reasons, NOW, NOW, source, cause, underlying)


def transitions(*statuses: EffectiveStatus) -> list[Transition]:
    return [Transition(None, s, NOW, True) for s in statuses]


def run(*statuses: EffectiveStatus, open_: tuple[OpenIncident, ...] = ()) -> list:
    current = {s.resource_id: s for s in statuses}
    return correlate(transitions(*statuses), open_, current, DEPENDS, TIERS, NOW)


def test_a_filesystem_outage_that_degrades_its_dependents_is_one_incident_listing_them() -> None:
    actions = run(
        st("scratch", State.DOWN, "io_error"),
        st("svc1", State.DEGRADED, "dependency", root="scratch"),
        st("svc2", State.DEGRADED, "dependency", root="scratch"),
    )
    opens = [a for a in actions if isinstance(a, Open)]
    assert [(o.key, o.subject) for o in opens] == [("resource:scratch", "scratch")]
    assert [a.impact.resource_id for a in actions if isinstance(a, Affect)] == ["svc1", "svc2"]


def test_a_dependent_reported_first_still_opens_the_incident_about_the_root_cause() -> None:
    actions = run(
        st("svc1", State.DEGRADED, "dependency", root="scratch"),
        st("scratch", State.DOWN, "io_error"),
    )
    assert isinstance(actions[0], Open) and actions[0].key == "resource:scratch"
    assert actions[0].impact.resource_id == "svc1"


def test_a_silent_collector_is_an_incident_about_the_collector() -> None:
    actions = run(
        st("scratch", State.UNKNOWN, "stale", source="lustre-scratch"),
        st("svc1", State.UNKNOWN, "stale", source="lustre-scratch"),
    )
    assert [(type(a).__name__, a.key) for a in actions] == [
        ("Open", "collector:lustre-scratch"),
        ("Affect", "collector:lustre-scratch"),
    ]
    assert actions[0].kind == "collector"


def test_resources_never_observed_yet_open_nothing() -> None:
    assert run(st("scratch", State.UNKNOWN, "no_data", source=None)) == []


def test_partitions_unknown_because_their_controller_is_down_belong_to_its_incident() -> None:
    actions = run(st("ctld", State.DOWN, "unreachable"), st("part", State.UNKNOWN, "slurm_error"))
    assert [a.key for a in actions] == ["resource:ctld", "resource:ctld"]


def test_planned_maintenance_opens_nothing_but_an_overrun_does() -> None:
    assert run(st("scratch", State.MAINTENANCE, "maintenance", under=True)) == []
    degraded_by_plan = st("svc1", State.DEGRADED, "dependency", root="scratch")
    current = {"scratch": st("scratch", State.MAINTENANCE), "svc1": degraded_by_plan}
    assert key_of("svc1", current, DEPENDS) is None
    overrun = run(st("scratch", State.DOWN, "maintenance_overrun", "io_error"))
    assert isinstance(overrun[0], Open)


def test_a_resource_without_a_tier_is_not_paged() -> None:
    assert run(st("lab", State.DOWN, "x")) == []


def test_the_incident_resolves_when_every_impacted_resource_has_recovered() -> None:
    open_ = (OpenIncident("resource:scratch", frozenset({"scratch", "svc1"})),)
    partial = run(st("svc1", State.UP), open_=open_)
    assert [type(a) for a in partial] == [Recover]
    both = run(st("svc1", State.UP), st("scratch", State.UP), open_=open_)
    assert [type(a) for a in both] == [Recover, Recover, Resolve]


def test_a_resource_whose_cause_changes_moves_to_the_new_incident() -> None:
    open_ = (OpenIncident("collector:coll", frozenset({"scratch"})),)
    actions = run(st("scratch", State.DOWN, "io_error"), open_=open_)
    assert [type(a) for a in actions] == [Recover, Open, Resolve]
