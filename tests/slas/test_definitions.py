"""SLA files: what loads, and how every problem is named by its YAML path."""

from __future__ import annotations

import textwrap
from datetime import date, time
from pathlib import Path

import pytest
from pydantic import BaseModel

from facility.config import load_facility
from facility.errors import ConfigError
from slas import definitions
from slas.definitions import CalendarMonth, DegradedRule, Rolling, SlaDefinition
from slas.errors import SlaDefinitionError
from slas.sla_file import load_slas

DATA = Path(__file__).parent.parent / "data"
RESOURCES = ["scratch", "home", "broker", "batch", "gateway"]


def problems(text: str, groups: dict[str, list[str]] | None = None) -> list[str]:
    with pytest.raises(SlaDefinitionError) as info:
        load_slas(text, RESOURCES, groups)
    return [str(issue) for issue in info.value.issues]


def one(**fields: object) -> str:
    """A file with one SLA on `scratch`, `fields` added or overriding."""
    body = {"id": "s", "service": "scratch", "objective": 99.5, **fields}
    lines = "\n".join(f"    {k}: {v}" for k, v in body.items())
    return f"slas:\n  - {lines.lstrip()}\n"


def test_the_fixture_sla_file_loads_against_the_small_facility() -> None:
    facility = load_facility(DATA / "small-facility.yaml")
    slas = load_slas(DATA / "slas" / "slas.yaml", [r.id for r in facility.resources])
    assert [s.id for s in slas] == ["scratch-monthly", "streaming-16x5", "batch-weekly"]
    assert slas[1].members == ("broker", "scratch")


def test_the_example_in_the_definitions_docstring_loads() -> None:
    example = textwrap.dedent((definitions.__doc__ or "").split("Example::", 1)[1])
    (sla,) = load_slas(example, RESOURCES)
    assert (sla.id, sla.members, sla.service_hours.calendar) == (
        "scratch-monthly",
        ("scratch",),
        "16x5",
    )


def test_a_group_name_resolves_to_its_members_and_a_resource_to_itself() -> None:
    text = "slas:\n  - {id: a, service: path, objective: 99}\n  - {id: b, service: home, objective: 99}"
    a, b = load_slas(text, RESOURCES, {"path": ["broker", "scratch"]})
    assert a.resources == ("broker", "scratch") and b.resources == ("home",)


def test_explicit_resources_make_an_inline_group() -> None:
    (sla,) = load_slas(one(service="bl1", resources="[broker, batch]"), RESOURCES)
    assert sla.members == ("broker", "batch")


def test_an_objective_above_100_is_refused_with_its_yaml_path() -> None:
    text = "slas:\n" + "".join(
        f"  - {{id: s{i}, service: scratch, objective: {o}}}\n" for i, o in enumerate((99, 90, 101))
    )
    assert problems(text) == ["slas[2].objective: must be between 0 and 100"]


def test_an_objective_of_100_is_refused_because_it_leaves_no_budget() -> None:
    (issue,) = problems(one(objective=100))
    assert issue.startswith("slas[0].objective: must be below 100")


def test_unknown_resources_and_groups_are_named_where_they_appear() -> None:
    text = (
        "groups:\n  path: [broker, scrach]\n"
        "slas:\n  - {id: a, service: nowhere, objective: 99}\n"
        "  - {id: b, service: x, resources: [home, gatway], objective: 99}\n"
    )
    assert problems(text) == [
        "groups.path[1]: unknown resource 'scrach'",
        "slas[0].service: unknown resource or group 'nowhere'",
        "slas[1].resources[1]: unknown resource 'gatway'",
    ]


def test_counting_unknown_as_up_is_refused() -> None:
    (issue,) = problems(one(unknown="up"))
    assert issue == (
        "slas[0].unknown: unknown may not count as up: a status is never greener than the truth"
    )


def test_a_misspelt_field_is_refused() -> None:
    assert problems(one(objectve=99)) == ["slas[0].objectve: Extra inputs are not permitted"]


def test_an_unknown_time_zone_is_refused() -> None:
    assert problems(one(timezone="Europe/Berln")) == [
        "slas[0].timezone: unknown time zone 'Europe/Berln'"
    ]


