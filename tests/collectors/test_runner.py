"""The collector runner: failures and timeouts become observations, never silence or `up`."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from collectors import tracing
from collectors.base import Cycle, MetricSpec
from collectors.metrics import CycleMetrics
from collectors.runner import CollectorRunner, run_once
from facility.model import Observation, ProbeState
from tests.conftest import T0, Clock, assert_promtool_accepts


class Broken:
    name, kind, interval, timeout, resource_ids = "broken", "test", 0.05, 1.0, ("scratch", "home")

    def collect(self, now: datetime) -> Cycle:
        raise ConnectionRefusedError("[Errno 111] Connection refused")


class Hung:
    name, kind, interval, timeout, resource_ids = "hung", "test", 0.05, 0.2, ("broker",)

    def __init__(self) -> None:
        self.release = threading.Event()

    def collect(self, now: datetime) -> Cycle:
        self.release.wait(5)
        return Cycle([])


class Healthy:
    name, kind, interval, timeout, resource_ids = "healthy", "test", 0.05, 1.0, ("batch",)
    SPEC = MetricSpec("facstat_test_widgets", "gauge", "Widgets seen.", ("site",))

    def collect(self, now: datetime) -> Cycle:
        fam = self.SPEC.family()
        fam.add_metric(["a"], 3.0)
        return Cycle([Observation("batch", now, "healthy", ProbeState.UP, 1.0)], [fam])


def test_a_collector_that_raises_reports_unknown_with_its_error_for_every_resource() -> None:
    with ThreadPoolExecutor(2) as pool:
        out = run_once(Broken(), T0, pool)
    assert [(o.resource_id, o.state) for o in out] == [
        ("scratch", ProbeState.UNKNOWN),
        ("home", ProbeState.UNKNOWN),
    ]
    assert out[0].reasons[0].code == "collector_error"
    assert "Connection refused" in out[0].reasons[0].message


def test_a_collector_that_hangs_reports_a_timeout_instead_of_blocking() -> None:
    hung = Hung()
    with ThreadPoolExecutor(2) as pool:
        started = time.monotonic()
        out = run_once(hung, T0, pool)
        elapsed = time.monotonic() - started
        hung.release.set()
    assert out[0].state == ProbeState.UNKNOWN and out[0].reasons[0].code == "collector_timeout"
    assert elapsed < 2


def test_one_hung_collector_does_not_stall_the_others() -> None:
    hung = Hung()
    received: list[Observation] = []
    lock = threading.Lock()

    def sink(batch: list[Observation], now: datetime) -> None:
        with lock:
            received.extend(batch)

    runner = CollectorRunner([hung, Healthy(), Broken()], sink, Clock())
    runner.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with lock:
            sources = {o.source for o in received}
            if {"healthy", "broken", "hung"} <= sources and sum(
                o.source == "healthy" for o in received
            ) >= 3:
                break
        time.sleep(0.05)
    hung.release.set()
    runner.stop()
    assert sum(o.source == "healthy" for o in received) >= 3
    assert any(o.reasons and o.reasons[0].code == "collector_timeout" for o in received)
    assert not any(o.state == ProbeState.UP for o in received if o.source != "healthy")


def test_each_cycle_exports_the_sources_metrics_and_self_metrics_that_promtool_accepts() -> None:
    metrics = CycleMetrics()
    with ThreadPoolExecutor(2) as pool:
        run_once(Healthy(), T0, pool, metrics)
        run_once(Broken(), T0, pool, metrics)
    registry = CollectorRegistry()
    registry.register(metrics)
    text = generate_latest(registry).decode()
    assert 'facstat_test_widgets{site="a"} 3.0' in text
    assert 'facstat_collector_errors_total{collector="broken",kind="test"} 1.0' in text
    assert 'facstat_collector_errors_total{collector="healthy",kind="test"} 0.0' in text
    samples = {
        (s.name, s.labels.get("collector")): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }
    assert (
        samples[("facstat_collector_last_success_timestamp_seconds", "healthy")] == T0.timestamp()
    )
    assert ("facstat_collector_last_success_timestamp_seconds", "broken") not in samples
    assert_promtool_accepts(text)


class Traced:
    name, kind, interval, timeout, resource_ids = "traced", "test", 1.0, 2.0, ("home",)

    def collect(self, now: datetime) -> Cycle:
        with tracing.call("first-call", argv="probe --a"), tracing.call("nested"):
            pass
        with tracing.call("second-call"):
            return Cycle([Observation("home", now, "traced", ProbeState.UP, 1.0)])


def test_a_collection_cycle_is_one_span_with_the_sources_calls_as_children() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with ThreadPoolExecutor(2) as pool:
        run_once(Traced(), T0, pool, tracer=provider.get_tracer("t"))
    spans = {s.name: s for s in exporter.get_finished_spans()}
    cycle = spans["collect traced"]
    assert spans["first-call"].parent.span_id == cycle.context.span_id
    assert spans["second-call"].parent.span_id == cycle.context.span_id
    assert spans["nested"].parent.span_id == spans["first-call"].context.span_id
    assert cycle.attributes["facstat.observations"] == 1
