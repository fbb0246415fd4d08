"""Readiness verdicts: values in, verdict out; `now` is passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from facility.model import EffectiveStatus, Reason, ReservationFact, State
from slas.readiness import Facts, Need, Planned, Verdict, assess, parse_walltime, walltime

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
START, END = NOW + timedelta(hours=2), NOW + timedelta(hours=10)


def status(state: State, *reasons: Reason) -> EffectiveStatus:
    return EffectiveStatus("r", state, 1.0, reasons, NOW, NOW, "test")


def one(need: Need, facts: Facts, start: datetime = START) -> tuple[Verdict, dict[str, Verdict]]:
    out = assess([need], {need.resource_id: facts}, start, start + timedelta(hours=8), NOW)
    return out.verdict, {c.name: c.verdict for c in out.lines[0].checks}


def test_an_up_resource_without_maintenance_is_go() -> None:
    verdict, checks = one(Need("r"), Facts(status(State.UP)))
    assert verdict == Verdict.GO and checks == {"status": Verdict.GO, "maintenance": Verdict.GO}


def test_a_resource_down_just_before_beamtime_is_no_go() -> None:
    verdict, _ = one(Need("r"), Facts(status(State.DOWN, Reason("x", "controller down"))))
    assert verdict == Verdict.NO_GO


def test_a_resource_down_a_week_before_beamtime_is_only_at_risk() -> None:
    verdict, _ = one(Need("r"), Facts(status(State.DOWN)), start=NOW + timedelta(days=7))
    assert verdict == Verdict.AT_RISK


def test_a_resource_with_no_status_is_never_go() -> None:
    verdict, checks = one(Need("r"), Facts(None))
    assert verdict == Verdict.AT_RISK and checks["status"] == Verdict.AT_RISK


def test_maintenance_that_takes_a_needed_resource_down_in_the_window_is_no_go() -> None:
    planned = Planned("w1", "OS upgrade", START + timedelta(hours=1), START + timedelta(hours=3))
    verdict, checks = one(Need("r"), Facts(status(State.UP), maintenance=(planned,)))
    assert verdict == Verdict.NO_GO and checks["maintenance"] == Verdict.NO_GO


def test_maintenance_that_only_degrades_a_resource_is_at_risk() -> None:
    planned = Planned("w1", "rolling", START, END, effect="degraded")
    verdict, _ = one(Need("r"), Facts(status(State.UP), maintenance=(planned,)))
    assert verdict == Verdict.AT_RISK


def test_too_few_usable_nodes_for_an_imminent_beamtime_is_no_go() -> None:
    facts = Facts(status(State.UP), values={"nodes_usable": 10}, is_partition=True)
    verdict, checks = one(Need("r", nodes=16), facts)
    assert verdict == Verdict.NO_GO and checks["nodes"] == Verdict.NO_GO


def test_enough_nodes_and_a_reservation_with_a_short_queue_is_go() -> None:
    res = ReservationFact("beamtime-lcls", START, END, ("r",), nodes=16)
    values = {"nodes_usable": 40, "oldest_pending_age_seconds": 300}
    facts = Facts(status(State.UP), values=values, reservations=(res,), is_partition=True)
    verdict, checks = one(Need("r", nodes=16), facts)
    assert verdict == Verdict.GO
    assert checks["reservation"] == Verdict.GO and checks["queue_wait"] == Verdict.GO


def test_no_reservation_and_a_long_queue_is_at_risk() -> None:
    values = {"nodes_usable": 40, "oldest_pending_age_seconds": 4 * 3600}
    facts = Facts(status(State.UP), values=values, is_partition=True)
    verdict, checks = one(Need("r", nodes=16), facts)
    assert verdict == Verdict.AT_RISK
    assert checks["reservation"] == Verdict.AT_RISK and checks["queue_wait"] == Verdict.AT_RISK


def test_a_maint_reservation_does_not_count_as_a_beamtime_reservation() -> None:
    res = ReservationFact("maint", START, END, ("r",), nodes=100, flags=("MAINT",))
    facts = Facts(status(State.UP), values={"nodes_usable": 40}, reservations=(res,))
    _, checks = one(Need("r", nodes=16), facts)
    assert checks["reservation"] == Verdict.AT_RISK


def test_a_link_slower_than_needed_is_at_risk_and_unmeasured_is_not_go() -> None:
    slow = Facts(status(State.UP), values={"throughput_bits_per_second": 5e9})
    assert one(Need("r", bandwidth_gbps=10), slow)[0] == Verdict.AT_RISK
    fast = Facts(status(State.UP), values={"throughput_bits_per_second": 40e9})
    assert one(Need("r", bandwidth_gbps=10), fast)[0] == Verdict.GO
    assert one(Need("r", bandwidth_gbps=10), Facts(status(State.UP)))[0] == Verdict.AT_RISK


def test_not_enough_free_space_for_an_imminent_beamtime_is_no_go() -> None:
    facts = Facts(status(State.UP), values={"avail_bytes": 50e12})
    assert one(Need("r", free_space_tb=100), facts)[0] == Verdict.NO_GO
    assert one(Need("r", free_space_tb=20), facts)[0] == Verdict.GO


def test_an_sla_budget_nearly_spent_is_at_risk() -> None:
    assert one(Need("r"), Facts(status(State.UP), budget_remaining=0.05))[0] == Verdict.AT_RISK
    assert one(Need("r"), Facts(status(State.UP), budget_remaining=0.5))[0] == Verdict.GO


def test_the_verdict_is_the_worst_line() -> None:
    needs = [Need("a"), Need("b")]
    facts = {"a": Facts(status(State.UP)), "b": Facts(status(State.DEGRADED))}
    out = assess(needs, facts, START, END, NOW)
    assert [ln.verdict for ln in out.lines] == [Verdict.GO, Verdict.AT_RISK]
    assert out.verdict == Verdict.AT_RISK


def test_a_job_that_ends_before_the_next_maintenance_fits() -> None:
    m = Planned("w1", "upgrade", NOW + timedelta(hours=12), NOW + timedelta(hours=16))
    ans = walltime(NOW, timedelta(hours=6), timedelta(hours=1), [m])
    assert ans.fits and ans.next_maintenance == m
    assert ans.latest_submit == NOW + timedelta(hours=5)


def test_a_job_that_would_run_into_maintenance_does_not_fit() -> None:
    m = Planned("w1", "upgrade", NOW + timedelta(hours=4), NOW + timedelta(hours=6))
    ans = walltime(NOW, timedelta(hours=6), timedelta(0), [m])
    assert not ans.fits and "would not end before" in ans.message


def test_a_job_with_no_maintenance_ahead_fits() -> None:
    ans = walltime(NOW, timedelta(hours=48), timedelta(0), [])
    assert ans.fits and ans.next_maintenance is None and ans.latest_submit is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3600", timedelta(hours=1)),
        ("6h", timedelta(hours=6)),
        ("90m", timedelta(minutes=90)),
        ("PT6H", timedelta(hours=6)),
        ("12:00:00", timedelta(hours=12)),
        ("30:00", timedelta(minutes=30)),
        ("1-12:00:00", timedelta(days=1, hours=12)),
        ("2-06", timedelta(days=2, hours=6)),
        ("1-02:30", timedelta(days=1, hours=2, minutes=30)),
    ],
)
def test_walltimes_are_read_as_slurm_users_write_them(text: str, expected: timedelta) -> None:
    assert parse_walltime(text) == expected


@pytest.mark.parametrize("text", ["soon", "", "1-", "-5", "12:00:00:00"])
def test_a_walltime_that_is_not_a_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_walltime(text)
