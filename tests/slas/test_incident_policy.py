"""Incident policy files: what loads, and how every problem is named by its YAML path."""

from __future__ import annotations

import textwrap
from datetime import datetime, time, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import BaseModel

from facility.config import RESOURCE_TYPES, load_facility
from facility.errors import ConfigError
from slas import escalation, incident_policy, priority
from slas.errors import SlaError
from slas.incident_policy import IncidentPolicy
from slas.incident_policy_file import IncidentPolicyError, load_incident_policy

DATA = Path(__file__).parent.parent / "data"
EXAMPLES = Path(__file__).parent.parent.parent / "examples"
SYSTEMS = ["hpc", "storage", "streaming"]
RESOURCES = ["scratch", "home", "broker", "batch", "gateway"]
PEOPLE = """
people:
  - {id: ann, name: Ann, email: ann@example.org}
  - {id: ben, name: Ben, email: ben@example.org}
"""


def load(text: str) -> IncidentPolicy:
    return load_incident_policy(text, SYSTEMS, RESOURCE_TYPES, RESOURCES)


def problems(text: str) -> list[str]:
    with pytest.raises(IncidentPolicyError) as info:
        load(text)
    return [str(issue) for issue in info.value.issues]


def team(**fields: str) -> str:
    """A file with two people and one team, `fields` (YAML flow values) added or overriding."""
    body = {
        "id": "ops",
        "name": "Ops",
        "systems": "[hpc]",
        "rotation": "{members: [ann, ben], start: 2026-03-02T09:00}",
        **fields,
    }
    lines = "\n".join(f"    {k}: {v}" for k, v in body.items())
    return f"{PEOPLE}teams:\n  - {lines.lstrip()}\n"


def test_the_fixture_policy_loads_against_the_small_facility() -> None:
    facility = load_facility(DATA / "small-facility.yaml")
    policy = load_incident_policy(
        DATA / "incidents" / "incidents.yaml",
        [s.id for s in facility.systems],
        {r.type for r in facility.resources},
        [r.id for r in facility.resources],
    )
    assert [t.id for t in policy.teams] == ["platform", "storage"]
    assert policy.teams[1].rotation.first_handoff == datetime(2026, 3, 2, 8)
    assert policy.escalation.p1.ack_within == timedelta(minutes=5)


def test_the_demo_policy_loads_against_the_demo_facility() -> None:
    facility = load_facility(EXAMPLES / "demo-facility.yaml")
    policy = load_incident_policy(
        EXAMPLES / "demo-incidents.yaml",
        [s.id for s in facility.systems],
        {r.type for r in facility.resources},
        [r.id for r in facility.resources],
    )
    assert {t.id for t in policy.teams} == {"hpc-ops", "slurm-admins", "storage", "data-services"}
    assert policy.priority == IncidentPolicy().priority  # the file spells out the defaults
    assert all(p.email.endswith("@example.org") for p in policy.people)
    assert all(r.url is None or r.url.startswith("http://127.0.0.1") for r in policy.receivers)


def test_the_example_in_the_models_docstring_loads() -> None:
    example = textwrap.dedent(
        (incident_policy.__doc__ or "").split("Example::", 1)[1].split("\n\n")[1]
    )
    policy = load_incident_policy(example, ["storage"])
    assert policy.routes[1].match.time is not None
    assert policy.routes[1].match.time.start == time(8)
    assert policy.routes[0].continue_ is True


def test_an_empty_file_is_a_policy_with_every_default() -> None:
    policy = load("")
    assert policy == IncidentPolicy() and policy.priority.thresholds.p1 == 90
    assert load("priority: {}\nescalation: {}\n") == policy
    assert load("priority:\npeople:\nescalation:\n") == policy


def test_unknown_people_in_a_team_are_named_where_they_appear() -> None:
    text = team(
        rotation="{members: [ann, bbo], start: 2026-03-02T09:00}",
        escalate_to="[cat]",
        overrides="[{person: dan, start: 2026-03-03T09:00, end: 2026-03-04T09:00}]",
    )
    assert problems(text) == [
        "teams[0].rotation.members[1]: unknown person 'bbo'",
        "teams[0].escalate_to[0]: unknown person 'cat'",
        "teams[0].overrides[0].person: unknown person 'dan'",
    ]


def test_unknown_systems_and_resource_types_are_named() -> None:
    text = team(systems="[hpc, hcp]", resource_types="[storage:filesytem]")
    assert problems(text) == [
        "teams[0].systems[1]: unknown system 'hcp'",
        "teams[0].resource_types[0]: unknown resource type 'storage:filesytem'",
    ]


def test_a_route_naming_unknown_things_is_refused() -> None:
    text = team() + textwrap.dedent("""
        receivers: [{id: hook, kind: webhook, url: "http://127.0.0.1:9000/x"}]
        routes:
          - match: {teams: [opps], systems: [hpc, net], resources: [scratch, scrach]}
            receivers: [hook, pager]
    """)
    assert problems(text) == [
        "routes[0].receivers[1]: unknown receiver 'pager'",
        "routes[0].match.teams[0]: unknown team 'opps'",
        "routes[0].match.systems[1]: unknown system 'net'",
        "routes[0].match.resources[1]: unknown resource 'scrach'",
    ]


def test_a_bad_time_zone_is_named() -> None:
    assert problems(team(timezone="Europe/Berln")) == [
        "teams[0].timezone: unknown time zone 'Europe/Berln'"
    ]


def test_overlapping_overrides_are_refused() -> None:
    overrides = (
        "[{person: ann, start: 2026-03-03T09:00, end: 2026-03-05T09:00},"
        " {person: ben, start: 2026-03-04T09:00, end: 2026-03-06T09:00}]"
    )
    assert problems(team(overrides=overrides)) == [
        "teams[0].overrides[1]: overlaps overrides[0]: who is on call?"
    ]


