"""The demo facility's simulated sources: a scenario that moves, on a loop.

`facstat demo` runs this instead of real sources, so a new user sees a living
facility within seconds. Every resource whose kind has an adapter is published by
that real collector (`slurm-borealis`, `lustre-scratch`, `link-link-tokamak`…), with
only its source simulated, so observations, `/metrics` and dashboards are a real
facility's; the rest (`http`) comes from the scenario collector below. The scenario
repeats every `CYCLE` seconds from the moment the demo starts:

- 0:30–3:00   a drain wave on the batch partition (up to 60 of 368 nodes, 'bad DIMM'
              and 'NHC: gpu'): the simulated Slurm of `collectors.demo_slurm`
- 2:00–4:00   the RabbitMQ streaming broker slows down (round trip 850 ms)
- 3:20–5:00   packet loss on the tokamak link (4 %): `collectors.demo_sources`
- 4:00–5:30   the testbed is in planned maintenance (still probed underneath)
- 5:00–5:45   6 of 40 Lustre OSTs inactive: scratch degraded, dependents name it as
              root cause (`collectors.demo_sources`)

Everything else reports `up` with plausible measured values. The windows are in
`collectors.demo_timeline`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from collectors import demo_slurm, demo_sources, rabbitmq_dsn, redis_dsn
from collectors.base import Collector, Cycle
from collectors.demo_timeline import BROKER_SLOW, CYCLE, INTERVAL, Timeline, wobble
from collectors.demo_timeline import between as _between
from collectors.demo_timeline import phase as _phase
from collectors.rabbitmq_dsn import RabbitMQCollector
from collectors.redis_dsn import RedisCollector
from facility.config import FacilityConfig, Resource
from facility.engine import Window
from facility.model import Observation, ProbeState

__all__ = ["CYCLE", "INTERVAL", "DemoCollector", "DemoMaintenance", "demo_collectors"]


class DemoCollector:
    """Observes the resources whose kind has no adapter (`http`): always `up`, with a
    response time that moves a little."""

    name = "demo"
    kind = "demo"
    interval = INTERVAL
    timeout = 5.0

    def __init__(self, config: FacilityConfig, start: datetime) -> None:
        self.start = start
        self.resource_ids: Sequence[str] = [
            r.id
            for r in config.resources
            if not (r.collector and r.collector.kind in DEMO_ADAPTERS)
        ]

    def collect(self, now: datetime) -> Cycle:
        out = []
        for rid in self.resource_ids:
            seconds = 0.04 + 0.03 * wobble(rid, now.timestamp(), INTERVAL)
            values = {"response_seconds": round(seconds, 4)}
            out.append(Observation(rid, now, "demo", ProbeState.UP, 1.0, values))
        return Cycle(out)


class DemoRabbitMQ(RabbitMQCollector):
    """The RabbitMQ broker of the scenario, published by the real RabbitMQ collector:
    only the probe is simulated (a round trip of 4 ms, 850 ms from 2:00 to 4:00)."""

    def __init__(self, resource: Resource, start: datetime, clock: Callable[[], datetime]) -> None:
        super().__init__(resource.id, rabbitmq_dsn.options(resource))
        self.interval, self.start, self.clock = INTERVAL, start, clock

    def probe(self) -> rabbitmq_dsn.Reading:
        slow = _between(_phase(self.start, self.clock()), *BROKER_SLOW)
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


Adapter = Callable[[Resource, Timeline], Collector]

# kind -> the real collector of one resource, with its source simulated (Slurm groups
# its resources by cluster: see `demo_collectors`)
ADAPTERS: dict[str, Adapter] = {
    "rabbitmq": lambda r, tl: DemoRabbitMQ(r, tl.start, tl.clock),
    "redis": lambda r, tl: DemoRedis(r, tl.clock),
    "lustre": demo_sources.lustre_collector,
    "filesystem": demo_sources.filesystem_collector,
    "link": demo_sources.link_collector,
}
DEMO_ADAPTERS = {*ADAPTERS, "slurm"}


def demo_collectors(
    config: FacilityConfig, start: datetime, clock: Callable[[], datetime]
) -> list[Collector]:
    """The demo's sources: the real collectors with simulated sources for every kind
    that has an adapter, and the scenario collector for the other resources."""
    timeline = Timeline(start, clock)
    out: list[Collector] = []
    slurm: list[Resource] = []
    for r in config.resources:
        kind = r.collector.kind if r.collector else None
        if kind == "slurm":
            slurm.append(r)
        elif kind in ADAPTERS:
            out.append(ADAPTERS[kind](r, timeline))
    if slurm:
        out += demo_slurm.collectors(config, slurm, timeline)
    scenario = DemoCollector(config, start)
    return [*out, scenario] if scenario.resource_ids else out


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

    def occurrences(self, now: datetime, cycles: int) -> list[tuple[datetime, datetime]]:
        """The window's next `cycles` occurrences (the current one included), for the
        demo to store as real maintenance windows."""
        first = now - timedelta(seconds=_phase(self.start, now))
        edges = [first + timedelta(seconds=CYCLE * i) for i in range(cycles + 1)]
        spans = [
            (e + timedelta(seconds=self.START), e + timedelta(seconds=self.END)) for e in edges
        ]
        return [(s, e) for s, e in spans if e > now][:cycles]

    def next_change(self, now: datetime) -> datetime | None:
        t = _phase(self.start, now)
        for edge in (self.START, self.END, CYCLE + self.START):
            if t < edge:
                return now + timedelta(seconds=edge - t)
        return None
