"""Two status services on one store, as two API processes run them (SQLite and PostgreSQL).

The second learns the first's writes with `sync` (loading only the rows written since
its version), and a commit computed from an old version is refused and recomputed, so
neither overwrites the other and the hysteresis memory is shared.
"""

from __future__ import annotations

from facility.config import FacilityConfig
from facility.model import ProbeState, State
from facility.service import StatusService
from facility.store import Store
from tests.conftest import Clock
from tests.facility.test_store import all_up, o


def everything_up(service: StatusService, clock: Clock) -> None:
    for _ in range(2):
        all_up(service, clock)
        clock.advance(5)


def test_a_second_service_catches_up_with_only_the_rows_written_since_its_version(
    config: FacilityConfig, store: Store, clock: Clock
) -> None:
    a, b = StatusService(config, store, clock=clock), StatusService(config, store, clock=clock)
    everything_up(a, clock)
    assert b.sync() is True
    assert {s.state for s in b.current().statuses.values()} == {State.UP}
    seen = b.current().version
    for _ in range(2):
        clock.advance(5)
        a.ingest([o("home", ProbeState.DOWN, clock)], clock.now)
    _, newer = store.load_state(seen)
    assert set(newer) == {"home", "batch"}  # home and what depends on it, nothing else
    assert b.sync() is True and b.sync() is False
    assert b.current().version == a.current().version
    assert b.current().statuses == a.current().statuses


def test_rounds_through_two_services_are_counted_together_and_none_is_lost(
    config: FacilityConfig, store: Store, clock: Clock
) -> None:
    a, b = StatusService(config, store, clock=clock), StatusService(config, store, clock=clock)
    everything_up(a, clock)
    clock.advance(5)
    a.ingest([o("scratch", ProbeState.DOWN, clock)], clock.now)  # round 1 of 2
    clock.advance(5)
    result = b.ingest([o("scratch", ProbeState.DOWN, clock)], clock.now)  # b is behind
    assert [t.after.resource_id for t in result.transitions][:1] == ["scratch"]
    assert b.current().statuses["scratch"].state == State.DOWN
    assert b.metrics.conflicts._value.get() == 1  # computed, refused, reloaded, recomputed
    assert store.count("observation") == 2 * len(config.resources) + 2
    a.sync()
    assert a.current().statuses["scratch"].state == State.DOWN