def test_two_teams_may_not_own_the_same_system_but_a_specific_team_may_share_it() -> None:
    second = (
        "  - {id: other, name: O, systems: [hpc], rotation: {members: [ann], start: 2026-03-02}}\n"
    )
    assert problems(team() + second) == [
        "teams[1].systems[0]: system 'hpc' is also owned by team 'ops'"
    ]
    specific = second.replace("systems: [hpc]", "systems: [hpc], resource_types: [service]")
    assert [t.id for t in load(team() + specific).teams] == ["ops", "other"]


def test_duplicate_ids_are_refused() -> None:
    text = PEOPLE + "  - {id: ann, name: Ann again, email: ann2@example.org}\n"
    assert problems(text) == ["people[2].id: duplicate id 'ann'"]


def test_a_route_after_a_catch_all_is_never_reached() -> None:
    text = team() + textwrap.dedent("""
        receivers: [{id: hook, kind: webhook, url: "http://127.0.0.1:9000/x"}]
        routes:
          - {receivers: [hook]}
          - {match: {priorities: [P1]}, receivers: [hook]}
    """)
    assert problems(text) == [
        "routes[1]: never reached: routes[0] matches everything and does not continue"
    ]


def test_an_unquoted_time_of_day_gets_a_clear_message() -> None:
    text = "routes:\n  - {match: {time: {from: 08:00, to: 18:00}}, receivers: []}\n"
    assert problems(text) == [
        'routes[0].match.time.to: write a time of day in quotes, e.g. "18:00" '
        "(YAML reads 18:00 as a number)"
    ]


def test_receivers_need_the_fields_of_their_kind() -> None:
    text = textwrap.dedent("""
        receivers:
          - {id: mail, kind: email, smtp_host: 127.0.0.1}
          - {id: hook, kind: webhook}
          - {id: am, kind: alertmanager, url: "http://127.0.0.1:9093", secret_env: S}
          - {id: ftp, kind: webhook, url: "ftp://127.0.0.1/x"}
    """)
    issues = problems(text)
    assert issues[:3] == [
        "receivers[0]: an email receiver needs smtp_host and sender",
        "receivers[1]: a webhook receiver needs a url",
        "receivers[2]: secret_env is only for webhook receivers",
    ]
    assert issues[3].startswith("receivers[3].url: String should match pattern")


def test_a_rotation_may_start_on_a_date_with_a_handoff_time_but_not_both_times() -> None:
    policy = load(team(rotation='{members: [ann], start: 2026-03-02, handoff: "09:00"}'))
    assert policy.teams[0].rotation.first_handoff == datetime(2026, 3, 2, 9)
    text = team(rotation='{members: [ann], start: 2026-03-02T08:00, handoff: "09:00"}')
    assert problems(text) == [
        "teams[0].rotation: give the hand-off time once: in `start` or in `handoff`"
    ]


def test_model_errors_carry_their_yaml_paths() -> None:
    text = team(rotation="{members: [ann], start: soon, length: 0s}") + textwrap.dedent("""
        priority: {thresholds: {P1: 50, P2: 60}, beamtime: {active: 10, imminent: 20}}
        escalation: {P1: {ack_within: 0m}, cooldown: 5m}
    """)
    assert problems(text) == [
        "priority.thresholds: thresholds must descend: P1 > P2 > P3",
        "priority.beamtime: an active beamtime must count at least as much as an imminent one",
        "teams[0].rotation.start: Input should be a valid datetime or date, input is too short",
        "teams[0].rotation.length: Input should be greater than 0 seconds",
        "escalation.P1.ack_within: Input should be greater than 0 seconds",
    ]


def test_invalid_yaml_and_non_mappings_are_one_issue_each() -> None:
    (issue,) = problems("people: [\n")
    assert issue.startswith("invalid YAML at line")
    assert problems("- a list\n") == ["the file must be a YAML mapping"]


def test_the_error_is_a_config_error_and_an_sla_error() -> None:
    with pytest.raises(IncidentPolicyError) as info:
        load("nonsense: 1\n")
    assert isinstance(info.value, ConfigError) and isinstance(info.value, SlaError)
    assert info.value.source == "<incident policy>"
    assert [str(i) for i in info.value.issues] == ["nonsense: Extra inputs are not permitted"]


def test_a_missing_file_is_named() -> None:
    with pytest.raises(IncidentPolicyError, match="cannot read file"):
        load_incident_policy(DATA / "incidents" / "missing.yaml", SYSTEMS)


def test_the_secret_is_only_named_never_read() -> None:
    text = 'receivers: [{id: h, kind: webhook, url: "http://127.0.0.1:1/x", secret_env: NOT_SET_ANYWHERE}]'
    assert load(text).receivers[0].secret_env == "NOT_SET_ANYWHERE"


@pytest.mark.parametrize(
    "module", [incident_policy, priority, escalation], ids=lambda m: m.__name__
)
def test_every_field_of_every_policy_model_has_a_description(module: ModuleType) -> None:
    models = [
        m
        for m in vars(module).values()
        if isinstance(m, type) and issubclass(m, BaseModel) and m.__module__ == module.__name__
    ]
    missing = [
        f"{m.__name__}.{n}" for m in models for n, f in m.model_fields.items() if not f.description
    ]
    assert models and missing == []


def test_policies_are_frozen() -> None:
    policy = IncidentPolicy()
    with pytest.raises(ValueError, match="frozen"):
        policy.people = ()  # type: ignore[misc]
