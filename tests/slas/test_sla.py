"""SLA reports on hand-made histories: buckets, availability, budget and burn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from facility.model import Interval, State
from slas.calendars import Period, month_of
from slas.definitions import SlaDefinition
from slas.errors import PeriodError
from slas.sla import SlaReport, measure, report

UP, DEGRADED, DOWN = State.UP, State.DEGRADED, State.DOWN
MAINT, UNKNOWN = State.MAINTENANCE, State.UNKNOWN
JUNE = datetime(2026, 6, 1, tzinfo=UTC)  # a Monday
H = 3600.0


def sla(**fields: object) -> SlaDefinition:
    spec = {"id": "s", "service": "r", "objective": 99.5, **fields}
    return SlaDefinition.model_validate(spec)


def history(
    start: datetime, *stretches: tuple[float | None, State] | tuple[float | None, State, float]
) -> list[Interval]:
    """Consecutive intervals of resource `r`: (hours, state[, capacity]); None hours is open."""
    out, t = [], start
    for hours, state, *cap in stretches:
        end = None if hours is None else t + timedelta(hours=hours)
        out.append(Interval("r", t, end, state, cap[0] if cap else None))
        t = end or t
    return out


def june(s: SlaDefinition, tl: list[Interval], now: datetime | None = None) -> SlaReport:
    """The report for June 2026 (UTC), at its very end unless `now` says otherwise."""
    return report(s, {"r": tl}, now or JUNE + timedelta(days=30), month_of(JUNE, "UTC"))


def test_a_clean_month_is_fully_available_with_the_whole_budget_left() -> None:
    r = june(sla(), history(JUNE - timedelta(days=1), (None, UP)))
    assert r.availability == 1.0 and r.met is True
    assert r.buckets.service_s == r.buckets.up_s == 30 * 24 * H
    assert r.budget.total_s == pytest.approx(0.005 * 30 * 24 * H)
    assert r.budget.remaining_fraction == 1.0


def test_an_unplanned_outage_spends_the_budget() -> None:
    r = june(sla(), history(JUNE, (10, UP), (2, DOWN), (None, UP)))
    assert r.buckets.down_s == 2 * H
    assert r.availability == pytest.approx(1 - 2 / 720)
    assert r.budget.used_s == 2 * H
    assert r.budget.used_fraction == pytest.approx(2 * H / (0.005 * 720 * H))


def test_a_planned_window_is_excluded_from_the_denominator() -> None:
    r = june(sla(), history(JUNE, (10, UP), (4, MAINT), (None, UP)))
    assert r.buckets.maintenance_s == 4 * H and r.availability == 1.0
    assert r.budget.total_s == pytest.approx(0.005 * 716 * H)


def test_an_overrun_after_a_window_counts_as_down() -> None:
    tl = history(JUNE, (10, UP), (4, MAINT), (1, DOWN), (0.5, DOWN), (None, UP))
    r = june(sla(), tl)
    assert (r.buckets.maintenance_s, r.buckets.overrun_s, r.buckets.down_s) == (4 * H, 1.5 * H, 0)
    assert r.buckets.overrun_down_s == 1.5 * H
    assert r.availability == pytest.approx(1 - 1.5 / 716)


def test_a_degraded_return_from_a_window_is_an_overrun_counted_as_degraded() -> None:
    tl = history(JUNE, (10, UP), (4, MAINT), (1, DEGRADED), (1, DOWN), (None, UP))
    r = june(sla(degraded=0.5), tl)
    assert r.buckets.overrun_s == 2 * H and r.buckets.overrun_down_s == 1.5 * H
    assert r.buckets.degraded_s == 0 and r.buckets.down_s == 0


def test_the_overrun_ends_when_the_service_is_up_again() -> None:
    tl = history(JUNE, (4, MAINT), (1, DOWN), (1, UP), (1, DOWN), (None, UP))
    r = june(sla(), tl)
    assert (r.buckets.overrun_s, r.buckets.down_s) == (H, H)


def test_a_stale_spell_between_a_window_and_an_outage_is_no_overrun() -> None:
    tl = history(JUNE, (4, MAINT), (0.25, UNKNOWN), (1, DOWN), (None, UP))
    r = june(sla(), tl)
    assert (r.buckets.overrun_s, r.buckets.down_s, r.buckets.unknown_s) == (0, H, 0.25 * H)


def test_an_overrun_crossing_the_period_start_stays_an_overrun() -> None:
    tl = history(JUNE - timedelta(hours=5), (4, MAINT), (3, DOWN), (None, UP))
    r = june(sla(), tl)
    assert r.buckets.overrun_s == 2 * H and r.buckets.maintenance_s == 0


def test_16x5_ignores_a_weekend_outage() -> None:
    saturday = JUNE + timedelta(days=5)
    tl = history(JUNE - timedelta(days=1), (6 * 24, UP), (24, DOWN), (None, UP))
    assert tl[1].start == saturday
    r = june(sla(service_hours={"calendar": "16x5"}), tl)
    assert r.buckets.down_s == 0 and r.availability == 1.0
    assert r.buckets.service_s == 22 * 16 * H  # 22 weekdays in June 2026


def test_a_weekday_outage_counts_only_its_service_hours() -> None:
    tl = history(JUNE, (20, UP), (12, DOWN), (None, UP))  # Monday 20:00 to Tuesday 08:00
    r = june(sla(service_hours={"calendar": "16x5"}), tl)
    assert r.buckets.down_s == 4 * H  # 20:00–22:00 and 06:00–08:00


def test_degraded_time_counts_at_its_fixed_weight() -> None:
    r = june(sla(degraded=0.25), history(JUNE, (10, UP), (4, DEGRADED, 0.9), (None, UP)))
    assert (r.buckets.degraded_s, r.buckets.degraded_down_s) == (4 * H, 3 * H)


def test_degraded_time_counts_by_capacity_when_asked() -> None:
    r = june(sla(degraded="capacity"), history(JUNE, (10, UP), (4, DEGRADED, 0.75), (None, UP)))
    assert r.buckets.degraded_down_s == pytest.approx(1 * H)


def test_degraded_by_capacity_falls_back_to_the_weight_without_a_capacity() -> None:
    rule = {"count": "capacity", "weight": 0.5}
    r = june(sla(degraded=rule), history(JUNE, (10, UP), (4, DEGRADED), (None, UP)))
    assert r.buckets.degraded_down_s == 2 * H


def test_unknown_is_reported_but_excluded_by_default() -> None:
    r = june(sla(), history(JUNE, (10, UP), (5, UNKNOWN), (None, UP)))
    assert r.buckets.unknown_s == 5 * H and r.availability == 1.0


def test_unknown_counts_as_down_when_the_sla_says_so() -> None:
    r = june(sla(unknown="down"), history(JUNE, (10, UP), (5, UNKNOWN), (None, UP)))
    assert r.availability == pytest.approx(1 - 5 / 720)


def test_time_without_history_is_unknown() -> None:
    tl = history(JUNE + timedelta(days=1), (5, UP))
    r = june(sla(), tl)
    assert r.buckets.unknown_s == (30 * 24 - 5) * H and r.buckets.up_s == 5 * H


def test_a_service_without_any_history_has_no_availability() -> None:
    r = june(sla(), [])
    assert r.availability is None and r.met is None


def test_a_group_takes_the_worst_state_of_its_members() -> None:
    a = history(JUNE, (10, UP), (2, DOWN), (None, UP))
    b = [
        Interval("b", iv.start, iv.end, iv.state)
        for iv in history(JUNE, (11, MAINT), (3, UP), (2, DEGRADED), (None, UP))
    ]
    s = sla(service="g", resources=["r", "b"], degraded=0.5)
    r = report(s, {"r": a, "b": b}, JUNE + timedelta(days=30), month_of(JUNE, "UTC"))
    assert (r.buckets.maintenance_s, r.buckets.down_s, r.buckets.degraded_s) == (
        10 * H,
        2 * H,
        2 * H,
    )
    assert r.buckets.overrun_s == 0  # a member's outage during another's window is unplanned


def test_the_buckets_of_the_current_period_stop_at_now() -> None:
    now = JUNE + timedelta(days=10)
    r = june(sla(), history(JUNE - timedelta(days=1), (None, UP)), now)
    assert r.measured_until == now and r.buckets.service_s == 10 * 24 * H
    assert r.budget.total_s == pytest.approx(0.005 * 30 * 24 * H)  # the whole month's budget


def test_time_to_exhaustion_follows_the_last_hour_of_burn() -> None:
    now = JUNE + timedelta(days=10)
    r = june(sla(), history(JUNE, (10 * 24 - 1, UP), (None, DOWN)), now)
    # 3.6 h of budget, one hour spent, and burning one second of budget per second.
    assert r.budget.remaining_s == pytest.approx(0.005 * 720 * H - H)
    assert r.time_to_exhaustion_s == pytest.approx(2.6 * H)


def test_nothing_burning_means_no_exhaustion_and_an_overspent_budget_means_now() -> None:
    now = JUNE + timedelta(days=10)
    calm = june(sla(), history(JUNE, (2, DOWN), (None, UP)), now)
    spent = june(sla(), history(JUNE, (5, DOWN), (None, UP)), now)
    assert calm.time_to_exhaustion_s is None
    assert spent.budget.remaining_s < 0 and spent.time_to_exhaustion_s == 0.0


def test_a_past_period_has_no_burn_rates() -> None:
    may = month_of(JUNE - timedelta(days=3), "UTC")
    r = report(sla(), {"r": history(may.start, (None, UP))}, JUNE + timedelta(days=3), may)
    assert r.burn_rates == () and r.time_to_exhaustion_s is None
    assert r.measured_until == may.end


def test_a_period_that_starts_after_now_is_refused() -> None:
    with pytest.raises(PeriodError, match="after now"):
        report(sla(), {}, JUNE, Period(JUNE + timedelta(days=1), JUNE + timedelta(days=2)))


def test_measure_gives_the_buckets_of_any_window_up_to_now() -> None:
    tl = history(JUNE, (10, UP), (2, DOWN), (None, UP))
    b = measure(
        sla(),
        {"r": tl},
        JUNE + timedelta(hours=11),
        JUNE + timedelta(days=1),
        JUNE + timedelta(hours=13),
    )
    assert (b.service_s, b.down_s, b.up_s) == (2 * H, H, H)
