"""Redis data streaming nodes: PING latency, memory, replication, stream backlogs.

One collector per resource (`collector: {kind: redis, options: {...}}`). Each
cycle connects, times a PING on the open connection, then sends `INFO` and, per
configured stream, `XLEN` and `XINFO GROUPS` in one pipeline. The backlog of a
consumer group is its `lag` (Redis 7) or, where Redis cannot tell the lag,
its pending entries; a stream's backlog is that of its worst watched group (the
configured `groups`, or every group). Reasons: down with `broker_unreachable`
(no PING answer) or `broker_error`; degraded with `broker_slow`, `memory_high`
(used/maxmemory, only when maxmemory is set) or `stream_lag` (above the threshold,
or rising for `lag_growth_cycles`); else up. Every call is bounded by a quarter of
`timeout`, so the collector builds its own observation before the runner's guard
fires. The module is not named `redis` so that `import redis` finds the client
library. Exposition::

    # HELP facstat_redis_ping_seconds Time of one PING on an open connection.
    # TYPE facstat_redis_ping_seconds gauge
    facstat_redis_ping_seconds{resource="dsn-redis"} 0.00012
    # HELP facstat_redis_stream_lag Entries the worst watched consumer group has not read yet.
    # TYPE facstat_redis_stream_lag gauge
    facstat_redis_stream_lag{resource="dsn-redis",stream="frames"} 250.0
    # HELP facstat_redis_evicted_keys_total Keys evicted because of maxmemory.
    # TYPE facstat_redis_evicted_keys_total counter
    facstat_redis_evicted_keys_total{resource="dsn-redis"} 0.0
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis
from prometheus_client.core import Metric
from pydantic import BaseModel, ConfigDict, Field, field_validator
from redis.backoff import NoBackoff
from redis.connection import parse_url
from redis.retry import Retry

from collectors.base import Collector, Cycle, MetricSpec
from collectors.common import parse_options
from collectors.trends import History, growing
from facility.config import FacilityConfig, Resource
from facility.model import Observation, ProbeState, Reason

KIND = "redis"
R = ("resource",)
# Reason codes this module emits (see `collectors.reason_codes`).
REASON_CODES: dict[str, str] = {
    "broker_unreachable": "no answer to PING (connection refused, timed out, name or login failure)",
    "broker_error": "PING answered, but INFO, XLEN or XINFO GROUPS failed (or the probe itself failed)",
    "broker_slow": "PING took longer than ping_degraded_seconds",
    "memory_high": "used memory is above memory_degraded_ratio of maxmemory",
    "stream_lag": "a consumer group is more than stream_lag_degraded entries behind, or fell further behind for lag_growth_cycles cycles",
}
UP = MetricSpec("facstat_redis_up", "gauge", "1 if the server answered PING.", R)
PING = MetricSpec(
    "facstat_redis_ping_seconds", "gauge", "Time of one PING on an open connection.", R
)
CLIENTS = MetricSpec("facstat_redis_connected_clients", "gauge", "Client connections open.", R)
MEMORY_USED = MetricSpec(
    "facstat_redis_memory_used_bytes", "gauge", "Memory allocated by Redis.", R
)
MEMORY_MAX = MetricSpec(
    "facstat_redis_memory_max_bytes", "gauge", "maxmemory; 0 means no limit.", R
)
MEMORY_RATIO = MetricSpec(
    "facstat_redis_memory_used_ratio", "gauge", "Used memory over maxmemory, when set.", R
)
ROLE = MetricSpec(
    "facstat_redis_role_info", "gauge", "Replication role (master or slave).", (*R, "role")
)
REPLICAS = MetricSpec("facstat_redis_connected_replicas", "gauge", "Replicas connected.", R)
MASTER_LINK = MetricSpec(
    "facstat_redis_master_link_up", "gauge", "On a replica: 1 while its master link is up.", R
)
REPL_LAG = MetricSpec(
    "facstat_redis_replication_lag_bytes",
    "gauge",
    "Replication offset the furthest replica is behind the master.",
    R,
)
EVICTED = MetricSpec(
    "facstat_redis_evicted_keys_total", "counter", "Keys evicted because of maxmemory.", R
)
REJECTED = MetricSpec(
    "facstat_redis_rejected_connections_total",
    "counter",
    "Connections refused because of maxclients.",
    R,
)
STREAM_LENGTH = MetricSpec(
    "facstat_redis_stream_length", "gauge", "Entries in a configured stream.", (*R, "stream")
)
STREAM_LAG = MetricSpec(
    "facstat_redis_stream_lag",
    "gauge",
    "Entries the worst watched consumer group has not read yet.",
    (*R, "stream"),
)
SPECS: tuple[MetricSpec, ...] = (
    UP,
    PING,
    CLIENTS,
    MEMORY_USED,
    MEMORY_MAX,
    MEMORY_RATIO,
    ROLE,
    REPLICAS,
    MASTER_LINK,
)
SPECS += (REPL_LAG, EVICTED, REJECTED, STREAM_LENGTH, STREAM_LAG)


class RedisOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(description="Redis URL, e.g. redis://:password@host:6379/0")
    streams: list[str] = Field(default_factory=list, description="streams whose backlog is watched")
    groups: list[str] | None = Field(
        None, description="consumer groups watched on every stream; none means all"
    )
    ping_degraded_seconds: float = Field(0.05, gt=0, description="slower PING is degraded")
    memory_degraded_ratio: float = Field(
        0.9, gt=0, le=1, description="used/maxmemory above this is degraded"
    )
    stream_lag_degraded: int = Field(1000, ge=0, description="a larger group lag is degraded")
    lag_growth_cycles: int = Field(4, ge=2, description="cycles of rising lag that degrade")
    interval: float = Field(15.0, gt=0, description="seconds between cycles")
    timeout: float = Field(5.0, gt=0, description="seconds for a whole cycle; a quarter per call")

    @field_validator("url")
    @classmethod
    def _redis_url(cls, url: str) -> str:
        parse_url(url)  # raises ValueError naming the schemes it accepts
        return url


@dataclass(frozen=True, slots=True)
class StreamReading:
    name: str
    length: int
    lag: int | None = None  # None: no watched group
    group: str | None = None  # the group with that lag


@dataclass(frozen=True, slots=True)
class ServerInfo:
    connected_clients: int
    used_memory: int
    maxmemory: int
    role: str
    connected_replicas: int
    replication_lag: int | None  # master with replicas only
    master_link_up: bool | None  # replica only
    evicted_keys: int
    rejected_connections: int

    @property
    def memory_ratio(self) -> float | None:
        return self.used_memory / self.maxmemory if self.maxmemory > 0 else None


@dataclass(slots=True)
class Reading:
    """What one cycle measured; `error` is set when the server could not be probed."""

    error: Reason | None = None
    ping_seconds: float | None = None
    info: ServerInfo | None = None
    streams: list[StreamReading] = field(default_factory=list)


# --- parsing (pure) ---------------------------------------------------------------


def parse_info(text: str) -> dict[str, str]:
    """`INFO` text as a flat mapping; section headers and blank lines are skipped."""
    pairs = (line.partition(":") for line in text.splitlines() if line and line[0] != "#")
    return {key: value for key, _, value in pairs}


def parse_fields(value: str) -> dict[str, str]:
    """`ip=127.0.0.1,port=6380,state=online,offset=3178,lag=0` as a mapping."""
    return dict(part.partition("=")[::2] for part in value.split(","))


def replication_lag(info: dict[str, str]) -> int | None:
    """Bytes the furthest replica is behind the master's offset (None without replicas)."""
    offsets = [
        int(parse_fields(v)["offset"])
        for k, v in info.items()
        if k.startswith("slave") and k[5:].isdigit()
    ]
    return max(int(info["master_repl_offset"]) - o for o in offsets) if offsets else None


