"""Burn rates over the standard window pairs, and the alerts they raise."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from facility.model import Interval, State
from slas.burn import STANDARD_WINDOWS, BurnAlert, BurnAlertSink, alerts_from, burn_alerts
from slas.calendars import period_days
from slas.definitions import SlaDefinition
from slas.sla import report

NOW = datetime(2026, 6, 10, 12, tzinfo=UTC)  # a Wednesday, noon


def sla(**fields: object) -> SlaDefinition:
    return SlaDefinition.model_validate({"id": "s", "service": "r", "objective": 99.5, **fields})


def outage(start: datetime, end: datetime) -> dict[str, list[Interval]]:
    return {
        "r": [
            Interval("r", NOW - timedelta(days=10), start, State.UP),
            Interval("r", start, end, State.DOWN),
            Interval("r", end, None, State.UP),
        ]
    }


def test_a_30_day_period_uses_the_standard_thresholds() -> None:
    days = period_days(sla(period="30d"))
    assert [round(p.threshold(days), 9) for p in STANDARD_WINDOWS] == [14.4, 6, 3, 1]


def test_a_calendar_month_alerts_like_a_30_day_period() -> None:
    days = period_days(sla(period="month"))
    assert [round(p.threshold(days), 9) for p in STANDARD_WINDOWS] == [14.4, 6, 3, 1]


def test_shorter_periods_keep_the_budget_shares_and_lower_the_thresholds() -> None:
    days = period_days(sla(period="7d"))
    thresholds = [p.threshold(days) for p in STANDARD_WINDOWS]
    assert thresholds == pytest.approx([3.36, 1.4, 0.7, 7 / 30])
    shares = [
        t * p.long.total_seconds() / (7 * 86400)
        for t, p in zip(thresholds, STANDARD_WINDOWS, strict=True)
    ]
    assert shares == pytest.approx([0.02, 0.05, 0.10, 0.10])


def test_an_ongoing_total_outage_fires_every_pair() -> None:
    alerts = burn_alerts(sla(), outage(NOW - timedelta(hours=1), NOW + timedelta(hours=1)), NOW)
    assert [(a.severity, a.firing) for a in alerts] == [
        ("page", True), ("page", True), ("ticket", True), ("ticket", True)
    ]  # fmt: skip
    assert alerts[0].long_rate == pytest.approx(200) and alerts[0].threshold == pytest.approx(14.4)


def test_a_short_blip_that_is_over_does_not_page() -> None:
    blip = outage(NOW - timedelta(minutes=13), NOW - timedelta(minutes=10))
    fast = burn_alerts(sla(), blip, NOW)[0]
    assert fast.long_rate == pytest.approx(10) and fast.short_rate == 0
    assert not fast.firing


def test_the_short_window_stops_the_page_once_the_outage_is_over() -> None:
    over = outage(NOW - timedelta(minutes=70), NOW - timedelta(minutes=6))
    fast = burn_alerts(sla(), over, NOW)[0]
    assert fast.long_rate > fast.threshold and not fast.firing


def test_an_outage_outside_service_hours_burns_nothing() -> None:
    night = NOW.replace(hour=2)
    alerts = burn_alerts(
        sla(service_hours={"calendar": "8x5"}),
        outage(night - timedelta(hours=1), night + timedelta(hours=1)),
        night,
    )
    assert all(a.long_rate == a.short_rate == 0 and not a.firing for a in alerts)


def test_a_planned_window_burns_nothing() -> None:
    tl = {"r": [Interval("r", NOW - timedelta(hours=5), None, State.MAINTENANCE)]}
    assert not any(a.firing or a.long_rate for a in burn_alerts(sla(), tl, NOW))


def test_alerts_name_the_service_the_windows_and_the_instant() -> None:
    a = burn_alerts(sla(service="r"), outage(NOW, NOW), NOW)[1]
    assert (a.sla_id, a.service, a.long_window, a.short_window, a.at) == (
        "s", "r", timedelta(hours=6), timedelta(minutes=30), NOW
    )  # fmt: skip


def test_the_report_and_the_alerts_see_the_same_burn() -> None:
    s, tl = sla(), outage(NOW - timedelta(hours=2), NOW - timedelta(hours=1))
    assert alerts_from(s, report(s, tl, NOW).burn_rates, NOW) == burn_alerts(s, tl, NOW)


class ListSink:
    def __init__(self) -> None:
        self.received: list[BurnAlert] = []

    def publish(self, alerts: Sequence[BurnAlert]) -> None:
        self.received += [a for a in alerts if a.firing]


def test_a_sink_receives_the_alerts_it_is_given() -> None:
    sink: BurnAlertSink = ListSink()
    sink.publish(burn_alerts(sla(), outage(NOW - timedelta(hours=1), NOW), NOW))
    assert isinstance(sink, ListSink) and len(sink.received) == 4
