"""Beamtime schedules: YAML and iCalendar in, needed resources, conflicts with maintenance."""

from __future__ import annotations

import contextlib
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facility.config import BundleNeed, load_facility
from slas.beamtime import (
    Beamtime,
    beamline_needs,
    conflicts,
    default_id,
    depends_on_graph,
    needed_resources,
)
from slas.beamtime_import import parse_beamtimes_ical, parse_beamtimes_yaml
from slas.calendar_errors import CalendarImportError, InvalidBeamtime
from slas.ical import parse_maintenance_calendar
from slas.maintenance import MaintenanceWindow

ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_facility(ROOT / "examples" / "demo-facility.yaml")
GRAPH = depends_on_graph(CONFIG)
NEEDS = beamline_needs(CONFIG)
NEW_YORK, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")
FROM, UNTIL = datetime(2026, 11, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC)


def demo_beamtimes() -> list[Beamtime]:
    text = (ROOT / "examples" / "demo-beamtimes.yaml").read_text()
    return parse_beamtimes_yaml(text, "yaml:demo", CONFIG)


def demo_windows() -> list[MaintenanceWindow]:
    data = (ROOT / "examples" / "demo-maintenance.ics").read_bytes()
    return parse_maintenance_calendar(data, "ical:demo", {r.id for r in CONFIG.resources})


def beamtime(**changes: Any) -> Beamtime:
    fields: dict[str, Any] = {
        "id": "bt1",
        "beamline": "xpcs-8id",
        "facility": "lightsource",
        "title": "XPCS",
        "start": datetime(2026, 12, 8, 8, tzinfo=NEW_YORK),
        "end": datetime(2026, 12, 11, 8, tzinfo=NEW_YORK),
    }
    return Beamtime(**(fields | changes))


def window(**changes: Any) -> MaintenanceWindow:
    fields: dict[str, Any] = {
        "id": "w1",
        "title": "Scratch maintenance",
        "resources": ("scratch",),
        "start": datetime(2026, 12, 9, 7, tzinfo=NEW_YORK),
        "end": datetime(2026, 12, 9, 11, tzinfo=NEW_YORK),
        "timezone": "America/New_York",
    }
    return MaintenanceWindow(**(fields | changes))


# -- needed resources ----------------------------------------------------------------


def test_a_beamline_needs_its_bundle_and_everything_the_bundle_depends_on() -> None:
    assert NEEDS["xpcs-8id"] == {
        "link-lightsource",
        "dsn-rabbitmq",
        "borealis-interactive",
        "scratch",
        "api-gateway",
        "borealis-slurmctld",
        "home",
    }
    assert "project" in NEEDS["tomo-2bm"] and "borealis-batch" in NEEDS["tomo-2bm"]


def test_needed_resources_takes_bundle_needs_or_ids_and_survives_a_cycle() -> None:
    bundle = [BundleNeed(resource="a"), "b"]
    assert needed_resources(bundle, {"a": ["c"], "c": ["a", "d"], "b": []}) == {"a", "b", "c", "d"}


# -- conflicts -----------------------------------------------------------------------


def test_the_demo_schedule_conflicts_with_the_demo_maintenance_exactly_where_intended() -> None:
    found = conflicts(demo_beamtimes(), demo_windows(), NEEDS, FROM, UNTIL, depends_on=GRAPH)
    got = [
        (c.beamtime.id, c.window_id.split("@")[0], c.resources, c.overlap_start, c.overlap_end)
        for c in found
    ]
    ny = NEW_YORK
    assert got == [
        (
            "tomo-2bm-2026-12-battery",
            "scratch-monthly",
            ("scratch",),
            datetime(2026, 12, 1, 8, tzinfo=ny),
            datetime(2026, 12, 1, 11, tzinfo=ny),
        ),
        (
            "tomo-2bm-2026-12-battery",
            "link-lightsource-firmware-2026-12",
            ("link-lightsource",),
            datetime(2026, 12, 3, 6, tzinfo=ny),
            datetime(2026, 12, 3, 8, tzinfo=ny),
        ),
        (
            "xpcs-8id-2026-12-gels",
            "borealis-2026-12",
            ("borealis-interactive", "borealis-slurmctld"),
            datetime(2026, 12, 9, 7, tzinfo=ny),
            datetime(2026, 12, 10, 19, tzinfo=ny),
        ),
        (
            "tomo-2bm-2027-06-concrete",
            "borealis-2027-06",
            ("borealis-batch", "borealis-interactive", "borealis-slurmctld"),
            datetime(2027, 6, 8, 7, tzinfo=ny),
            datetime(2027, 6, 9, 19, tzinfo=ny),
        ),
    ]
    assert {c.effect for c in found} == {"down", "degraded"}


