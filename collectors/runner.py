"""Runs collectors on their schedules, in-process, and delivers their observations.

Each collector has its own loop thread and each cycle runs in a worker with a
timeout, so a slow or failing collector never stalls the others. A failure or
timeout becomes an `unknown` observation with reason `collector_error` or
`collector_timeout` for every resource it watches: never silence, never `up`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime

from opentelemetry import context as otel_context
from opentelemetry import trace
from prometheus_client import CollectorRegistry

from collectors import tracing
from collectors.base import Collector, Cycle, MetricSpec
from collectors.metrics import CycleMetrics
from facility.config import FacilityConfig
from facility.model import Observation, ProbeState, Reason, ReservationFact

log = logging.getLogger("facstat.collectors")
DELIVERY_ERRORS = MetricSpec(
    "facstat_collector_delivery_errors_total",
    "counter",
    "Observation batches the in-process runner could not deliver.",
    ("collector",),
)
Sink = Callable[[list[Observation], datetime], object]
ReservationSink = Callable[[str, list[ReservationFact]], object]


def failure_observations(c: Collector, now: datetime, code: str, message: str) -> list[Observation]:
    reason = Reason(code, f"collector {c.name}: {message}"[:500])
    return [
        Observation(rid, now, c.name, ProbeState.UNKNOWN, reasons=(reason,))
        for rid in c.resource_ids
    ]


def run_once(
    c: Collector,
    now: datetime,
    pool: ThreadPoolExecutor,
    metrics: CycleMetrics | None = None,
    tracer: trace.Tracer | None = None,
) -> list[Observation]:
    """One cycle of one collector, as one span; never raises. Its metrics go to `metrics`."""
    return run_cycle(c, now, pool, metrics, tracer).observations


def run_cycle(
    c: Collector,
    now: datetime,
    pool: ThreadPoolExecutor,
    metrics: CycleMetrics | None = None,
    tracer: trace.Tracer | None = None,
) -> Cycle:
    """`run_once`, keeping everything the cycle produced (e.g. reservations)."""
    tracer = tracer or trace.get_tracer("facstat.collectors")
    attrs = {"facstat.collector": c.name, "facstat.kind": c.kind}
    with tracer.start_as_current_span(f"collect {c.name}", attributes=attrs) as span:
        cycle = _cycle(c, now, pool, metrics, tracer)
        span.set_attribute("facstat.observations", len(cycle.observations))
        return cycle


def _in_context(
    ctx: otel_context.Context, tracer: trace.Tracer, c: Collector, now: datetime
) -> Cycle:
    """Run `collect` in a worker thread under the cycle's span, so its calls are children."""
    tracing.use(tracer)
    token = otel_context.attach(ctx)
    try:
        return c.collect(now)
    finally:
        otel_context.detach(token)


def _cycle(
    c: Collector,
    now: datetime,
    pool: ThreadPoolExecutor,
    metrics: CycleMetrics | None,
    tracer: trace.Tracer,
) -> Cycle:
    started = time.perf_counter()
    future = pool.submit(_in_context, otel_context.get_current(), tracer, c, now)
    try:
        cycle = future.result(timeout=c.timeout)
    except FutureTimeout:
        cycle = Cycle(
            failure_observations(c, now, "collector_timeout", f"no answer within {c.timeout:g}s")
        )
        ok = False
    except Exception as exc:  # probes never raise: the failure is the observation
        cycle = Cycle(
            failure_observations(c, now, "collector_error", f"{type(exc).__name__}: {exc}")
        )
        ok = False
    else:
        ok = True
    if metrics is not None:
        metrics.record(
            c.name, c.kind, time.perf_counter() - started, ok, now.timestamp(), cycle.metrics
        )
    return cycle


class CollectorRunner:
    def __init__(
        self,
        collectors: Sequence[Collector],
        sink: Sink,
        clock: Callable[[], datetime],
        registry: CollectorRegistry | None = None,
        metrics: CycleMetrics | None = None,
        tracer_provider: trace.TracerProvider | None = None,
        on_reservations: ReservationSink | None = None,
    ) -> None:
        self.on_reservations = on_reservations
        self.tracer = trace.get_tracer("facstat.collectors", tracer_provider=tracer_provider)
        self.collectors = list(collectors)
        self.sink = sink
        self.clock = clock
        self.metrics = metrics or CycleMetrics()
        if registry is not None and metrics is None:
            registry.register(self.metrics)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool = ThreadPoolExecutor(
            max_workers=max(2, len(self.collectors)), thread_name_prefix="collect"
        )
        self.failures = DELIVERY_ERRORS.instrument(registry or CollectorRegistry())

    def start(self) -> None:
        for c in self.collectors:
            t = threading.Thread(
                target=self._loop, args=(c,), name=f"collector-{c.name}", daemon=True
            )
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _loop(self, c: Collector) -> None:
        while not self._stop.is_set():
            now = self.clock()
            cycle = run_cycle(c, now, self._pool, self.metrics, self.tracer)
            try:
                if cycle.observations:
                    self.sink(cycle.observations, self.clock())
                if cycle.reservations is not None and self.on_reservations is not None:
                    self.on_reservations(c.name, cycle.reservations)
            except Exception:
                self.failures.labels(c.name).inc()
                log.exception("delivering observations of %s failed", c.name)
            self._stop.wait(c.interval)


def collectors_for(
    config: FacilityConfig, demo: bool, clock: Callable[[], datetime]
) -> list[Collector]:
    """The collectors for a facility: the simulated demo sources, or the real adapters."""
    if demo:
        from collectors.demo import demo_collectors

        return demo_collectors(config, clock(), clock)
    from collectors.registry import build_all

    return build_all(config)
