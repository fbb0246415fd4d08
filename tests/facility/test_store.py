"""The durable store on SQLite and PostgreSQL: migrations, intervals on transitions only,
an event per state change, atomic batches, restart without loss, retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import facility.tables  # noqa: F401
from facility.config import FacilityConfig
from facility.errors import ObservationRejected, StoreUnavailable
from facility.model import Interval, Observation, ProbeState, Reason, State
from facility.service import StatusService
from facility.store import Store
from tests.conftest import T0, Clock


def o(
    rid: str, state: ProbeState, clock: Clock, cap: float | None = 1.0, *reasons: Reason
) -> Observation:
    return Observation(rid, clock.now, "test", state, cap, {"x": 1.0}, tuple(reasons))


def all_up(service: StatusService, clock: Clock) -> None:
    service.ingest([o(r, ProbeState.UP, clock) for r in service.policies], clock.now)


def test_migrations_produce_exactly_the_models_schema(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_migrating_twice_is_harmless(db_url: str) -> None:
    Store.from_url(db_url).close()
    Store.from_url(db_url).close()


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:
    s = Store.from_url(f"sqlite:///{tmp_path / 'w.db'}")
    with s.engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
    s.close()


def test_a_new_service_starts_every_resource_unknown_and_records_it(
    service: StatusService, store: Store
) -> None:
    snap = service.snapshot()
    assert {s.state for s in snap.statuses.values()} == {State.UNKNOWN}
    assert store.count("status_interval") == len(service.policies)


def test_intervals_are_written_on_transitions_only(
    service: StatusService, store: Store, clock: Clock
) -> None:
    all_up(service, clock)
    before = store.count("status_interval")
    for _ in range(20):
        clock.advance(10)
        all_up(service, clock)
    assert store.count("status_interval") == before
    assert store.count("observation") == 21 * len(service.policies)


def test_a_state_change_closes_one_interval_opens_another_and_logs_one_event(
    service: StatusService, store: Store, clock: Clock
) -> None:
    all_up(service, clock)
    events_before = store.count("event")
    start = clock.now
    why = Reason("osts_inactive", "12 of 40 OSTs inactive")
    for _ in range(2):
        clock.advance(10)
        service.ingest([o("home", ProbeState.DOWN, clock, None, why)], clock.now)
    hist = store.history("home", start - timedelta(hours=1), clock.now + timedelta(seconds=1))
    assert [i.state for i in hist][-2:] == [State.UP, State.DOWN]
    assert hist[-2].end == hist[-1].start == clock.now
    assert hist[-1].end is None and hist[-1].reasons == (why,)
    events = store.events(after=0, limit=1000)
    assert store.count("event") == events_before + 2  # home, and batch which depends on home
    assert {(e.resource_id, e.from_state, e.to_state) for e in events[-2:]} == {
        ("home", "up", "down"),
        ("batch", "up", "degraded"),
    }


def test_a_batch_with_one_bad_observation_stores_nothing(
    service: StatusService, store: Store, clock: Clock
) -> None:
    all_up(service, clock)
    counts = [store.count(t) for t in ("observation", "event", "status_interval")]
    version = store.version()
    bad = [o("home", ProbeState.DOWN, clock), o("scrach", ProbeState.UP, clock)]
    with pytest.raises(ObservationRejected) as exc:
        service.ingest(bad, clock.now)
    assert str(exc.value.issues[0]) == "observations[1].resource_id: unknown resource 'scrach'"
    assert [store.count(t) for t in ("observation", "event", "status_interval")] == counts
    assert store.version() == version


def test_a_restarted_service_continues_where_it_stopped(
    config: FacilityConfig, service: StatusService, store: Store, clock: Clock
) -> None:
    all_up(service, clock)
    clock.advance(10)
    service.ingest([o("scratch", ProbeState.DOWN, clock)], clock.now)  # pending: 1 of 2
    again = StatusService(config, store, clock=clock)
    assert again.snapshot().statuses["scratch"].state == State.UP
    clock.advance(10)
    again.ingest([o("scratch", ProbeState.DOWN, clock)], clock.now)  # the pending count survived
    assert again.snapshot().statuses["scratch"].state == State.DOWN


def test_staleness_is_applied_when_read_and_written_as_a_transition(
    service: StatusService, store: Store, clock: Clock
) -> None:
    all_up(service, clock)
    clock.advance(31)  # gateway is stale after 30 s
    snap = service.snapshot()
    gw = snap.statuses["gateway"]
    assert gw.state == State.UNKNOWN and gw.reasons[0].code == "stale"
    assert snap.statuses["scratch"].state == State.UP
    assert store.events(after=0, limit=1000)[-1].resource_id == "gateway"


def test_a_restart_after_a_long_silence_shows_everything_unknown(
    config: FacilityConfig, service: StatusService, store: Store, clock: Clock
) -> None:
    all_up(service, clock)
    clock.advance(3600)
    again = StatusService(config, store, clock=clock)
    assert {s.state for s in again.snapshot().statuses.values()} == {State.UNKNOWN}


def test_intervals_at_reads_the_past(service: StatusService, store: Store, clock: Clock) -> None:
    all_up(service, clock)
    t_up = clock.advance(5)
    for _ in range(2):
        clock.advance(10)
        service.ingest([o("home", ProbeState.DOWN, clock)], clock.now)
    assert store.intervals_at(t_up)["home"].state == State.UP
    assert store.intervals_at(clock.now)["home"].state == State.DOWN
    assert "home" not in store.intervals_at(T0 - timedelta(days=1))


def test_old_observations_are_purged_after_retention(
    service: StatusService, store: Store, clock: Clock
) -> None:
    all_up(service, clock)
    clock.advance(86400 * 8)
    all_up(service, clock)
    removed = store.purge_observations(clock.now - timedelta(days=7))
    assert removed == len(service.policies)
    assert store.count("observation") == len(service.policies)


def test_times_come_back_timezone_aware_in_utc(
    service: StatusService, store: Store, clock: Clock
) -> None:
    all_up(service, clock)
    (_, track) = store.load_current()["home"]
    assert track.observed_at == clock.now
    status, _ = store.load_current()["home"]
    assert status.observed_at is not None and status.observed_at.utcoffset() == timedelta(0)


def test_a_change_at_the_same_instant_as_the_last_leaves_no_empty_interval(
    service: StatusService, store: Store, clock: Clock
) -> None:
    all_up(service, clock)  # at T0, the instant the service recorded everything `unknown`
    hist = store.history("home", T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert [(i.state, i.start, i.end) for i in hist] == [(State.UP, T0, None)]


def test_during_a_store_outage_reads_still_turn_stale_data_unknown(
    config: FacilityConfig, tmp_path, clock: Clock
) -> None:
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    Store.from_url(url).close()
    impatient = Store(sa.create_engine(url, connect_args={"timeout": 0.05}))
    service = StatusService(config, impatient, clock=clock)
    all_up(service, clock)
    blocker = sa.create_engine(url).raw_connection()
    blocker.execute("BEGIN EXCLUSIVE")  # a real lock: every write now fails
    try:
        clock.advance(31)  # gateway is stale after 30 s
        snap = service.snapshot()
        assert snap.statuses["gateway"].state == State.UNKNOWN
        assert snap.statuses["home"].state == State.UP
        assert snap.version < 0
        with pytest.raises(StoreUnavailable):
            service.ingest([o("home", ProbeState.UP, clock)], clock.now)
    finally:
        blocker.rollback()
        blocker.close()
    assert service.snapshot().version > 0  # recorded once the store is back
    impatient.close()


def test_past_history_goes_only_into_a_store_without_history(store: Store) -> None:
    past = [
        Interval("scratch", T0 - timedelta(hours=2), T0 - timedelta(hours=1), State.UP, 1.0),
        Interval("scratch", T0 - timedelta(hours=1), T0, State.DOWN, 0.0, (Reason("x", "y"),)),
        Interval("scratch", T0, None, State.UP),  # open: never imported
    ]
    assert store.insert_history(past) == 2
    got = store.history("scratch", T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert [(i.state, i.reasons) for i in got] == [
        (State.UP, ()),
        (State.DOWN, (Reason("x", "y"),)),
    ]
    assert store.insert_history(past) == 0
    assert len(store.history("scratch", T0 - timedelta(days=1), T0)) == 2


def test_a_failing_status_listener_neither_blocks_nor_undoes_an_ingest(
    service: StatusService, clock: Clock
) -> None:
    seen: list[int] = []

    def broken(snapshot: object, transitions: list[object]) -> None:
        raise RuntimeError("listener bug")

    service.subscribe(broken)
    service.subscribe(lambda snap, transitions: seen.append(len(transitions)))
    for _ in range(2):
        service.ingest([Observation("scratch", clock.now, "t", ProbeState.DOWN)])
        clock.advance(5)
    assert service.snapshot().statuses["scratch"].state == State.DOWN
    assert seen, "the listener after the broken one still ran"