def test_conflicts_come_out_in_the_same_order_with_the_same_ids_whatever_the_input_order() -> None:
    beamtimes, windows = demo_beamtimes(), demo_windows()
    first = conflicts(beamtimes, windows, NEEDS, FROM, UNTIL, depends_on=GRAPH)
    random.Random(7).shuffle(beamtimes)
    random.Random(8).shuffle(windows)
    again = conflicts(beamtimes, windows, NEEDS, FROM, UNTIL, depends_on=GRAPH)
    assert again == first
    assert len({c.id for c in first}) == len(first)
    assert all(len(c.id) == 16 and int(c.id, 16) >= 0 for c in first)


def test_a_cancelled_window_never_conflicts() -> None:
    assert conflicts([beamtime()], [window(cancelled=True)], NEEDS, FROM, UNTIL) == []


def test_a_window_on_resources_the_beamtime_does_not_need_does_not_conflict() -> None:
    assert (
        conflicts([beamtime()], [window(resources=("tern", "project"))], NEEDS, FROM, UNTIL) == []
    )


def test_a_window_next_to_a_beamtime_but_not_overlapping_does_not_conflict() -> None:
    before = window(
        start=datetime(2026, 12, 8, 4, tzinfo=NEW_YORK),
        end=datetime(2026, 12, 8, 8, tzinfo=NEW_YORK),
    )
    assert conflicts([beamtime()], [before], NEEDS, FROM, UNTIL) == []


def test_each_occurrence_of_a_recurring_window_is_its_own_conflict() -> None:
    daily = window(rrule="FREQ=DAILY")
    found = conflicts([beamtime()], [daily], NEEDS, FROM, UNTIL)
    assert [c.occurrence_start.day for c in found] == [9, 10, 11]  # 11th: 07:00-08:00 overlaps
    assert found[-1].overlap_end == datetime(2026, 12, 11, 8, tzinfo=NEW_YORK)
    assert len({c.id for c in found}) == 3


def test_only_conflicts_within_the_asked_interval_are_listed() -> None:
    daily = window(rrule="FREQ=DAILY")
    lo, hi = datetime(2026, 12, 10, tzinfo=NEW_YORK), datetime(2026, 12, 11, tzinfo=NEW_YORK)
    assert [c.occurrence_start.day for c in conflicts([beamtime()], [daily], NEEDS, lo, hi)] == [10]


def test_a_weekly_window_at_six_berlin_time_hits_a_beamtime_across_the_dst_change() -> None:
    weekly = window(
        start=datetime(2027, 3, 23, 6, tzinfo=BERLIN),
        end=datetime(2027, 3, 23, 8, tzinfo=BERLIN),
        timezone="Europe/Berlin",
        rrule="FREQ=WEEKLY",
    )
    bt = beamtime(start=datetime(2027, 3, 22, tzinfo=UTC), end=datetime(2027, 4, 5, tzinfo=UTC))
    found = conflicts([bt], [weekly], NEEDS, FROM, UNTIL)
    assert [c.overlap_start.astimezone(UTC).hour for c in found] == [5, 4]  # CET, then CEST


def test_an_overriding_bundle_needs_its_own_dependencies() -> None:
    bt = beamtime(bundle=("api-gateway",))
    slurm = window(resources=("borealis-slurmctld",))
    assert [
        c.resources for c in conflicts([bt], [slurm], NEEDS, FROM, UNTIL, depends_on=GRAPH)
    ] == [("borealis-slurmctld",)]
    assert conflicts([bt], [slurm], NEEDS, FROM, UNTIL) == []  # no graph: the bundle alone
    assert conflicts([bt], [window()], NEEDS, FROM, UNTIL, depends_on=GRAPH) == []  # no scratch


def test_a_beamtime_with_an_unknown_beamline_needs_nothing() -> None:
    assert conflicts([beamtime(beamline="elsewhere")], [window()], NEEDS, FROM, UNTIL) == []


# -- the YAML schedule --------------------------------------------------------------


