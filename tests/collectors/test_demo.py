"""The demo facility moves: its simulated sources drive the real engine and store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collectors.base import Cycle
from collectors.demo import CYCLE, INTERVAL, DemoMaintenance, demo_collectors
from facility.config import load_facility
from facility.model import State
from facility.service import StatusService
from facility.settings import demo_facility_file
from facility.store import Store
from tests.conftest import Clock


@pytest.fixture
def demo(tmp_path, clock: Clock) -> Iterator[tuple[StatusService, Sources]]:
    config = load_facility(demo_facility_file())
    store = Store.from_url(f"sqlite:///{tmp_path / 'demo.db'}")
    service = StatusService(config, store, DemoMaintenance(clock.now), clock=clock)
    yield service, Sources(demo_collectors(config, clock.now, clock), clock.now)
    store.close()


class Sources:
    """Every demo collector, collected together like the runner does."""

    def __init__(self, collectors: list, start) -> None:
        self.collectors, self.start = collectors, start

    def collect(self, now):
        return Cycle([o for c in self.collectors for o in c.collect(now).observations])

    def metrics(self, now) -> list:
        return [m for c in self.collectors for m in c.collect(now).metrics]


def run_cycle(service: StatusService, collector: Sources, clock: Clock) -> dict[str, set[State]]:
    """Run one scenario cycle; return every state each resource went through."""
    seen: dict[str, set[State]] = {}
    for _ in range(int(CYCLE / INTERVAL) + 2):
        service.ingest(collector.collect(clock.now).observations, clock.now)
        for rid, status in service.snapshot().statuses.items():
            seen.setdefault(rid, set()).add(status.state)
        clock.advance(INTERVAL)
    return seen


def test_within_one_cycle_the_scenario_drains_slows_loses_packets_and_maintains(
    demo, clock: Clock
) -> None:
    service, collector = demo
    seen = run_cycle(service, collector, clock)
    assert State.DEGRADED in seen["borealis-batch"]
    assert State.DEGRADED in seen["dsn-rabbitmq"]
    assert State.DEGRADED in seen["link-tokamak"]
    assert State.MAINTENANCE in seen["tern"]
    assert State.DEGRADED in seen["scratch"]
    assert seen["home"] == {State.UP}


def test_the_drain_wave_explains_itself_in_nodes_and_reasons(demo, clock: Clock) -> None:
    service, collector = demo
    for _ in range(int(170 / INTERVAL)):
        service.ingest(collector.collect(clock.now).observations, clock.now)
        clock.advance(INTERVAL)
    batch = service.snapshot().statuses["borealis-batch"]
    assert batch.state == State.DEGRADED
    assert batch.capacity is not None and batch.capacity < 0.9
    drained = next(r for r in batch.reasons if r.code == "nodes_drained")
    assert "of 368 nodes drained" in drained.message and "'bad DIMM'" in drained.message


def test_scratch_losing_osts_is_named_as_root_cause_by_its_dependents(demo, clock: Clock) -> None:
    service, collector = demo
    for _ in range(int(320 / INTERVAL)):
        service.ingest(collector.collect(clock.now).observations, clock.now)
        clock.advance(INTERVAL)
    statuses = service.snapshot().statuses
    assert statuses["scratch"].state == State.DEGRADED
    dtn = statuses["dtn"]
    assert dtn.state == State.DEGRADED
    assert dtn.root_cause is not None and dtn.root_cause.resource_id == "scratch"


def test_the_testbed_under_maintenance_still_shows_what_its_probes_see(demo, clock: Clock) -> None:
    service, collector = demo
    for _ in range(int(260 / INTERVAL)):
        service.ingest(collector.collect(clock.now).observations, clock.now)
        clock.advance(INTERVAL)
    tern = service.snapshot().statuses["tern"]
    assert tern.state == State.MAINTENANCE
    assert tern.underlying is not None and tern.underlying.state == State.UP


def test_the_facility_returns_to_up_after_a_cycle(demo, clock: Clock) -> None:
    service, collector = demo
    run_cycle(service, collector, clock)
    clock.advance(CYCLE - (clock.now - collector.start).total_seconds() % CYCLE + 10)
    for _ in range(3):
        service.ingest(collector.collect(clock.now).observations, clock.now)
        clock.advance(INTERVAL)
    assert {s.state for s in service.snapshot().statuses.values()} == {State.UP}


def test_the_slow_broker_is_published_by_the_real_rabbitmq_collector(demo, clock: Clock) -> None:
    service, sources = demo
    clock.advance(150)
    for _ in range(3):
        service.ingest(sources.collect(clock.now).observations, clock.now)
        clock.advance(INTERVAL)
    broker = service.snapshot().statuses["dsn-rabbitmq"]
    assert broker.state == State.DEGRADED and broker.source == "rabbitmq-dsn-rabbitmq"
    assert {r.code for r in broker.reasons} >= {"broker_slow", "backlog_high"}
    names = {m.name for m in sources.metrics(clock.now)}
    assert "facstat_rabbitmq_round_trip_seconds" in names
