"""The demo facility moves: its simulated sources drive the real collectors, engine and
store, so what it publishes (sources, reasons, /metrics) is what a real facility's is."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from collectors.base import Collector
from collectors.demo import CYCLE, INTERVAL, DemoMaintenance, demo_collectors
from collectors.demo_slurm import CLUSTERS, DemoSlurm, SimulatedCluster
from collectors.demo_timeline import Timeline
from collectors.metrics import CycleMetrics
from collectors.slurm.render import COMMANDS, JOB_FIELDS, Kind
from facility.config import load_facility
from facility.metrics import StatusCollector
from facility.model import Observation, State
from facility.service import StatusService
from facility.settings import demo_facility_file
from facility.store import Store
from tests.collectors.slurm.conftest import SCENARIOS, recorded
from tests.conftest import Clock, assert_promtool_accepts

ANSWERING = [s for s in SCENARIOS if s != "controller-down"]
# resource -> the collector that publishes it in the demo (`demo`: no adapter for its kind)
PUBLISHED_BY = {
    "borealis-slurmctld": "slurm-borealis",
    "borealis-batch": "slurm-borealis",
    "borealis-interactive": "slurm-borealis",
    "borealis-debug": "slurm-borealis",
    "borealis": "slurm-borealis",
    "tern": "slurm-tern",
    "tern-batch": "slurm-tern",
    "home": "filesystem-home",
    "scratch": "lustre-scratch",
    "project": "filesystem-project",
    "dsn-rabbitmq": "rabbitmq-dsn-rabbitmq",
    "dsn-redis": "redis-dsn-redis",
    "link-lightsource": "link-link-lightsource",
    "link-tokamak": "link-link-tokamak",
    "dtn": "demo",
    "jupyterhub": "demo",
    "api-gateway": "demo",
}


class Sources:
    """Every demo collector, each run on its own interval like the runner does; the last
    cycle of each is exposed with the status families, as the demo's /metrics is."""

    def __init__(
        self, collectors: list[Collector], start: datetime, registry: CollectorRegistry
    ) -> None:
        self.collectors, self.start = collectors, start
        self.due = {c.name: start for c in collectors}
        self.cycles = CycleMetrics()
        self.registry = registry
        registry.register(self.cycles)

    def step(self, now: datetime) -> list[Observation]:
        out = []
        for c in self.collectors:
            if now >= self.due[c.name]:
                cycle = c.collect(now)
                self.cycles.record(c.name, c.kind, 0.01, True, now.timestamp(), cycle.metrics)
                self.due[c.name] = now + timedelta(seconds=c.interval)
                out += cycle.observations
        return out

    def exposition(self) -> str:
        return generate_latest(self.registry).decode()


Demo = tuple[StatusService, Sources]


@pytest.fixture
def demo(tmp_path: Path, clock: Clock) -> Iterator[Demo]:
    config = load_facility(demo_facility_file())
    store = Store.from_url(f"sqlite:///{tmp_path / 'demo.db'}")
    registry = CollectorRegistry()
    service = StatusService(
        config, store, DemoMaintenance(clock.now), clock=clock, registry=registry
    )
    registry.register(StatusCollector(service, clock))
    yield service, Sources(demo_collectors(config, clock.now, clock), clock.now, registry)
    store.close()


def run_for(service: StatusService, sources: Sources, clock: Clock, seconds: float) -> None:
    for _ in range(int(seconds / INTERVAL)):
        service.ingest(sources.step(clock.now), clock.now)
        clock.advance(INTERVAL)


def run_cycle(service: StatusService, sources: Sources, clock: Clock) -> dict[str, set[State]]:
    """Run one scenario cycle; return every state each resource went through."""
    seen: dict[str, set[State]] = {}
    for _ in range(int(CYCLE / INTERVAL) + 2):
        service.ingest(sources.step(clock.now), clock.now)
        for rid, status in service.snapshot().statuses.items():
            seen.setdefault(rid, set()).add(status.state)
        clock.advance(INTERVAL)
    return seen