def server_info(info: dict[str, str]) -> ServerInfo:
    return ServerInfo(
        connected_clients=int(info["connected_clients"]),
        used_memory=int(info["used_memory"]),
        maxmemory=int(info.get("maxmemory", 0)),
        role=info["role"],
        connected_replicas=int(info.get("connected_slaves", 0)),
        replication_lag=replication_lag(info) if info["role"] == "master" else None,
        master_link_up=info["master_link_status"] == "up" if "master_link_status" in info else None,
        evicted_keys=int(info.get("evicted_keys", 0)),
        rejected_connections=int(info.get("rejected_connections", 0)),
    )


def group_backlog(group: dict[str, Any]) -> int:
    """Entries a group has not read (`lag`), or its pending entries where lag is unknown."""
    lag = group.get("lag")
    return int(lag if lag is not None else group.get("pending", 0))


def stream_reading(
    name: str, length: int, groups: list[dict[str, Any]], watched: list[str] | None
) -> StreamReading:
    """The stream's length and its worst watched group from `XINFO GROUPS`."""
    mine = [g for g in groups if watched is None or g["name"] in watched]
    if not mine:
        return StreamReading(name, length)
    worst = max(mine, key=group_backlog)
    return StreamReading(name, length, group_backlog(worst), worst["name"])


