"""Matching incidents to runbooks: the expected runbook comes first, and the score says why."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from facility.config import load_facility
from facility.settings import demo_facility_file
from runbooks.library import shipped
from runbooks.matching import (
    ALERT,
    COLLECTOR_KIND,
    REASON,
    REASON_RANK,
    RESOURCE,
    RESOURCE_TYPE,
    Match,
    MatchInput,
    best,
    match,
    score,
)
from runbooks.model import AppliesTo, Runbook

BOOKS = shipped()
DEMO = load_facility(demo_facility_file())


def incident(rid: str, *codes: str, alerts: tuple[str, ...] = ()) -> MatchInput:
    """What the incident engine would know about resource `rid` of the demo facility."""
    return MatchInput.for_resource(DEMO.resource(rid), codes, alerts)


def ids(found: list[Match]) -> list[str]:
    return [m.runbook.id for m in found]


def book(rid: str, **applies: tuple[str, ...]) -> Runbook:
    return Runbook(rid, rid, AppliesTo(**applies), "P3", "s", (), "", Path(f"{rid}.md"))


def first(what: MatchInput) -> str:
    found = best(BOOKS, what)
    assert found is not None
    return found.runbook.id


def test_a_drained_partition_gets_the_partition_drained_runbook() -> None:
    what = incident("borealis-batch", "nodes_drained", "capacity_below_threshold")
    assert first(what) == "partition-drained"


def test_an_ost_inactive_scratch_gets_the_lustre_runbook_before_the_generic_filesystem_one() -> (
    None
):
    found = ids(match(BOOKS, incident("scratch", "osts_unavailable")))
    assert found[0] == "lustre-targets-unavailable"
    assert found.index("filesystem-io") > 0


def test_a_full_lustre_scratch_gets_the_full_filesystem_runbook_first() -> None:
    found = ids(match(BOOKS, incident("scratch", "space_exhausted")))
    assert found[:2] == ["filesystem-full", "lustre-targets-unavailable"]


def test_a_hung_nfs_home_gets_the_filesystem_io_runbook() -> None:
    assert first(incident("home", "io_timeout")) == "filesystem-io"


def test_the_first_reason_decides_between_runbooks_that_each_cover_one() -> None:
    closed = incident("borealis-batch", "partition_down", "nodes_drained")
    assert ids(match(BOOKS, closed))[:2] == ["partition-closed", "partition-drained"]
    overrun = incident("tern", "maintenance_overrun", "nodes_down")
    assert ids(match(BOOKS, overrun))[:2] == ["maintenance-overrun", "nodes-down"]


def test_nodes_down_before_drained_when_down_is_the_first_reason() -> None:
    what = incident("borealis-batch", "nodes_down", "nodes_drained", "capacity_below_threshold")
    assert first(what) == "nodes-down"


def test_an_unreachable_broker_gets_the_runbook_of_its_kind() -> None:
    assert first(incident("dsn-rabbitmq", "broker_unreachable")) == "rabbitmq-broker-down"
    assert first(incident("dsn-redis", "broker_unreachable")) == "redis-broker"
    assert first(incident("dsn-redis", "broker_slow")) == "redis-broker"
    assert first(incident("dsn-rabbitmq", "broker_slow")) == "rabbitmq-backlog"


def test_a_lagging_redis_stream_and_a_growing_rabbitmq_queue_get_their_runbooks() -> None:
    assert first(incident("dsn-redis", "stream_lag")) == "redis-broker"
    assert first(incident("dsn-rabbitmq", "backlog_growing")) == "rabbitmq-backlog"


def test_a_lossy_wan_link_gets_the_link_runbook() -> None:
    assert first(incident("link-tokamak", "packet_loss")) == "wan-link"


def test_an_interactive_service_down_gets_its_runbook_by_type_alone() -> None:
    found = match(BOOKS, incident("jupyterhub"))
    assert ids(found) == ["interactive-service-down"]
    assert found[0].score == RESOURCE_TYPE


def test_a_silent_collector_gets_the_collector_runbook_not_the_resource_one() -> None:
    assert first(incident("borealis-batch", "stale")) == "collector-silent"
    assert first(incident("scratch", "collector_timeout")) == "collector-silent"


def test_a_controller_that_does_not_answer_gets_the_slurmctld_runbook() -> None:
    assert first(incident("borealis-slurmctld", "slurmctld_unreachable")) == "slurmctld-unreachable"
    found = ids(match(BOOKS, incident("borealis-slurmctld", "slurmdbd_unreachable")))
    assert found == ["slurmdbd-unreachable", "slurm-scheduler-slow"]


def test_an_sla_burn_alert_gets_the_sla_runbook() -> None:
    what = MatchInput("lightsource-streaming", None, (), ("FacstatSlaErrorBudgetBurn",))
    found = match(BOOKS, what)
    assert ids(found) == ["sla-error-budget-burn"]
    assert found[0].score == ALERT


def test_a_degraded_dependent_gets_the_dependency_runbook() -> None:
    assert first(incident("borealis-interactive", "dependency")) == "dependency-degraded"


def test_nothing_matches_an_incident_no_runbook_speaks_of() -> None:
    what = MatchInput("x", "website", ("something_new",))
    assert match(BOOKS, what) == []
    assert best(BOOKS, what) is None


def test_a_runbook_naming_the_resource_beats_every_code_match() -> None:
    mine = book("scratch-special", resources=("scratch",))
    many = book("many", reason_codes=("osts_unavailable", "space_low", "inodes_low"))
    what = incident("scratch", "osts_unavailable", "space_low", "inodes_low")
    assert ids(match([many, mine, *BOOKS], what))[:2] == ["scratch-special", "many"]


def test_a_code_match_beats_an_alert_a_kind_and_a_type_together() -> None:
    code = book("code", reason_codes=("space_low",))
    rest = book(
        "rest",
        alerts=("FacstatSlaErrorBudgetBurn",),
        collector_kinds=("lustre",),
        resource_types=("storage:filesystem",),
    )
    what = incident(
        "scratch", "osts_unavailable", "space_low", alerts=("FacstatSlaErrorBudgetBurn",)
    )
    assert ids(match([rest, code], what)) == ["code", "rest"]
    assert score(rest, what).score == ALERT + COLLECTOR_KIND + RESOURCE_TYPE


def test_the_score_adds_up_what_the_runbook_names_and_why_says_each_part() -> None:
    rb = book(
        "all",
        resources=("scratch",),
        reason_codes=("space_low", "osts_unavailable"),
        collector_kinds=("lustre",),
        resource_types=("storage:filesystem",),
    )
    m = score(rb, incident("scratch", "osts_unavailable", "space_low"))
    assert m.score == RESOURCE + REASON + 9 * REASON_RANK + 1_000 + COLLECTOR_KIND + RESOURCE_TYPE
    assert m.why == (
        "names resource scratch (+1000000)",
        "covers reason osts_unavailable, reason 1 of 2 (+190000)",
        "also covers reason space_low (+1000)",
        "is for lustre collectors (+10)",
        "is for resources of type storage:filesystem (+1)",
    )


def test_runbooks_with_equal_scores_come_by_id() -> None:
    a, b = book("b-book", reason_codes=("stale",)), book("a-book", reason_codes=("stale",))
    assert ids(match([a, b], MatchInput("r", None, ("stale",)))) == ["a-book", "b-book"]


@pytest.mark.parametrize("position", [0, 3, 9, 15])
def test_a_later_reason_ranks_lower_but_never_below_zero(position: int) -> None:
    codes = (*(f"other_{i}" for i in range(position)), "stale")
    m = score(book("x", reason_codes=("stale",)), MatchInput("r", None, codes))
    assert m.score == REASON + REASON_RANK * max(0, 9 - position)


def test_the_match_input_of_a_resource_carries_its_type_and_collector_kind() -> None:
    what = incident("scratch", "space_low")
    assert what == MatchInput("scratch", "storage:filesystem", ("space_low",), (), "lustre")
    assert replace(what, collector_kind=None).collector_kind is None