def families(text: str) -> set[str]:
    return {f.name for f in text_string_to_metric_families(text)}


def test_within_one_cycle_the_scenario_drains_slows_loses_packets_and_maintains(
    demo: Demo, clock: Clock
) -> None:
    service, sources = demo
    seen = run_cycle(service, sources, clock)
    assert State.DEGRADED in seen["borealis-batch"]
    assert State.DEGRADED in seen["dsn-rabbitmq"]
    assert State.DEGRADED in seen["link-tokamak"]
    assert State.MAINTENANCE in seen["tern"]
    assert State.DEGRADED in seen["scratch"]
    assert seen["home"] == {State.UP}


def test_every_resource_with_an_adapter_is_published_by_its_real_collector(
    demo: Demo, clock: Clock
) -> None:
    service, sources = demo
    run_for(service, sources, clock, 2 * INTERVAL)
    statuses = service.snapshot().statuses
    assert {rid: s.source for rid, s in statuses.items()} == PUBLISHED_BY
    assert {s.state for s in statuses.values()} == {State.UP}


def test_the_drain_wave_explains_itself_in_nodes_and_reasons(demo: Demo, clock: Clock) -> None:
    service, sources = demo
    run_for(service, sources, clock, 170)
    batch = service.snapshot().statuses["borealis-batch"]
    assert batch.state == State.DEGRADED and batch.source == "slurm-borealis"
    assert batch.capacity is not None and batch.capacity < 0.9
    drained = next(r for r in batch.reasons if r.code == "nodes_drained")
    assert drained.message.startswith("60 of 368 nodes drained: 44 'bad DIMM'")
    assert "'NHC: gpu' (still draining)" in drained.message
    text = sources.exposition()
    assert (
        'facstat_slurm_partition_nodes{cluster="borealis",partition="batch",state="drained"} 46.0'
        in text
    )


def test_the_tokamak_link_loses_packets_and_says_how_many(demo: Demo, clock: Clock) -> None:
    service, sources = demo
    run_for(service, sources, clock, 240)
    link = service.snapshot().statuses["link-tokamak"]
    assert link.state == State.DEGRADED and link.source == "link-link-tokamak"
    assert [(r.code, r.message) for r in link.reasons] == [
        ("packet_loss", "packet loss 4.0% (2 of 50 probes; degraded at 1%)")
    ]
    assert 'facstat_link_loss_ratio{probe="icmp",resource="link-tokamak"} 0.04' in (
        sources.exposition()
    )
    assert service.snapshot().statuses["link-lightsource"].state == State.UP


def test_scratch_losing_osts_is_named_as_root_cause_by_its_dependents(
    demo: Demo, clock: Clock
) -> None:
    service, sources = demo
    run_for(service, sources, clock, 320)
    statuses = service.snapshot().statuses
    scratch = statuses["scratch"]
    assert scratch.state == State.DEGRADED and scratch.source == "lustre-scratch"
    assert scratch.capacity == pytest.approx(34 / 40)
    assert scratch.reasons[0].code == "osts_unavailable"
    assert scratch.reasons[0].message.startswith("6 of 40 OSTs inactive: orion-OST0003, ")
    dtn = statuses["dtn"]
    assert dtn.state == State.DEGRADED
    assert dtn.root_cause is not None and dtn.root_cause.resource_id == "scratch"


def test_the_testbed_under_maintenance_still_shows_what_its_probes_see(
    demo: Demo, clock: Clock
) -> None:
    service, sources = demo
    run_for(service, sources, clock, 260)
    tern = service.snapshot().statuses["tern"]
    assert tern.state == State.MAINTENANCE
    assert tern.underlying is not None and tern.underlying.state == State.UP


def test_the_facility_returns_to_up_after_a_cycle(demo: Demo, clock: Clock) -> None:
    service, sources = demo
    run_cycle(service, sources, clock)
    clock.advance(CYCLE - (clock.now - sources.start).total_seconds() % CYCLE + 10)
    run_for(service, sources, clock, 3 * INTERVAL)
    assert {s.state for s in service.snapshot().statuses.values()} == {State.UP}


