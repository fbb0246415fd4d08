"""The Redis collector, against the machine's real Redis (127.0.0.1:6379) and on
`INFO` / `XINFO GROUPS` answers recorded from real servers (a master whose replica
fell behind, the replica, consumer groups with and without a known lag)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from prometheus_client import CollectorRegistry, generate_latest

from collectors.base import Cycle
from collectors.metrics import CycleMetrics
from collectors.redis_dsn import (
    RedisCollector,
    RedisOptions,
    build,
    parse_info,
    server_info,
    stream_reading,
)
from facility.config import CollectorRef, load_facility
from facility.errors import ConfigError
from facility.model import ProbeState
from tests.conftest import T0, assert_promtool_accepts, free_port

URL = "redis://127.0.0.1:6379/0"
DATA = Path(__file__).parents[1] / "data" / "redis"
EXAMPLE = Path(__file__).parents[2] / "examples" / "demo-facility.yaml"


def exposition(cycle: Cycle) -> str:
    metrics = CycleMetrics()
    metrics.record("redis-dsn", "redis", 0.01, True, T0.timestamp(), cycle.metrics)
    registry = CollectorRegistry()
    registry.register(metrics)
    return generate_latest(registry).decode()


def collector(**options: object) -> RedisCollector:
    return RedisCollector("dsn", RedisOptions.model_validate({"url": URL, **options}))


def reasons(cycle: Cycle) -> dict[str, str]:
    return {r.code: r.message for r in cycle.observations[0].reasons}


def info(name: str) -> dict[str, str]:
    return parse_info((DATA / name).read_text())


@pytest.fixture
def r() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(URL, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def stream(r: redis.Redis) -> Iterator[str]:
    """A stream name of this test's own, deleted afterwards."""
    name = f"facstat-test-{uuid.uuid4().hex[:8]}"
    try:
        yield name
    finally:
        r.delete(name)


def xadd(r: redis.Redis, stream: str, n: int) -> None:
    for i in range(n):
        r.xadd(stream, {"frame": i})


# --- parsing recorded answers -------------------------------------------------------


def test_info_of_a_standalone_server_has_no_memory_ratio_without_maxmemory() -> None:
    s = server_info(info("info-standalone.txt"))
    assert (s.role, s.maxmemory, s.memory_ratio, s.replication_lag) == ("master", 0, None, None)
    assert s.used_memory > 0 and s.connected_clients >= 1


def test_info_of_a_master_gives_how_far_its_replica_is_behind() -> None:
    s = server_info(info("info-master-replica-behind.txt"))
    assert (s.role, s.connected_replicas, s.replication_lag) == ("master", 1, 25893 - 3178)
    assert s.maxmemory == 64 * 2**20 and s.memory_ratio == s.used_memory / s.maxmemory


def test_info_of_a_replica_gives_its_role_and_master_link() -> None:
    s = server_info(info("info-replica.txt"))
    assert (s.role, s.master_link_up, s.replication_lag) == ("slave", True, None)


def test_a_streams_backlog_is_its_worst_groups_lag() -> None:
    groups = json.loads((DATA / "xinfo-groups.json").read_text())
    frames = stream_reading("frames", 250, groups["frames"], None)
    assert (frames.lag, frames.group) == (250, "analysis")
    watched = stream_reading("frames", 250, groups["frames"], ["viewer"])
    assert (watched.lag, watched.group) == (50, "viewer")


def test_a_group_whose_lag_redis_cannot_tell_counts_its_pending_entries() -> None:
    groups = json.loads((DATA / "xinfo-groups.json").read_text())
    assert groups["trimmed"][0]["lag"] is None
    assert stream_reading("trimmed", 9, groups["trimmed"], None).lag == 0


# --- the real server ----------------------------------------------------------------


def test_a_healthy_server_is_up_with_its_measured_values(stream: str) -> None:
    cycle = collector(streams=[stream]).collect(T0)
    obs = cycle.observations[0]
    assert (obs.resource_id, obs.source, obs.state, obs.reasons) == (
        "dsn",
        "redis-dsn",
        ProbeState.UP,
        (),
    )
    assert 0 < obs.values["ping_seconds"] < 0.05 and obs.values["connected_clients"] >= 1
    assert obs.values["memory_used_bytes"] > 0 and obs.values[f"stream_{stream}_length"] == 0
    text = exposition(cycle)
    assert 'facstat_redis_role_info{resource="dsn",role="master"} 1.0' in text
    assert 'facstat_redis_evicted_keys_total{resource="dsn"}' in text
    assert_promtool_accepts(text)