# --- assessment (pure) ------------------------------------------------------------


def stream_reasons(s: StreamReading, opts: RedisOptions, history: Sequence[int]) -> list[Reason]:
    if s.lag is None:
        return []
    out = []
    if s.lag > opts.stream_lag_degraded:
        msg = f"stream '{s.name}': group '{s.group}' is {s.lag} entries behind (degraded above {opts.stream_lag_degraded})"
        out.append(Reason("stream_lag", msg))
    if growing(history, opts.lag_growth_cycles):
        steps = " → ".join(map(str, history[-opts.lag_growth_cycles :]))
        msg = f"stream '{s.name}': group '{s.group}' fell further behind over the last {opts.lag_growth_cycles} cycles: {steps} entries"
        out.append(Reason("stream_lag", msg))
    return out


def memory_reasons(info: ServerInfo, opts: RedisOptions) -> list[Reason]:
    ratio = info.memory_ratio
    if ratio is None or ratio <= opts.memory_degraded_ratio:
        return []
    msg = f"used memory {info.used_memory} bytes is {ratio:.0%} of maxmemory {info.maxmemory} bytes (degraded above {opts.memory_degraded_ratio:.0%})"
    return [Reason("memory_high", msg)]


def assess(
    r: Reading, opts: RedisOptions, history: dict[str, Sequence[int]]
) -> tuple[ProbeState, tuple[Reason, ...]]:
    """The probe state and its reasons: down on error, degraded on any other reason."""
    reasons = [r.error] if r.error else []
    if r.ping_seconds is not None and r.ping_seconds > opts.ping_degraded_seconds:
        msg = f"PING took {r.ping_seconds * 1000:.1f} ms (degraded above {opts.ping_degraded_seconds * 1000:.0f} ms)"
        reasons.append(Reason("broker_slow", msg))
    if r.info is not None:
        reasons += memory_reasons(r.info, opts)
    for s in r.streams:
        reasons += stream_reasons(s, opts, history.get(s.name, ()))
    state = ProbeState.DOWN if r.error else ProbeState.DEGRADED if reasons else ProbeState.UP
    return state, tuple(reasons)


def info_values(info: ServerInfo) -> dict[str, float]:
    out: dict[str, float] = {
        "connected_clients": info.connected_clients,
        "memory_used_bytes": info.used_memory,
        "memory_max_bytes": info.maxmemory,
        "connected_replicas": info.connected_replicas,
    }
    if info.memory_ratio is not None:
        out["memory_used_ratio"] = info.memory_ratio
    if info.replication_lag is not None:
        out["replication_lag_bytes"] = info.replication_lag
    return out


def values(r: Reading) -> dict[str, float]:
    out = {"ping_seconds": r.ping_seconds} if r.ping_seconds is not None else {}
    out |= info_values(r.info) if r.info else {}
    for s in r.streams:
        out[f"stream_{s.name}_length"] = s.length
        if s.lag is not None:
            out[f"stream_{s.name}_lag"] = s.lag
    return out


def info_samples(info: ServerInfo) -> list[tuple[MetricSpec, float | None]]:
    return [
        (CLIENTS, info.connected_clients),
        (MEMORY_USED, info.used_memory),
        (MEMORY_MAX, info.maxmemory),
        (MEMORY_RATIO, info.memory_ratio),
        (REPLICAS, info.connected_replicas),
        (REPL_LAG, info.replication_lag),
        (MASTER_LINK, None if info.master_link_up is None else float(info.master_link_up)),
        (EVICTED, info.evicted_keys),
        (REJECTED, info.rejected_connections),
    ]


def families(resource_id: str, r: Reading) -> list[Metric]:
    fams = {s.name: s.family() for s in SPECS}
    fams[UP.name].add_metric([resource_id], 0.0 if r.ping_seconds is None else 1.0)
    samples = [(PING, r.ping_seconds), *(info_samples(r.info) if r.info else [])]
    for spec, value in samples:
        if value is not None:
            fams[spec.name].add_metric([resource_id], value)
    if r.info:
        fams[ROLE.name].add_metric([resource_id, r.info.role], 1.0)
    for s in r.streams:
        fams[STREAM_LENGTH.name].add_metric([resource_id, s.name], s.length)
        if s.lag is not None:
            fams[STREAM_LAG.name].add_metric([resource_id, s.name], s.lag)
    return [f for f in fams.values() if f.samples]


