"""The RabbitMQ collector, against the machine's real broker (127.0.0.1:5672, guest)
and on management API / prometheus plugin answers recorded from a real node."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pika
import pytest
from pika.exceptions import ConnectionBlockedTimeout
from prometheus_client import CollectorRegistry, generate_latest

from collectors.base import Cycle
from collectors.metrics import CycleMetrics
from collectors.rabbitmq_dsn import (
    RabbitMQCollector,
    RabbitOptions,
    Reading,
    after_connect_error,
    assess,
    build,
    parse_nodes,
    parse_prometheus,
)
from facility.config import CollectorRef, load_facility
from facility.errors import ConfigError
from facility.model import ProbeState
from tests.conftest import T0, assert_promtool_accepts, free_port

URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
DATA = Path(__file__).parents[1] / "data" / "rabbitmq"
EXAMPLE = Path(__file__).parents[2] / "examples" / "demo-facility.yaml"


def exposition(cycle: Cycle) -> str:
    metrics = CycleMetrics()
    metrics.record("rabbitmq-dsn", "rabbitmq", 0.01, True, T0.timestamp(), cycle.metrics)
    registry = CollectorRegistry()
    registry.register(metrics)
    return generate_latest(registry).decode()


def collector(**options: object) -> RabbitMQCollector:
    return RabbitMQCollector("dsn", RabbitOptions.model_validate({"url": URL, **options}))


def reasons(cycle: Cycle) -> dict[str, str]:
    return {r.code: r.message for r in cycle.observations[0].reasons}


@pytest.fixture
def queue() -> Iterator[str]:
    """A fresh queue on the real broker, deleted afterwards."""
    name = f"facstat-test-{uuid.uuid4().hex[:8]}"
    conn = pika.BlockingConnection(pika.URLParameters(URL))
    conn.channel().queue_declare(name)
    try:
        yield name
    finally:
        conn.channel().queue_delete(name)
        conn.close()


def publish(queue: str, n: int) -> None:
    with pika.BlockingConnection(pika.URLParameters(URL)) as conn:
        ch = conn.channel()
        ch.confirm_delivery()
        for i in range(n):
            ch.basic_publish("", queue, f"frame {i}".encode())


@pytest.fixture
def recorded_management(tmp_path: Path) -> Iterator[str]:
    """The recorded `/api/nodes` answer of a node in memory and disk alarm, over real HTTP."""
    tmp_path.joinpath("api").mkdir()
    tmp_path.joinpath("api", "nodes").write_text((DATA / "api-nodes-alarms.json").read_text())
    handler = partial(QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


# --- parsing recorded answers -------------------------------------------------------


def test_the_management_api_of_a_quiet_node_reports_no_alarm() -> None:
    assert parse_nodes(json.loads((DATA / "api-nodes.json").read_text())) == ()


def test_the_management_api_reports_memory_and_disk_alarms_of_a_node() -> None:
    nodes = json.loads((DATA / "api-nodes-alarms.json").read_text())
    assert parse_nodes(nodes) == ("memory", "disk")


def test_the_prometheus_plugin_of_a_quiet_node_reports_no_alarm() -> None:
    assert parse_prometheus((DATA / "prometheus-metrics.txt").read_text()) == ()


def test_the_prometheus_plugin_reports_memory_and_disk_alarms() -> None:
    text = (DATA / "prometheus-metrics-alarms.txt").read_text()
    assert parse_prometheus(text) == ("memory", "disk")


def test_an_alarm_degrades_the_broker_and_names_its_source() -> None:
    reading = Reading(connect_seconds=0.01, round_trip_seconds=0.002)
    reading.alarm_source, reading.alarms = "prometheus", ("memory",)
    state, why = assess(reading, RabbitOptions(url=URL), {})
    assert state == ProbeState.DEGRADED
    assert [(r.code, r.message) for r in why] == [
        ("broker_alarm", "memory alarm in effect (read from prometheus)")
    ]


def test_publishing_blocked_by_the_broker_is_reported_as_an_alarm() -> None:
    reason = after_connect_error(
        ConnectionBlockedTimeout("Blocked connection timeout expired."), 1.25
    )
    assert reason.code == "broker_alarm" and "blocked publishing for 1.25 s" in reason.message


# --- the real broker ----------------------------------------------------------------


def test_a_healthy_broker_is_up_with_its_connect_and_round_trip_times(queue: str) -> None:
    cycle = collector(queues=[queue]).collect(T0)
    obs = cycle.observations[0]
    assert (obs.resource_id, obs.source, obs.state, obs.reasons) == (
        "dsn",
        "rabbitmq-dsn",
        ProbeState.UP,
        (),
    )
    assert 0 < obs.values["connect_seconds"] < 1 and 0 < obs.values["round_trip_seconds"] < 1
    assert (
        obs.values[f"queue_{queue}_messages"] == 0 and obs.values[f"queue_{queue}_consumers"] == 0
    )
    text = exposition(cycle)
    assert f'facstat_rabbitmq_queue_messages{{queue="{queue}",resource="dsn"}} 0.0' in text
    assert 'facstat_rabbitmq_alarm_source_info{resource="dsn",source="none"} 1.0' in text
    assert_promtool_accepts(text)


def test_an_unreachable_broker_is_down_quickly_with_the_connection_error() -> None:
    port = free_port()
    c = collector(url=f"amqp://guest:guest@127.0.0.1:{port}/%2F", timeout=2)
    started = time.monotonic()
    cycle = c.collect(T0)
    assert time.monotonic() - started < c.timeout
    assert cycle.observations[0].state == ProbeState.DOWN
    message = reasons(cycle)["broker_unreachable"]
    assert f"cannot connect to 127.0.0.1:{port}" in message and "Connection refused" in message
    text = exposition(cycle)
    assert 'facstat_rabbitmq_up{resource="dsn"} 0.0' in text
    assert_promtool_accepts(text)


def test_a_backlog_above_the_threshold_degrades_the_broker_with_the_numbers(queue: str) -> None:
    publish(queue, 30)
    cycle = collector(queues=[queue], backlog_degraded=20).collect(T0)
    assert cycle.observations[0].state == ProbeState.DEGRADED
    assert reasons(cycle) == {
        "backlog_high": f"queue '{queue}': 30 messages waiting, 0 consumers (degraded above 20)"
    }
    assert cycle.observations[0].values[f"queue_{queue}_messages"] == 30
    assert_promtool_accepts(exposition(cycle))


def test_a_backlog_growing_over_the_last_cycles_degrades_the_broker(queue: str) -> None:
    c = collector(queues=[queue], backlog_growth_cycles=3)
    states = []
    for _ in range(3):
        publish(queue, 5)
        cycle = c.collect(T0)
        states.append(cycle.observations[0].state)
    assert states == [ProbeState.UP, ProbeState.UP, ProbeState.DEGRADED]
    assert reasons(cycle) == {
        "backlog_growing": f"queue '{queue}' grew over the last 3 cycles: 5 → 10 → 15 messages"
    }
    assert_promtool_accepts(exposition(cycle))


def test_a_configured_queue_that_does_not_exist_degrades_the_broker() -> None:
    cycle = collector(queues=["facstat-test-no-such-queue"]).collect(T0)
    assert cycle.observations[0].state == ProbeState.DEGRADED
    assert reasons(cycle) == {
        "queue_missing": "queue 'facstat-test-no-such-queue' does not exist on the broker"
    }


def test_a_round_trip_slower_than_the_threshold_degrades_the_broker_with_the_measure() -> None:
    cycle = collector(round_trip_degraded_seconds=1e-7).collect(T0)
    assert cycle.observations[0].state == ProbeState.DEGRADED
    message = reasons(cycle)["broker_slow"]
    assert message.startswith("publish→consume round trip ") and message.endswith(
        "(degraded above 0 ms)"
    )


def test_an_alarm_source_that_does_not_answer_is_no_error() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    cycle = collector(management_url=closed, prometheus_url=closed + "/metrics").collect(T0)
    assert cycle.observations[0].state == ProbeState.UP
    assert 'source="none"' in exposition(cycle)


def test_alarms_are_read_from_the_management_api_when_it_answers(recorded_management: str) -> None:
    cycle = collector(management_url=recorded_management).collect(T0)
    assert cycle.observations[0].state == ProbeState.DEGRADED
    assert reasons(cycle) == {
        "broker_alarm": "memory and disk alarms in effect (read from management)"
    }
    text = exposition(cycle)
    assert 'facstat_rabbitmq_alarm_active{alarm="memory",resource="dsn"} 1.0' in text
    assert 'facstat_rabbitmq_alarm_active{alarm="file_descriptors",resource="dsn"} 0.0' in text
    assert_promtool_accepts(text)


# --- building from the facility file ------------------------------------------------


def test_build_makes_one_collector_per_resource_named_after_it() -> None:
    config = load_facility(EXAMPLE)
    [c] = build(config, [config.resource("dsn-rabbitmq")])
    assert (c.name, c.kind, c.interval, c.timeout, tuple(c.resource_ids)) == (
        "rabbitmq-dsn-rabbitmq",
        "rabbitmq",
        15.0,
        5.0,
        ("dsn-rabbitmq",),
    )


def test_a_bad_option_is_a_config_error_naming_the_field() -> None:
    config = load_facility(EXAMPLE)
    ref = CollectorRef(kind="rabbitmq", options={"url": URL, "queus": ["x"]})
    bad = config.resource("dsn-rabbitmq").model_copy(update={"collector": ref})
    with pytest.raises(ConfigError) as err:
        build(config, [bad])
    assert "resources[dsn-rabbitmq].collector.options.queus" in str(err.value)


def test_a_url_that_is_not_amqp_is_refused_naming_the_accepted_schemes() -> None:
    with pytest.raises(ValueError, match="amqp:// or amqps://"):
        RabbitOptions(url="http://dsn01:15672")
