"""The running calendar: stored windows, the engine overlay, and Slurm MAINT reservations."""

from __future__ import annotations

from datetime import timedelta

from facility.config import FacilityConfig
from facility.model import ReservationFact
from facility.store import Store
from slas.operations import Operations
from slas.repository import Repository
from tests.conftest import T0


def maint(name: str = "m1", partial: bool = False, hours: int = 2) -> ReservationFact:
    return ReservationFact(
        name,
        T0,
        T0 + timedelta(hours=hours),
        ("batch",),
        nodes=4,
        flags=("MAINT",),
        partial=partial,
    )


def test_a_maint_reservation_becomes_a_window_marked_with_its_source(
    config: FacilityConfig, store: Store
) -> None:
    ops = Operations(config, Repository(store.engine))
    changes: list[None] = []
    ops.subscribe(lambda: changes.append(None))
    ops.sync_reservations("slurm-hpc", [maint()], T0)
    (w,) = ops.windows()
    assert (w.id, w.source, w.kind, w.effect) == (
        "slurm:slurm-hpc:m1",
        "slurm:slurm-hpc",
        "reservation",
        "down",
    )
    assert ops.overlay.active_window("batch", T0 + timedelta(minutes=5)) is not None
    assert ops.overlay.active_window("home", T0 + timedelta(minutes=5)) is None
    assert len(changes) == 1
    ops.sync_reservations("slurm-hpc", [maint()], T0 + timedelta(seconds=30))  # unchanged
    assert len(changes) == 1, "an unchanged reservation does not re-evaluate the facility"


def test_a_partial_maint_reservation_only_degrades(config: FacilityConfig, store: Store) -> None:
    ops = Operations(config, Repository(store.engine))
    ops.sync_reservations("slurm-hpc", [maint("m1~partial", partial=True)], T0)
    assert ops.windows()[0].effect == "degraded"


def test_a_reservation_that_disappears_removes_its_window_and_others_are_kept(
    config: FacilityConfig, store: Store
) -> None:
    ops = Operations(config, Repository(store.engine))
    beamtime = ReservationFact("bl1", T0, T0 + timedelta(hours=8), ("batch",), nodes=4)
    ops.sync_reservations("slurm-hpc", [maint(), beamtime], T0)
    assert [w.id for w in ops.windows()] == ["slurm:slurm-hpc:m1"]
    assert {f.name for f in ops.reservations()} == {"m1", "bl1"}
    ops.sync_reservations("slurm-hpc", [beamtime], T0 + timedelta(minutes=1))
    assert ops.windows() == ()
    reloaded = Operations(config, Repository(store.engine))
    assert [f.name for f in reloaded.reservations()] == ["bl1"]
