"""Maintenance windows: recurrence in local time, lifecycle, notice, the engine's overlay."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from facility.config import load_facility
from facility.engine import MaintenanceOverlay, Policy, Track, evaluate, observe
from facility.model import Observation, ProbeState, State
from slas.calendar_errors import CalendarError, InvalidWindow
from slas.ical import parse_maintenance_calendar
from slas.maintenance import (
    MaintenanceWindow,
    check_resources,
    current_or_next,
    next_start,
    occurrences,
    resolution,
)
from slas.maintenance_calendar import MaintenanceCalendar
from slas.maintenance_notice import DEFAULT_NOTICE, human, notice_check

ROOT = Path(__file__).resolve().parents[2]
BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def window(**changes: Any) -> MaintenanceWindow:
    fields: dict[str, Any] = {
        "id": "w1",
        "title": "Scratch maintenance",
        "resources": ("scratch",),
        "start": datetime(2026, 12, 1, 7, tzinfo=NEW_YORK),
        "end": datetime(2026, 12, 1, 11, tzinfo=NEW_YORK),
        "timezone": "America/New_York",
    }
    return MaintenanceWindow(**(fields | changes))


def weekly_berlin(**changes: Any) -> MaintenanceWindow:
    """Tuesdays 06:00-08:00 Berlin time, from before to after the spring DST change."""
    return window(
        start=datetime(2026, 3, 17, 6, tzinfo=BERLIN),
        end=datetime(2026, 3, 17, 8, tzinfo=BERLIN),
        timezone="Europe/Berlin",
        rrule="FREQ=WEEKLY;BYDAY=TU",
        **changes,
    )


def starts(w: MaintenanceWindow, lo: datetime, hi: datetime) -> list[datetime]:
    return [o.start for o in occurrences(w, lo, hi)]


# -- recurrence --------------------------------------------------------------------


def test_a_weekly_window_stays_at_six_local_across_the_spring_dst_change() -> None:
    occ = occurrences(
        weekly_berlin(), datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 8, tzinfo=UTC)
    )
    assert [o.start.astimezone(BERLIN).hour for o in occ] == [6, 6, 6, 6]
    assert [o.start.astimezone(UTC).hour for o in occ] == [5, 5, 4, 4]  # CET, CET, CEST, CEST


def test_a_weekly_window_stays_at_six_local_across_the_autumn_dst_change() -> None:
    occ = occurrences(
        weekly_berlin(), datetime(2026, 10, 19, tzinfo=UTC), datetime(2026, 11, 5, tzinfo=UTC)
    )
    hours = [(o.start.astimezone(BERLIN).hour, o.start.astimezone(UTC).hour) for o in occ]
    assert hours == [(6, 4), (6, 5), (6, 5)]  # 20 Oct CEST; 27 Oct and 3 Nov CET


def test_every_occurrence_lasts_the_exact_duration_of_the_first() -> None:
    occ = occurrences(
        weekly_berlin(), datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)
    )
    assert {o.end - o.start for o in occ} == {2 * HOUR}


def test_an_exdate_removes_that_occurrence_even_when_given_in_utc() -> None:
    w = weekly_berlin(exdates=(datetime(2026, 3, 31, 4, tzinfo=UTC),))  # 06:00 CEST
    got = starts(w, datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 4, 10, tzinfo=UTC))
    assert got == [datetime(2026, 3, 24, 6, tzinfo=BERLIN), datetime(2026, 4, 7, 6, tzinfo=BERLIN)]


def test_an_occurrence_already_running_at_the_range_start_is_included() -> None:
    got = occurrences(
        weekly_berlin(), datetime(2026, 3, 17, 7, tzinfo=BERLIN), datetime(2026, 3, 18, tzinfo=UTC)
    )
    assert [o.start for o in got] == [datetime(2026, 3, 17, 6, tzinfo=BERLIN)]


def test_an_occurrence_ending_exactly_at_the_range_start_is_not_included() -> None:
    got = occurrences(
        weekly_berlin(), datetime(2026, 3, 17, 8, tzinfo=BERLIN), datetime(2026, 3, 18, tzinfo=UTC)
    )
    assert got == []


def test_expansion_stops_at_the_limit() -> None:
    daily = window(rrule="FREQ=DAILY")
    assert len(occurrences(daily, T0, T0 + 5000 * DAY)) == 1000
    assert len(occurrences(daily, T0, T0 + 50 * DAY, limit=7)) == 7


def test_count_includes_the_excluded_dates_as_rfc_5545_says() -> None:
    w = window(rrule="FREQ=DAILY;COUNT=3", exdates=(datetime(2026, 12, 2, 7, tzinfo=NEW_YORK),))
    got = starts(w, T0, T0 + 30 * DAY)
    assert [s.day for s in got] == [1, 3]


def test_dtstart_is_the_first_occurrence_even_when_the_rule_does_not_match_it() -> None:
    w = window(rrule="FREQ=WEEKLY;BYDAY=WE;COUNT=2")  # 1 Dec 2026 is a Tuesday
    assert [s.day for s in starts(w, T0, T0 + 30 * DAY)] == [1, 2, 9]


def test_until_given_as_a_date_means_the_end_of_that_day_in_the_window_zone() -> None:
    w = window(rrule="FREQ=DAILY;UNTIL=20261203")
    assert w.rrule == "FREQ=DAILY;UNTIL=20261204T045959Z"
    assert [s.day for s in starts(w, T0, T0 + 30 * DAY)] == [1, 2, 3]


def test_a_rule_is_stored_in_canonical_form() -> None:
    assert window(rrule="RRULE:BYDAY=TU;FREQ=WEEKLY").rrule == "FREQ=WEEKLY;BYDAY=TU"


def test_an_extension_lengthens_the_current_occurrence_only() -> None:
    w = weekly_berlin(extended_until=datetime(2026, 3, 24, 10, tzinfo=BERLIN))
    occ = occurrences(w, datetime(2026, 3, 16, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    assert [(o.start.day, o.end.hour, o.extended) for o in occ] == [
        (17, 8, False),
        (24, 10, True),
        (31, 8, False),
    ]


def test_an_extended_occurrence_is_found_by_a_range_after_its_original_end() -> None:
    w = weekly_berlin(extended_until=datetime(2026, 3, 24, 10, tzinfo=BERLIN))
    got = occurrences(
        w, datetime(2026, 3, 24, 9, tzinfo=BERLIN), datetime(2026, 3, 24, 9, 30, tzinfo=BERLIN)
    )
    assert len(got) == 1 and got[0].original_end == datetime(2026, 3, 24, 8, tzinfo=BERLIN)


# -- validation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"end": datetime(2026, 12, 1, 6, tzinfo=NEW_YORK)}, "end"),
        ({"start": datetime(2026, 12, 1, 7)}, "start"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"rrule": "FREQ=SOMETIMES"}, "rrule"),
        ({"rrule": "FREQ=HOURLY"}, "rrule"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "rrule"),
        ({"rrule": "FREQ=DAILY;BYSETPOS=400"}, "rrule"),
        ({"resources": ()}, "resources"),
        ({"effect": "melted"}, "effect"),
        ({"kind": "party"}, "kind"),
        ({"title": "  "}, "title"),
        ({"id": ""}, "id"),
        ({"extended_until": datetime(2026, 12, 1, 10, tzinfo=NEW_YORK)}, "extended_until"),
        ({"exdates": (datetime(2026, 12, 8, 7),)}, "exdates[0]"),
        ({"sequence": -1}, "sequence"),
    ],
)
def test_an_invalid_window_is_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidWindow) as exc:
        window(**changes)
    assert exc.value.field == field
    assert isinstance(exc.value, CalendarError)


def test_a_rule_that_never_occurs_is_refused_quickly() -> None:
    began = time.perf_counter()
    with pytest.raises(InvalidWindow, match="within ten years"):
        window(rrule="FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30")
    assert time.perf_counter() - began < 2  # not a scan to the year 9999


def test_a_window_naming_an_unknown_resource_is_refused_when_the_resources_are_known() -> None:
    w = window(resources=("scratch", "scrach"))
    with pytest.raises(InvalidWindow, match="'scrach'") as exc:
        check_resources(w, {"scratch", "home"})
    assert exc.value.field == "resources" and exc.value.item == "w1"


# -- lifecycle ---------------------------------------------------------------------


def test_a_one_off_window_goes_from_pending_to_unresolved_to_completed() -> None:
    w = window()
    assert resolution(w, w.start - HOUR) == "pending"
    assert resolution(w, w.start) == "unresolved"
    assert resolution(w, w.end) == "completed"


def test_an_extended_window_is_extended_once_past_its_original_end() -> None:
    w = window(extended_until=datetime(2026, 12, 1, 13, tzinfo=NEW_YORK))
    assert resolution(w, w.end - HOUR) == "unresolved"
    assert resolution(w, w.end + HOUR) == "extended"
    assert resolution(w, w.end + 2 * HOUR) == "completed"


def test_a_cancelled_window_is_cancelled_whenever_asked() -> None:
    w = window(cancelled=True)
    assert {resolution(w, w.start + d) for d in (-DAY, HOUR, DAY)} == {"cancelled"}
    assert resolution(occurrences(w, w.start, w.end)[0], w.start) == "cancelled"


def test_a_recurring_window_between_occurrences_is_pending_and_completed_after_the_last() -> None:
    w = window(rrule="FREQ=WEEKLY;COUNT=2")
    assert resolution(w, w.end + DAY) == "pending"
    assert resolution(w, w.start + 7 * DAY + HOUR) == "unresolved"
    assert resolution(w, w.end + 8 * DAY) == "completed"


def test_current_or_next_gives_the_running_occurrence_then_the_next_one() -> None:
    w = window(rrule="FREQ=WEEKLY")
    running = current_or_next(w, w.start + HOUR)
    assert running is not None and running.start == w.start
    upcoming = current_or_next(w, w.end)
    assert upcoming is not None and upcoming.start == w.start + 7 * DAY
    assert next_start(w, w.start) == w.start + 7 * DAY


# -- notice ------------------------------------------------------------------------

TIERS = {"scratch": "24x7", "project": "16x5", "tern": None}


def test_a_window_announced_three_days_ahead_on_a_24x7_resource_has_short_notice() -> None:
    w = window(notice_given_at=datetime(2026, 11, 28, 7, tzinfo=NEW_YORK))
    notice = notice_check(w, TIERS, DEFAULT_NOTICE)
    assert notice.required == 7 * DAY and notice.given == 3 * DAY and notice.short
    assert notice.message == "7d notice required (scratch, tier 24x7); 3d given; notice is short"


def test_the_strictest_tier_among_the_resources_sets_the_required_notice() -> None:
    w = window(resources=("project", "scratch"), notice_given_at=datetime(2026, 11, 20, tzinfo=UTC))
    notice = notice_check(w, TIERS, {"24x7": 7 * DAY, "16x5": 3 * DAY})
    assert notice.required == 7 * DAY and not notice.short


def test_a_resource_without_a_tier_needs_no_notice() -> None:
    notice = notice_check(window(resources=("tern",)), TIERS, DEFAULT_NOTICE)
    assert notice.required == timedelta(0) and not notice.short
    assert notice.message == "no notice required"


def test_a_window_without_a_notice_time_counts_as_short_notice() -> None:
    notice = notice_check(window(), TIERS, DEFAULT_NOTICE)
    assert notice.given is None and notice.short and "no notice time recorded" in notice.message


def test_a_cancelled_window_is_never_flagged_for_short_notice() -> None:
    assert not notice_check(window(cancelled=True), TIERS, DEFAULT_NOTICE).short


def test_spans_are_shown_to_people_in_days_hours_and_minutes() -> None:
    assert [human(s) for s in (7 * DAY, DAY + 3 * HOUR, timedelta(minutes=45), -HOUR)] == [
        "7d",
        "1d 3h",
        "45m",
        "-1h",
    ]


# -- the calendar as the engine's overlay ------------------------------------------


def test_the_calendar_names_the_window_that_covers_a_resource() -> None:
    cal = MaintenanceCalendar([window(), window(id="w2", resources=("home",), cancelled=True)])
    during = datetime(2026, 12, 1, 8, tzinfo=NEW_YORK)
    hit = cal.active_window("scratch", during)
    assert hit is not None and (hit.id, hit.description) == ("w1", "Scratch maintenance")
    assert cal.active_window("home", during) is None  # cancelled
    assert cal.active_window("scratch", datetime(2026, 12, 1, 11, tzinfo=NEW_YORK)) is None


def test_the_calendar_covers_an_extended_occurrence_until_its_new_end() -> None:
    cal = MaintenanceCalendar([window(extended_until=datetime(2026, 12, 1, 13, tzinfo=NEW_YORK))])
    assert cal.active_window("scratch", datetime(2026, 12, 1, 12, tzinfo=NEW_YORK)) is not None
    assert cal.next_change(datetime(2026, 12, 1, 12, tzinfo=NEW_YORK)) == datetime(
        2026, 12, 1, 13, tzinfo=NEW_YORK
    )


def test_next_change_is_the_next_start_or_end_of_any_occurrence() -> None:
    cal = MaintenanceCalendar(
        [
            window(rrule="FREQ=WEEKLY"),
            window(id="w2", start=datetime(2026, 12, 1, 9, tzinfo=NEW_YORK)),
        ]
    )
    before = datetime(2026, 12, 1, 6, tzinfo=NEW_YORK)
    assert cal.next_change(before) == datetime(2026, 12, 1, 7, tzinfo=NEW_YORK)
    assert cal.next_change(datetime(2026, 12, 1, 7, tzinfo=NEW_YORK)) == datetime(
        2026, 12, 1, 9, tzinfo=NEW_YORK
    )
    assert cal.next_change(datetime(2026, 12, 1, 9, tzinfo=NEW_YORK)) == datetime(
        2026, 12, 1, 11, tzinfo=NEW_YORK
    )
    assert cal.next_change(datetime(2026, 12, 1, 11, tzinfo=NEW_YORK)) == datetime(
        2026, 12, 8, 7, tzinfo=NEW_YORK
    )


def test_next_change_is_none_when_nothing_lies_ahead() -> None:
    cal = MaintenanceCalendar(
        [window(), window(id="w2", cancelled=True, start=T0 + DAY * 30, end=T0 + DAY * 31)]
    )
    assert cal.next_change(datetime(2026, 12, 2, tzinfo=UTC)) is None
    assert MaintenanceCalendar([]).next_change(T0) is None


def test_upcoming_lists_occurrences_starting_within_the_horizon_in_order() -> None:
    cal = MaintenanceCalendar(
        [window(id="b", rrule="FREQ=WEEKLY"), window(id="a"), window(id="c", cancelled=True)]
    )
    got = cal.upcoming(T0, 20 * DAY)
    assert [(o.window_id, o.start.day) for o in got] == [("a", 1), ("b", 1), ("b", 8)]
    assert "c" in {o.window_id for o in cal.upcoming(T0, 20 * DAY, include_cancelled=True)}


def test_active_and_for_resources_select_occurrences_and_windows() -> None:
    cal = MaintenanceCalendar([window(), window(id="w2", resources=("home",))])
    assert [o.window_id for o in cal.active(datetime(2026, 12, 1, 8, tzinfo=NEW_YORK))] == [
        "w1",
        "w2",
    ]
    assert [w.id for w in cal.for_resources(["home", "dtn"]).windows] == ["w2"]


def _demo_calendar() -> MaintenanceCalendar:
    config = load_facility(ROOT / "examples" / "demo-facility.yaml")
    data = (ROOT / "examples" / "demo-maintenance.ics").read_bytes()
    known = {r.id for r in config.resources}
    return MaintenanceCalendar(parse_maintenance_calendar(data, "ical:demo", known))


def test_the_status_engine_shows_the_demo_testbed_in_maintenance_on_wednesday_morning() -> None:
    overlay: MaintenanceOverlay = _demo_calendar()
    policy = {"tern": Policy(stale_after=timedelta(minutes=5), consecutive=1)}
    now = datetime(2026, 12, 2, 9, tzinfo=NEW_YORK)  # a Wednesday
    seen = Observation("tern", now, "test", ProbeState.DOWN, None, {}, ())
    tracks = {"tern": observe(Track(), seen, policy["tern"])}
    out = evaluate(["tern"], {"tern": 0}, tracks, policy, {}, overlay, now)["tern"]
    assert out.state == State.MAINTENANCE
    assert out.underlying is not None and out.underlying.window_id == "tern-weekly@dlcf.example.org"


def test_the_demo_calendar_always_has_something_upcoming_until_the_end_of_2027() -> None:
    cal = _demo_calendar()
    for month in range(0, 13):
        now = datetime(2027, 1, 1, tzinfo=UTC) + month * 28 * DAY
        if now.year == 2027:
            assert cal.upcoming(now, 14 * DAY), now


def test_windows_compare_by_value_and_a_changed_copy_is_revalidated() -> None:
    w = window()
    assert w == window() and hash(w) == hash(window())
    with pytest.raises(InvalidWindow):
        replace(w, end=w.start)
