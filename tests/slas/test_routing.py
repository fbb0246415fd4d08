"""Routing: first match wins unless it continues, time windows in their zone, owners."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from facility.config import load_facility
from slas.incident_policy import Route, Team
from slas.incident_policy_file import load_incident_policy
from slas.routing import RouteInput, route, team_for

DATA = Path(__file__).parent.parent / "data"
MONDAY_NOON = datetime(2026, 3, 2, 12, tzinfo=UTC)
SATURDAY_NOON = datetime(2026, 3, 7, 12, tzinfo=UTC)
SCRATCH = RouteInput(
    priority="P1",
    team_id="storage",
    system="storage",
    resource_type="storage:filesystem",
    resource_id="scratch",
)


def routes(*specs: dict[str, Any]) -> list[Route]:
    return [Route.model_validate(s) for s in specs]


def inp(**fields: Any) -> RouteInput:
    return RouteInput(**{**vars_of(SCRATCH), **fields})


def vars_of(r: RouteInput) -> dict[str, Any]:
    return {k: getattr(r, k) for k in RouteInput.__slots__}


def test_the_first_matching_route_wins() -> None:
    rs = routes(
        {"match": {"priorities": ["P2"]}, "receivers": ["a"]},
        {"match": {"systems": ["storage"]}, "receivers": ["b"]},
        {"receivers": ["c"]},
    )
    assert route(SCRATCH, rs, MONDAY_NOON) == ["b"]


def test_continue_adds_the_receivers_of_later_matches_each_once() -> None:
    rs = routes(
        {"match": {"priorities": ["P1"]}, "receivers": ["mail", "hook"], "continue": True},
        {"match": {"teams": ["storage"]}, "receivers": ["hook", "am"], "continue": True},
        {"match": {"teams": ["hpc"]}, "receivers": ["never"]},
        {"receivers": ["default"]},
        {"receivers": ["after-default"]},
    )
    assert route(SCRATCH, rs, MONDAY_NOON) == ["mail", "hook", "am", "default"]


def test_nothing_matches_gives_no_receivers() -> None:
    rs = routes({"match": {"priorities": ["P3", "P4"]}, "receivers": ["a"]})
    assert route(SCRATCH, rs, MONDAY_NOON) == []


def test_a_route_without_receivers_drops_what_it_matches() -> None:
    rs = routes({"match": {"resources": ["scratch"]}, "receivers": []}, {"receivers": ["a"]})
    assert route(SCRATCH, rs, MONDAY_NOON) == []
    assert route(inp(resource_id="home"), rs, MONDAY_NOON) == ["a"]


def test_an_incident_without_a_team_does_not_match_a_team_condition() -> None:
    rs = routes({"match": {"teams": ["storage"]}, "receivers": ["a"]}, {"receivers": ["b"]})
    assert route(inp(team_id=None), rs, MONDAY_NOON) == ["b"]


def test_every_condition_of_a_match_must_hold() -> None:
    rs = routes(
        {"match": {"priorities": ["P1"], "resource_types": ["network"]}, "receivers": ["a"]}
    )
    assert route(SCRATCH, rs, MONDAY_NOON) == []
    assert route(inp(resource_type="network"), rs, MONDAY_NOON) == ["a"]


OFFICE = {
    "days": ["mon", "tue", "wed", "thu", "fri"],
    "from": "08:00",
    "to": "18:00",
    "timezone": "America/New_York",
}


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 3, 2, 12, 59, tzinfo=UTC), []),  # 07:59 EST
        (datetime(2026, 3, 2, 13, 0, tzinfo=UTC), ["office"]),  # 08:00 EST
        (datetime(2026, 3, 9, 12, 0, tzinfo=UTC), ["office"]),  # 08:00 EDT, after the change
        (datetime(2026, 3, 2, 23, 0, tzinfo=UTC), []),  # 18:00 EST: the end is excluded
        (SATURDAY_NOON, []),
    ],
    ids=["before", "at the start", "after the clocks change", "at the end", "on Saturday"],
)
def test_a_time_window_is_read_on_its_own_zones_clock(now: datetime, expected: list[str]) -> None:
    rs = routes({"match": {"time": OFFICE}, "receivers": ["office"]})
    assert route(SCRATCH, rs, now) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 3, 6, 23, tzinfo=UTC), ["night"]),  # Friday 23:00
        (datetime(2026, 3, 7, 5, tzinfo=UTC), ["night"]),  # Saturday 05:00, Friday's night
        (datetime(2026, 3, 7, 23, tzinfo=UTC), []),  # Saturday 23:00: Saturday is not listed
        (datetime(2026, 3, 2, 5, tzinfo=UTC), []),  # Monday 05:00 is Sunday's night
    ],
    ids=["friday evening", "friday night after midnight", "saturday evening", "sunday night"],
)
def test_an_overnight_window_belongs_to_the_day_it_starts(
    now: datetime, expected: list[str]
) -> None:
    window = {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "22:00", "to": "06:00"}
    assert (
        route(SCRATCH, routes({"match": {"time": window}, "receivers": ["night"]}), now) == expected
    )


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        route(SCRATCH, [], datetime(2026, 3, 2))


TEAMS = [
    Team.model_validate(
        {
            "id": i,
            "name": i,
            "systems": s,
            "resource_types": t,
            "rotation": {"members": ["x"], "start": "2026-01-01"},
        }
    )
    for i, s, t in [
        ("hpc-ops", ["borealis", "tern"], []),
        ("slurm", ["borealis"], ["urn:facstat:scheduler"]),
        ("storage", ["storage"], []),
    ]
]


@pytest.mark.parametrize(
    ("system", "resource_type", "owner"),
    [
        ("borealis", "urn:facstat:partition", "hpc-ops"),
        ("borealis", "urn:facstat:scheduler", "slurm"),
        ("tern", "urn:facstat:scheduler", "hpc-ops"),
        ("storage", "storage:filesystem", "storage"),
        ("network", "network", None),
    ],
    ids=[
        "the system owner",
        "a more specific team",
        "specific only on its systems",
        "another system",
        "nobody",
    ],
)
def test_team_for_finds_the_owner(system: str, resource_type: str, owner: str | None) -> None:
    team = team_for(system, resource_type, TEAMS)
    assert (team.id if team else None) == owner


def test_the_demo_policy_routes_a_p1_to_email_webhook_and_alertmanager() -> None:
    examples = Path(__file__).parent.parent.parent / "examples"
    facility = load_facility(examples / "demo-facility.yaml")
    policy = load_incident_policy(
        examples / "demo-incidents.yaml", [s.id for s in facility.systems]
    )
    owner = team_for("storage", "storage:filesystem", policy.teams)
    assert owner is not None and owner.id == "storage"
    assert route(SCRATCH, policy.routes, MONDAY_NOON) == [
        "oncall-email",
        "ops-webhook",
        "alertmanager",
    ]
    office_hours = datetime(2026, 3, 2, 15, tzinfo=UTC)  # 10:00 in New York
    assert route(inp(priority="P3"), policy.routes, office_hours) == ["ops-list", "ops-webhook"]
    assert route(inp(priority="P3"), policy.routes, SATURDAY_NOON) == ["ops-webhook"]


def test_the_small_facility_policy_routes_by_team() -> None:
    policy = load_incident_policy(
        DATA / "incidents" / "incidents.yaml", ["hpc", "storage", "streaming"]
    )
    broker = inp(
        team_id="platform",
        system="streaming",
        resource_type="urn:facstat:dsn",
        resource_id="broker",
    )
    assert route(broker, policy.routes, SATURDAY_NOON) == ["mail", "hook", "am"]
    assert route(SCRATCH, policy.routes, SATURDAY_NOON) == ["mail", "hook"]