# --- running (I/O) ----------------------------------------------------------------


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:400]


def client(url: str, call_timeout: float) -> redis.Redis:
    """A client whose every call is bounded by `call_timeout`, never retried, and
    whose `INFO` answers the raw text (parsed here, by `parse_info`)."""
    c = redis.Redis.from_url(
        url,
        socket_timeout=call_timeout,
        socket_connect_timeout=call_timeout,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
    )
    c.set_response_callback("INFO", lambda response, **_: response)
    return c


def ping(c: redis.Redis) -> float:
    """Seconds of one PING on an already open connection."""
    c.ping()
    started = time.perf_counter()
    c.ping()
    return time.perf_counter() - started


def _ok(reply: Any) -> Any:
    """A pipeline reply, or the error the server answered instead, raised."""
    if isinstance(reply, Exception):
        raise reply
    return reply


def groups_or_none(reply: Any) -> list[dict[str, Any]]:
    """`XINFO GROUPS` of a stream that does not exist is an error: no groups."""
    if isinstance(reply, redis.ResponseError) and "no such key" in str(reply):
        return []
    return list(_ok(reply))


class RedisCollector:
    """Probes one Redis server for one resource; `collect` never raises."""

    kind = KIND

    def __init__(self, resource_id: str, opts: RedisOptions) -> None:
        self.name = f"{KIND}-{resource_id}"
        self.resource_ids: Sequence[str] = (resource_id,)
        self.opts = opts
        self.interval = opts.interval
        self.timeout = opts.timeout
        self.call_timeout = opts.timeout / 4
        self._history = History(opts.lag_growth_cycles)

    def collect(self, now: datetime) -> Cycle:
        try:
            reading = self.probe()
        except Exception as exc:  # probes never raise: the failure is the observation
            reading = Reading(error=Reason("broker_error", _error_text(exc)))
        state, reasons = assess(reading, self.opts, self._remember(reading))
        rid = self.resource_ids[0]
        obs = Observation(rid, now, self.name, state, None, values(reading), reasons)
        return Cycle([obs], families(rid, reading))

    def probe(self) -> Reading:
        c = client(self.opts.url, self.call_timeout)
        try:
            return self._probe(c)
        finally:
            c.close()

    def _probe(self, c: redis.Redis) -> Reading:
        try:
            reading = Reading(ping_seconds=ping(c))
        except Exception as exc:
            msg = f"no answer to PING from {self._where(c)}: {_error_text(exc)}"
            return Reading(Reason("broker_unreachable", msg))
        try:
            reading.info, reading.streams = self.details(c)
        except Exception as exc:
            reading.error = Reason("broker_error", f"after PING: {_error_text(exc)}")
        return reading

    def details(self, c: redis.Redis) -> tuple[ServerInfo, list[StreamReading]]:
        """`INFO`, then `XLEN` and `XINFO GROUPS` per stream, in one round trip."""
        pipe = c.pipeline(transaction=False)
        pipe.execute_command("INFO")
        for s in self.opts.streams:
            pipe.xlen(s)
            pipe.xinfo_groups(s)
        info, *replies = pipe.execute(raise_on_error=False)
        streams = [
            stream_reading(s, int(_ok(n)), groups_or_none(g), self.opts.groups)
            for s, n, g in zip(self.opts.streams, replies[::2], replies[1::2], strict=True)
        ]
        return server_info(parse_info(_ok(info))), streams

    @staticmethod
    def _where(c: redis.Redis) -> str:
        kw = c.connection_pool.connection_kwargs
        return str(kw["path"]) if "path" in kw else f"{kw.get('host')}:{kw.get('port')}"

    def _remember(self, reading: Reading) -> dict[str, Sequence[int]]:
        """Lag history per configured stream, including this cycle."""
        return self._history.add((s.name, s.lag) for s in reading.streams)


def options(resource: Resource) -> RedisOptions:
    """The resource's collector options, or a `ConfigError` naming each bad field."""
    return parse_options(RedisOptions, resource)


def build(config: FacilityConfig, resources: list[Resource]) -> list[Collector]:
    """One collector per resource of kind `redis`."""
    return [RedisCollector(r.id, options(r)) for r in resources]