def test_the_slow_broker_is_published_by_the_real_rabbitmq_collector(
    demo: Demo, clock: Clock
) -> None:
    service, sources = demo
    clock.advance(150)
    run_for(service, sources, clock, 3 * INTERVAL)
    broker = service.snapshot().statuses["dsn-rabbitmq"]
    assert broker.state == State.DEGRADED and broker.source == "rabbitmq-dsn-rabbitmq"
    assert {r.code for r in broker.reasons} >= {"broker_slow", "backlog_high"}
    assert "facstat_rabbitmq_round_trip_seconds" in families(sources.exposition())


def test_the_metrics_are_the_real_collectors_families_and_promtool_accepts_each_scrape(
    demo: Demo, clock: Clock
) -> None:
    """A scrape in each act of the scenario: calm, drain wave, packet loss with the slow
    broker and the testbed in maintenance, OSTs inactive."""
    service, sources = demo
    names: set[str] = set()
    for until in (5, 150, 250, 320):
        run_for(service, sources, clock, until - (clock.now - sources.start).total_seconds())
        text = sources.exposition()
        assert_promtool_accepts(text)
        names |= families(text)
    for source in ("slurm", "lustre", "link", "filesystem", "rabbitmq", "redis", "collector"):
        assert any(n.startswith(f"facstat_{source}_") for n in names), source
    assert {
        "facstat_slurm_partition_nodes",
        "facstat_slurm_jobs",
        "facstat_slurm_rpcs",  # a counter: the parser drops `_total`
        "facstat_lustre_target_active",
        "facstat_link_rtt_seconds",
        "facstat_filesystem_probe_latency_seconds",
    } <= names


def test_the_simulated_slurm_prints_what_slurm_22_05_prints() -> None:
    """Same JSON keys, squeue fields, `Key=` fields, sdiag labels and sacctmgr header as the
    recordings of tests/data/slurm/22.05 (the parsers read both the same way)."""
    start = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    slurm = DemoSlurm(
        SimulatedCluster("borealis", CLUSTERS["borealis"], Timeline(start, lambda: start))
    )
    out = {name: slurm(list(words), 10.0).stdout for name, words in COMMANDS.items()}
    real = json.loads(recorded("jobs", "sinfo.json"))
    mine = json.loads(out["nodes"])
    assert mine.keys() == real.keys() and mine["meta"] == real["meta"]
    assert list(mine["nodes"][0]) == list(real["nodes"][0])
    real_rows = [line for s in ANSWERING for line in recorded(s, "squeue").splitlines()]
    assert {_shape(line) for line in out["jobs"].splitlines()} <= {_shape(r) for r in real_rows}
    kinds: tuple[tuple[str, Kind], ...] = (
        ("scontrol-partition", "partitions"),
        ("scontrol-reservation", "reservations"),
    )
    for name, kind in kinds:
        assert _keys(out[kind]) == _keys(recorded("jobs", name))
    # every figure sdiag printed in a recording (some only once the scheduler has run a while)
    assert set().union(*(_labels(recorded(s, "sdiag")) for s in ANSWERING)) <= _labels(out["diag"])
    assert out["qos"].splitlines()[0] == recorded("jobs", "sacctmgr-qos").splitlines()[0]


def _shape(row: str) -> tuple[str, ...]:
    """An squeue row's shape: digits stand for numbers, letters for words."""
    fields = row.split("|", len(JOB_FIELDS) - 1)
    return tuple("0" if f.isdigit() else "N/A" if f == "N/A" else "a" for f in fields)


def _keys(text: str) -> list[str]:
    return [word.split("=")[0] for word in text.splitlines()[0].split() if "=" in word]


def _labels(sdiag: str) -> set[str]:
    """`Jobs submitted`, `Last cycle`…: the labels of sdiag's figures."""
    labels = {line.split(":")[0].strip() for line in sdiag.splitlines() if ":" in line}
    return {label for label in labels if not any(ch.isdigit() for ch in label)}