def test_the_demo_schedule_reads_with_zones_offsets_and_facilities() -> None:
    bts = {b.id: b for b in demo_beamtimes()}
    assert len(bts) == 8
    tomo = bts["tomo-2bm-2026-12-battery"]
    assert (
        tomo.start == datetime(2026, 12, 1, 8, tzinfo=NEW_YORK) and tomo.facility == "lightsource"
    )
    assert bts["xpcs-8id-2026-12-gels"].start == datetime(2026, 12, 8, 13, tzinfo=UTC)
    assert bts["xpcs-8id-2027-09-proteins"].start == datetime(
        2027, 9, 20, 7, tzinfo=ZoneInfo("America/Chicago")
    )
    assert bts["between-shot-2027-01-commissioning"].bundle == ("link-tokamak", "dsn-redis")
    assert bts["between-shot-2027-01-campaign"].facility == "tokamak"


def test_the_demo_schedule_has_upcoming_beamtimes_through_2027() -> None:
    quarters = {(b.start.year, (b.start.month - 1) // 3) for b in demo_beamtimes()}
    assert {(2027, q) for q in range(4)} <= quarters


def test_an_entry_without_id_or_title_gets_a_stable_id_and_the_beamline_name() -> None:
    text = "beamtimes:\n  - {beamline: tomo-2bm, start: '2026-12-01T08:00:00-05:00', end: '2026-12-02T08:00:00-05:00'}\n"
    (bt,) = parse_beamtimes_yaml(text, "yaml:t", CONFIG)
    assert bt.id == "tomo-2bm-20261201T1300Z" == default_id("tomo-2bm", bt.start)
    assert bt.title == "2-BM micro-tomography"


def test_times_without_an_offset_are_read_in_the_importers_default_zone() -> None:
    text = "beamtimes:\n  - {beamline: tomo-2bm, start: 2026-12-01T08:00:00, end: 2026-12-02T08:00:00}\n"
    (bt,) = parse_beamtimes_yaml(text, "t", CONFIG, default_timezone="Europe/Berlin")
    assert bt.start == datetime(2026, 12, 1, 8, tzinfo=BERLIN)


def _entry(**changes: Any) -> dict[str, Any]:
    entry = {"beamline": "tomo-2bm", "start": "2026-12-01T08:00:00", "end": "2026-12-02T08:00:00"}
    return {k: v for k, v in (entry | changes).items() if v is not None}


def _schedule(*entries: dict[str, Any], **top: Any) -> str:
    return yaml.safe_dump(
        {"timezone": "America/New_York", **top, "beamtimes": list(entries)}, sort_keys=False
    )


YAML_BAD = [
    # (name, document, field, line, words)
    (
        "unknown beamline",
        _schedule(_entry(), _entry(beamline="9-ID")),
        "beamtimes[1].beamline",
        6,
        "unknown beamline '9-ID'",
    ),
    (
        "end before start",
        _schedule(_entry(end="2026-11-30T08:00:00")),
        "beamtimes[0].end",
        3,
        "after start",
    ),
    (
        "no offset, no zone",
        _schedule(_entry(), timezone=None),
        "beamtimes[0].start",
        3,
        "no UTC offset",
    ),
    (
        "unknown zone",
        _schedule(_entry(timezone="Moon/Base")),
        "beamtimes[0].timezone",
        3,
        "Moon/Base",
    ),
    (
        "unknown bundle resource",
        _schedule(_entry(bundle=["scratch", "scrach"])),
        "beamtimes[0].bundle",
        3,
        "'scrach'",
    ),
    ("extra key", _schedule(_entry(shift="night")), "beamtimes[0].shift", 3, "Extra inputs"),
    ("not a time", _schedule(_entry(start="soon")), "beamtimes[0].start", 3, "datetime"),
    ("missing end", _schedule(_entry(end=None)), "beamtimes[0].end", 3, "required"),
    (
        "duplicate id",
        _schedule(_entry(id="a"), _entry(id="a")),
        "beamtimes[1].id",
        7,
        "same id 'a'",
    ),
    (
        "unknown file zone",
        _schedule(
            _entry(start="2026-12-01T08:00:00Z", end="2026-12-02T08:00:00Z"), timezone="Moon/Base"
        ),
        "timezone",
        None,
        "unknown time zone 'Moon/Base'",
    ),
    ("no beamtimes key", "timezone: UTC\n", "beamtimes", None, "required"),
    ("a list", "- 1\n- 2\n", "", None, "valid dictionary"),
    ("empty", "", "", None, "empty"),
    ("bad syntax", "beamtimes: [\n", "", None, "line 2"),
    ("alias", "a: &x [1]\nbeamtimes: *x\n", "", 1, "aliases"),  # the anchored node's line
    ("not UTF-8", b"beamtimes: \xc3\x28", "", None, "invalid YAML"),
]


@pytest.mark.parametrize(
    ("name", "text", "field", "line", "words"), YAML_BAD, ids=[b[0] for b in YAML_BAD]
)
def test_a_bad_yaml_schedule_is_refused_naming_the_entry_and_field(
    name: str, text: str, field: str, line: int | None, words: str
) -> None:
    with pytest.raises(CalendarImportError) as exc:
        parse_beamtimes_yaml(text, "yaml:test", CONFIG)
    assert (exc.value.field, exc.value.line) == (field, line)
    assert words in str(exc.value) and "yaml:test" in str(exc.value)


def test_a_yaml_alias_bomb_is_refused_without_expanding_it() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    with pytest.raises(CalendarImportError, match="aliases"):
        parse_beamtimes_yaml("\n".join([*lines, "beamtimes: *a8"]), "t", CONFIG)


YAML_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=20)
    | st.datetimes(timezones=st.none() | st.just(UTC)),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["beamline", "start", "end", "title", "id", "bundle", "timezone", "x"]),
            inner,
            max_size=5,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.dictionaries(st.sampled_from(["beamtimes", "timezone", "x"]), YAML_VALUES, max_size=3)
    | YAML_VALUES
)
def test_any_yaml_document_gives_beamtimes_or_a_calendar_import_error(doc: Any) -> None:
    with contextlib.suppress(CalendarImportError):
        parse_beamtimes_yaml(yaml.safe_dump(doc), "fuzz", CONFIG)