def test_an_unreachable_server_is_down_quickly_with_the_connection_error() -> None:
    port = free_port()
    c = collector(url=f"redis://127.0.0.1:{port}/0", timeout=2)
    started = time.monotonic()
    cycle = c.collect(T0)
    assert time.monotonic() - started < c.timeout
    assert cycle.observations[0].state == ProbeState.DOWN
    message = reasons(cycle)["broker_unreachable"]
    assert f"no answer to PING from 127.0.0.1:{port}" in message and "Connection refused" in message
    text = exposition(cycle)
    assert 'facstat_redis_up{resource="dsn"} 0.0' in text
    assert_promtool_accepts(text)


def test_a_group_that_does_not_read_degrades_the_server_with_its_lag(
    r: redis.Redis, stream: str
) -> None:
    xadd(r, stream, 30)
    r.xgroup_create(stream, "analysis", id="0")
    cycle = collector(streams=[stream], stream_lag_degraded=20).collect(T0)
    assert cycle.observations[0].state == ProbeState.DEGRADED
    assert reasons(cycle) == {
        "stream_lag": f"stream '{stream}': group 'analysis' is 30 entries behind (degraded above 20)"
    }
    assert cycle.observations[0].values[f"stream_{stream}_lag"] == 30
    text = exposition(cycle)
    assert f'facstat_redis_stream_lag{{resource="dsn",stream="{stream}"}} 30.0' in text
    assert_promtool_accepts(text)


def test_a_lag_growing_over_the_last_cycles_degrades_the_server(
    r: redis.Redis, stream: str
) -> None:
    r.xgroup_create(stream, "analysis", id="0", mkstream=True)
    c = collector(streams=[stream], lag_growth_cycles=3)
    states = []
    for _ in range(3):
        xadd(r, stream, 5)
        cycle = c.collect(T0)
        states.append(cycle.observations[0].state)
    assert states == [ProbeState.UP, ProbeState.UP, ProbeState.DEGRADED]
    assert reasons(cycle) == {
        "stream_lag": f"stream '{stream}': group 'analysis' fell further behind"
        " over the last 3 cycles: 5 → 10 → 15 entries"
    }
    assert_promtool_accepts(exposition(cycle))


def test_only_the_configured_groups_are_watched(r: redis.Redis, stream: str) -> None:
    xadd(r, stream, 30)
    r.xgroup_create(stream, "analysis", id="0")
    r.xgroup_create(stream, "viewer", id="$")
    cycle = collector(streams=[stream], groups=["viewer"], stream_lag_degraded=20).collect(T0)
    assert cycle.observations[0].state == ProbeState.UP
    assert cycle.observations[0].values[f"stream_{stream}_lag"] == 0


def test_memory_near_maxmemory_degrades_the_server_with_the_ratio(r: redis.Redis) -> None:
    """maxmemory is set to 1.5 × the memory in use, so nothing is evicted or refused."""
    before = r.config_get("maxmemory")["maxmemory"]
    try:
        used = int(r.info("memory")["used_memory"])
        r.config_set("maxmemory", int(used * 1.5))
        cycle = collector(memory_degraded_ratio=0.5).collect(T0)
    finally:
        r.config_set("maxmemory", before)
    assert cycle.observations[0].state == ProbeState.DEGRADED
    message = reasons(cycle)["memory_high"]
    assert "% of maxmemory" in message and message.endswith("(degraded above 50%)")
    assert 0.5 < cycle.observations[0].values["memory_used_ratio"] < 1
    text = exposition(cycle)
    assert 'facstat_redis_memory_used_ratio{resource="dsn"}' in text
    assert_promtool_accepts(text)


def test_a_ping_slower_than_the_threshold_degrades_the_server_with_the_measure() -> None:
    cycle = collector(ping_degraded_seconds=1e-7).collect(T0)
    assert cycle.observations[0].state == ProbeState.DEGRADED
    message = reasons(cycle)["broker_slow"]
    assert message.startswith("PING took ") and message.endswith(" ms (degraded above 0 ms)")


# --- building from the facility file ------------------------------------------------


def test_build_makes_one_collector_per_resource_named_after_it() -> None:
    config = load_facility(EXAMPLE)
    [c] = build(config, [config.resource("dsn-redis")])
    assert (c.name, c.kind, c.interval, c.timeout, tuple(c.resource_ids)) == (
        "redis-dsn-redis",
        "redis",
        15.0,
        5.0,
        ("dsn-redis",),
    )


def test_a_bad_option_is_a_config_error_naming_the_field() -> None:
    config = load_facility(EXAMPLE)
    ref = CollectorRef(kind="redis", options={"url": URL, "memory_degraded_ratio": 2})
    bad = config.resource("dsn-redis").model_copy(update={"collector": ref})
    with pytest.raises(ConfigError) as err:
        build(config, [bad])
    assert "resources[dsn-redis].collector.options.memory_degraded_ratio" in str(err.value)


def test_a_url_that_is_not_redis_is_refused_naming_the_accepted_schemes() -> None:
    with pytest.raises(ValueError, match="redis://"):
        RedisOptions(url="http://dsn02:6379")