def test_a_service_day_that_would_cross_midnight_is_refused() -> None:
    text = one(service_hours="{calendar: 16x5, start: '09:00'}")
    assert problems(text) == [
        "slas[0].service_hours.start: a 16x5 day starting at 09:00 crosses midnight"
    ]


def test_a_bad_rolling_period_is_named_without_the_union_tag() -> None:
    assert problems(one(period="{kind: rolling, days: 0}")) == [
        "slas[0].period.days: Input should be greater than or equal to 1"
    ]


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    text = (
        "slas:\n  - {id: a, service: scratch, objective: 0}\n  - {id: a, service: x, objective: 99}"
    )
    assert problems(text) == ["slas[0].objective: must be between 0 and 100"]
    text = (
        "slas:\n  - {id: a, service: scratch, objective: 9}\n  - {id: a, service: x, objective: 99}"
    )
    assert problems(text) == [
        "slas[1].id: duplicate SLA id 'a'",
        "slas[1].service: unknown resource or group 'x'",
    ]


def test_an_empty_group_is_refused_as_it_would_always_look_up() -> None:
    assert problems("groups: {g: []}\nslas: [{id: a, service: g, objective: 99}]") == [
        "groups.g: must not be empty"
    ]


def test_invalid_yaml_gives_its_line() -> None:
    (issue,) = problems("slas: [\n  {id: a")
    assert issue.startswith("invalid YAML at line 2, column 9: expected ','")


def test_a_missing_file_is_a_definition_error(tmp_path: Path) -> None:
    with pytest.raises(SlaDefinitionError, match="cannot read file"):
        load_slas(tmp_path / "absent.yaml", RESOURCES)


def test_a_file_path_given_as_text_is_read(tmp_path: Path) -> None:
    path = tmp_path / "slas.yaml"
    path.write_text(one())
    assert [s.id for s in load_slas(str(path), RESOURCES)] == ["s"]


def test_the_definition_error_is_a_config_error_for_the_api() -> None:
    with pytest.raises(ConfigError) as info:
        load_slas(one(objective=-1), RESOURCES)
    assert info.value.source == "<slas>"


def test_shortcuts_for_period_and_degraded_expand_to_the_full_form() -> None:
    (a,) = load_slas(one(period="month", degraded="capacity"), RESOURCES)
    (b,) = load_slas(one(period="30d", degraded=0.25), RESOURCES)
    assert a.period == CalendarMonth(kind="calendar_month")
    assert a.degraded == DegradedRule(count="capacity")
    assert b.period == Rolling(kind="rolling", days=30)
    assert b.degraded == DegradedRule(count="weight", weight=0.25)


def test_defaults_are_a_24x7_utc_month_with_unknown_excluded() -> None:
    (sla,) = load_slas(one(), RESOURCES)
    assert (sla.timezone, sla.service_hours.calendar, sla.unknown) == ("UTC", "24x7", "excluded")
    assert isinstance(sla.period, CalendarMonth)
    assert sla.budget_ratio == pytest.approx(0.005)


def test_service_hours_have_default_starts_and_take_holidays() -> None:
    text = one(service_hours="{calendar: 8x5, holidays: [2026-12-25]}")
    (sla,) = load_slas(text, RESOURCES)
    assert sla.service_hours.day_start == time(8)
    assert sla.service_hours.holidays == (date(2026, 12, 25),)


def test_every_field_of_every_model_has_a_description() -> None:
    models: list[type[BaseModel]] = [
        m
        for m in vars(definitions).values()
        if isinstance(m, type) and issubclass(m, BaseModel) and m.__module__ == definitions.__name__
    ]
    missing = [
        f"{m.__name__}.{name}"
        for m in models
        for name, f in m.model_fields.items()
        if not f.description
    ]
    assert len(models) >= 5 and missing == []


def test_definitions_are_frozen() -> None:
    sla = SlaDefinition(id="x", service="scratch", objective=99.0)
    with pytest.raises(ValueError, match="frozen"):
        sla.objective = 50  # type: ignore[misc]