# -- the iCalendar schedule ----------------------------------------------------------


def test_a_scheduling_system_calendar_reads_beamline_from_the_x_property_or_location() -> None:
    data = (ROOT / "tests" / "data" / "ical" / "beamtimes.ics").read_bytes()
    xpcs, tomo, commissioning = parse_beamtimes_ical(data, "ical:ls", CONFIG)
    assert (xpcs.beamline, tomo.beamline, commissioning.beamline) == (
        "xpcs-8id",
        "tomo-2bm",
        "between-shot",
    )
    assert tomo.end - tomo.start == timedelta(days=3, hours=12)  # DURATION
    assert (
        commissioning.bundle == ("link-tokamak", "dsn-redis")
        and commissioning.facility == "tokamak"
    )
    assert (
        xpcs.id == "proposal-88121-run-2026-3@lightsource.example.org"
    )  # the cancelled one is skipped


def _ical(*lines: str) -> str:
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", "BEGIN:VEVENT", "UID:b1"]
    times = ["DTSTART:20261201T130000Z", "DTEND:20261202T130000Z"]
    return "\r\n".join([*head, *times, *lines, "END:VEVENT", "END:VCALENDAR", ""])


ICAL_BAD = [
    (
        "unknown beamline in LOCATION",
        _ical("LOCATION:8-ID XPCS"),
        "LOCATION",
        7,
        "unknown beamline '8-ID XPCS'",
    ),
    ("no beamline", _ical(), "LOCATION", 3, "unknown beamline ''"),
    (
        "RRULE",
        _ical("X-FACSTAT-BEAMLINE:xpcs-8id", "RRULE:FREQ=WEEKLY"),
        "RRULE",
        8,
        "one event per beamtime",
    ),
    (
        "bad bundle",
        _ical("X-FACSTAT-BEAMLINE:xpcs-8id", "X-FACSTAT-BUNDLE:scratch,nope"),
        "X-FACSTAT-BUNDLE",
        8,
        "'nope'",
    ),
    ("bad cancelled event", _ical("STATUS:CANCELLED", "SEQUENCE:x"), "SEQUENCE", 8, "int"),
]


@pytest.mark.parametrize(
    ("name", "data", "field", "line", "words"), ICAL_BAD, ids=[b[0] for b in ICAL_BAD]
)
def test_a_bad_ical_schedule_is_refused_naming_the_property_and_line(
    name: str, data: str, field: str, line: int, words: str
) -> None:
    with pytest.raises(CalendarImportError) as exc:
        parse_beamtimes_ical(data, "ical:test", CONFIG)
    assert (exc.value.field, exc.value.line, exc.value.item) == (field, line, "b1")
    assert words in str(exc.value)


# -- the value -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"end": datetime(2026, 12, 8, 8, tzinfo=NEW_YORK)}, "end"),
        ({"start": datetime(2026, 12, 8, 8)}, "start"),
        ({"beamline": " "}, "beamline"),
        ({"id": ""}, "id"),
    ],
)
def test_an_invalid_beamtime_is_refused_naming_the_field(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidBeamtime) as exc:
        beamtime(**changes)
    assert exc.value.field == field


def test_beamtimes_are_values() -> None:
    assert beamtime() == beamtime() and replace(beamtime(), title="x") != beamtime()
