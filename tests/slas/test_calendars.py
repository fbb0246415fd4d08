"""Periods and service hours in a time zone, DST and holidays included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from slas.calendars import (
    Period,
    month_of,
    period_at,
    period_before,
    period_days,
    service_clock,
    service_windows,
)
from slas.definitions import ServiceHours, SlaDefinition
from slas.errors import PeriodError

BERLIN = "Europe/Berlin"


def sla(**fields: object) -> SlaDefinition:
    return SlaDefinition.model_validate({"id": "s", "service": "r", "objective": 99, **fields})


def hours_in(hours: ServiceHours, tz: str, month: datetime) -> float:
    p = month_of(month, tz)
    return service_clock(hours, tz, p.start, p.end).total / 3600


def test_a_dst_change_in_europe_berlin_month_gives_743_service_hours() -> None:
    assert hours_in(ServiceHours(), BERLIN, datetime(2026, 3, 15, tzinfo=UTC)) == 743  # 31×24 − 1


def test_the_autumn_change_gives_745_service_hours() -> None:
    assert hours_in(ServiceHours(), BERLIN, datetime(2026, 10, 15, tzinfo=UTC)) == 745  # 31×24 + 1


def test_16x5_counts_sixteen_wall_clock_hours_on_each_weekday_across_dst() -> None:
    # March 2026 has 22 weekdays; the clocks change on Sunday 29 March.
    assert hours_in(ServiceHours(calendar="16x5"), BERLIN, datetime(2026, 3, 2, tzinfo=UTC)) == 352


def test_8x5_keeps_local_office_hours_when_the_clocks_change() -> None:
    hours = ServiceHours(calendar="8x5")
    start, end = datetime(2026, 3, 27, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC)
    windows = service_windows(hours, BERLIN, start, end)
    assert [(a.hour, b.hour) for a, b in windows] == [(7, 15), (6, 14)]  # Fri CET, Mon CEST


def test_holidays_remove_whole_local_days() -> None:
    plain = ServiceHours(calendar="16x5")
    christmas = ServiceHours(calendar="16x5", holidays=(date(2026, 12, 24), date(2026, 12, 25)))
    dec = datetime(2026, 12, 10, tzinfo=UTC)
    assert hours_in(plain, BERLIN, dec) - hours_in(christmas, BERLIN, dec) == 32


def test_a_24x7_holiday_takes_the_local_calendar_day() -> None:
    hours = ServiceHours(holidays=(date(2026, 1, 1),))
    assert hours_in(hours, BERLIN, datetime(2026, 1, 15, tzinfo=UTC)) == 31 * 24 - 24


def test_touching_24x7_days_merge_into_one_window() -> None:
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    assert service_windows(ServiceHours(), BERLIN, start, end) == [(start, end)]


def test_a_calendar_month_starts_at_local_midnight() -> None:
    p = period_at(sla(timezone=BERLIN), datetime(2026, 3, 31, 23, 30, tzinfo=UTC))
    assert p == Period(datetime(2026, 3, 31, 22, tzinfo=UTC), datetime(2026, 4, 30, 22, tzinfo=UTC))


def test_december_is_followed_by_january() -> None:
    p = month_of(datetime(2026, 12, 5, tzinfo=UTC), "UTC")
    assert p.end == datetime(2027, 1, 1, tzinfo=UTC)


def test_a_rolling_period_ends_now() -> None:
    now = datetime(2026, 5, 5, 12, tzinfo=UTC)
    assert period_at(sla(period="30d"), now) == Period(now - timedelta(days=30), now)


def test_the_period_before_a_month_is_the_previous_month() -> None:
    s = sla(timezone=BERLIN)
    march = period_at(s, datetime(2026, 3, 10, tzinfo=UTC))
    assert period_before(s, march) == month_of(datetime(2026, 2, 10, tzinfo=UTC), BERLIN)


def test_the_period_before_a_rolling_window_is_as_long() -> None:
    now = datetime(2026, 5, 5, tzinfo=UTC)
    s = sla(period="7d")
    assert period_before(s, period_at(s, now)).start == now - timedelta(days=14)


def test_burn_thresholds_take_a_month_as_30_days() -> None:
    assert (period_days(sla()), period_days(sla(period="7d"))) == (30, 7)


def test_the_service_clock_counts_only_service_seconds() -> None:
    hours = ServiceHours(calendar="8x5")
    mon = datetime(2026, 6, 1, tzinfo=UTC)  # a Monday; 08:00–16:00 UTC
    clock = service_clock(hours, "UTC", mon, mon + timedelta(days=7))
    assert clock.between(mon, mon + timedelta(hours=9)) == 3600
    assert clock.between(mon + timedelta(hours=12), mon + timedelta(days=1, hours=9)) == 5 * 3600
    assert clock.total == 5 * 8 * 3600


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(PeriodError, match="no time zone"):
        period_at(sla(), datetime(2026, 1, 1))


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(PeriodError, match="before it starts"):
        Period(t, t)
