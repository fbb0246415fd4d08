"""The demo facility's simulated sources: a scenario that moves, on a loop.

`facstat demo` runs this instead of real adapters, so a new user sees a living
facility within seconds. The scenario repeats every `CYCLE` seconds from the
moment the demo starts:

- 0:30–3:00   a drain wave on the batch partition (up to 60 of 368 nodes, reasons given)
- 2:00–4:00   the RabbitMQ streaming broker slows down (round trip 850 ms)
- 3:20–5:00   packet loss on the tokamak link (4 %)
- 4:00–5:30   the testbed is in planned maintenance (still probed underneath)
- 5:00–5:45   6 of 40 Lustre OSTs inactive: scratch degraded, dependents name it as root cause

Everything else reports `up` with plausible measured values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from collectors import rabbitmq_dsn, redis_dsn
from collectors.base import Collector, Cycle
from collectors.rabbitmq_dsn import RabbitMQCollector
from collectors.redis_dsn import RedisCollector
from facility.config import FacilityConfig, Resource
from facility.engine import Window
from facility.model import Observation, ProbeState, Reason

CYCLE = 360.0
INTERVAL = 5.0
BATCH_NODES = 368
OSTS = 40


def _phase(start: datetime, now: datetime) -> float:
    return (now - start).total_seconds() % CYCLE


def _between(t: float, lo: float, hi: float) -> bool:
    return lo <= t < hi


@dataclass(frozen=True, slots=True)
class Reading:
    state: ProbeState
    capacity: float | None
    values: dict[str, float]
    reasons: tuple[Reason, ...] = ()


def _up(capacity: float | None = 1.0, **values: float) -> Reading:
    return Reading(ProbeState.UP, capacity, dict(values))


def batch_partition(t: float) -> Reading:
    if not _between(t, 30, 180):
        return _up(1.0, nodes_total=BATCH_NODES, nodes_drained=0)
    ramp = min(1.0, (t - 30) / 90)
    dimm, gpu = round(44 * ramp), round(16 * ramp)
    drained = dimm + gpu
    msg = f"{drained} of {BATCH_NODES} nodes drained: {dimm} 'bad DIMM', {gpu} 'NHC: gpu'"
    cap = (BATCH_NODES - drained) / BATCH_NODES
    return Reading(
        ProbeState.UP,
        cap,
        {"nodes_total": BATCH_NODES, "nodes_drained": drained},
        (Reason("nodes_drained", msg),) if drained else (),
    )


def tokamak_link(t: float) -> Reading:
    if not _between(t, 200, 300):
        return _up(1.0, packet_loss_ratio=0.0, rtt_seconds=0.021)
    reason = Reason("packet_loss", "4.0% packet loss over 50 probes (degraded above 1%)")
    return Reading(
        ProbeState.DEGRADED, None, {"packet_loss_ratio": 0.04, "rtt_seconds": 0.034}, (reason,)
    )


def scratch(t: float) -> Reading:
    if not _between(t, 300, 345):
        return _up(1.0, ost_total=OSTS, ost_inactive=0)
    inactive = 6
    reason = Reason("osts_inactive", f"{inactive} of {OSTS} OSTs inactive")
    cap = (OSTS - inactive) / OSTS
    return Reading(ProbeState.UP, cap, {"ost_total": OSTS, "ost_inactive": inactive}, (reason,))


SCENARIO: dict[str, Callable[[float], Reading]] = {
    "borealis-batch": batch_partition,
    "link-tokamak": tokamak_link,
    "scratch": scratch,
}


class DemoCollector:
    """Observes every resource of the facility from the scenario above."""

    name = "demo"
    kind = "demo"
    interval = INTERVAL
    timeout = 5.0

    def __init__(self, config: FacilityConfig, start: datetime) -> None:
        self.start = start
        self.resource_ids = [
            r.id
            for r in config.resources
            if not (r.collector and r.collector.kind in DEMO_ADAPTERS)
        ]

    def collect(self, now: datetime) -> Cycle:
        t = _phase(self.start, now)
        out = []
        for rid in self.resource_ids:
            reading = SCENARIO.get(rid, lambda _t: _up())(t)
            out.append(
                Observation(
                    rid,
                    now,
                    "demo",
                    reading.state,
                    reading.capacity,
                    reading.values,
                    reading.reasons,
                )
            )
        return Cycle(out)


class DemoRabbitMQ(RabbitMQCollector):
    """The RabbitMQ broker of the scenario, published by the real RabbitMQ collector:
    only the probe is simulated (a round trip of 4 ms, 850 ms from 2:00 to 4:00)."""

    def __init__(self, resource: Resource, start: datetime, clock: Callable[[], datetime]) -> None:
        super().__init__(resource.id, rabbitmq_dsn.options(resource))
        self.interval, self.start, self.clock = INTERVAL, start, clock

    def probe(self) -> rabbitmq_dsn.Reading:
        slow = _between(_phase(self.start, self.clock()), 120, 240)
        queues = [rabbitmq_dsn.QueueReading(q, 5400 if slow else 12, 4) for q in self.opts.queues]
        return rabbitmq_dsn.Reading(
            connect_seconds=0.002, round_trip_seconds=0.85 if slow else 0.004, queues=queues
        )


class DemoRedis(RedisCollector):
    """The Redis broker of the scenario, published by the real Redis collector."""

    def __init__(self, resource: Resource, clock: Callable[[], datetime]) -> None:
        super().__init__(resource.id, redis_dsn.options(resource))
        self.interval = INTERVAL

    def probe(self) -> redis_dsn.Reading:
        info = redis_dsn.ServerInfo(
            connected_clients=42,
            used_memory=3_200_000_000,
            maxmemory=16_000_000_000,
            role="master",
            connected_replicas=1,
            replication_lag=0,
            master_link_up=None,
            evicted_keys=0,
            rejected_connections=0,
        )
        streams = [redis_dsn.StreamReading(name, 1200, 3, "analysis") for name in self.opts.streams]
        return redis_dsn.Reading(ping_seconds=0.0004, info=info, streams=streams)


DEMO_ADAPTERS = {"rabbitmq", "redis"}


def demo_collectors(
    config: FacilityConfig, start: datetime, clock: Callable[[], datetime]
) -> list[Collector]:
    """The demo's sources: real collectors with simulated probes where they exist, and
    the scenario collector for every other resource."""
    out: list[Collector] = []
    for r in config.resources:
        kind = r.collector.kind if r.collector else None
        if kind == "rabbitmq":
            out.append(DemoRabbitMQ(r, start, clock))
        elif kind == "redis":
            out.append(DemoRedis(r, clock))
    out.append(DemoCollector(config, start))
    return out


class DemoMaintenance:
    """The scenario's testbed maintenance window, as a maintenance overlay."""

    RESOURCES = frozenset({"tern", "tern-batch"})
    START, END = 240.0, 330.0

    def __init__(self, start: datetime) -> None:
        self.start = start

    def active_window(self, resource_id: str, now: datetime) -> Window | None:
        if resource_id in self.RESOURCES and _between(
            _phase(self.start, now), self.START, self.END
        ):
            return Window("demo-tern-maintenance", "testbed software stack upgrade")
        return None

    def next_change(self, now: datetime) -> datetime | None:
        t = _phase(self.start, now)
        for edge in (self.START, self.END, CYCLE + self.START):
            if t < edge:
                return now + timedelta(seconds=edge - t)
        return None
