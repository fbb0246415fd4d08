"""RabbitMQ data streaming nodes: connect, round trip, queue backlogs, alarms.

One collector per resource (`collector: {kind: rabbitmq, options: {...}}`). Each
cycle opens one AMQP connection and times it, publishes a message to a private
exclusive auto-delete queue and times its way back, reads depth and consumers of
the configured queues (passive declare), and reads memory/disk alarms from the
management API (`management_url`, `/api/nodes`) or else the prometheus plugin
(`prometheus_url`); without either the alarm source is `none`, which is no error.
Reasons: down with `broker_unreachable` (no connection), `broker_alarm` (publishing
blocked) or `broker_error` (no round trip); degraded with `broker_slow`,
`backlog_high`, `backlog_growing` (depth rose for `backlog_growth_cycles`),
`queue_missing` or `broker_alarm`; else up. Connecting, the round trip and the
alarm request are each bounded by a quarter of `timeout`, so the collector builds
its own observation before the runner's guard fires (pika's channel calls have no
timeout of their own: a broker that stalls mid-cycle meets that guard). Exposition::

    # HELP facstat_rabbitmq_round_trip_seconds Publish→consume on a private queue.
    # TYPE facstat_rabbitmq_round_trip_seconds gauge
    facstat_rabbitmq_round_trip_seconds{resource="dsn-rabbitmq"} 0.0012
    # HELP facstat_rabbitmq_queue_messages Messages ready in a configured queue.
    # TYPE facstat_rabbitmq_queue_messages gauge
    facstat_rabbitmq_queue_messages{queue="frames",resource="dsn-rabbitmq"} 40.0
    # HELP facstat_rabbitmq_alarm_source_info Where alarms were read: management, prometheus or none.
    # TYPE facstat_rabbitmq_alarm_source_info gauge
    facstat_rabbitmq_alarm_source_info{resource="dsn-rabbitmq",source="management"} 1.0
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import pika
from pika.exceptions import ChannelClosedByBroker, ConnectionBlockedTimeout
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel, ConfigDict, Field, field_validator

from collectors.base import Collector, Cycle, MetricSpec
from collectors.common import parse_options
from collectors.trends import History, growing
from facility.config import FacilityConfig, Resource
from facility.model import Observation, ProbeState, Reason

log = logging.getLogger("facstat.collectors")
KIND = "rabbitmq"
R, RQ = ("resource",), ("resource", "queue")
UP = MetricSpec("facstat_rabbitmq_up", "gauge", "1 if the broker accepted a connection.", R)
CONNECT = MetricSpec("facstat_rabbitmq_connect_seconds", "gauge", "Time to connect over AMQP.", R)
ROUND_TRIP = MetricSpec(
    "facstat_rabbitmq_round_trip_seconds", "gauge", "Publish→consume on a private queue.", R
)
QUEUE_MESSAGES = MetricSpec(
    "facstat_rabbitmq_queue_messages", "gauge", "Messages ready in a configured queue.", RQ
)
QUEUE_CONSUMERS = MetricSpec(
    "facstat_rabbitmq_queue_consumers", "gauge", "Consumers of a configured queue.", RQ
)
ALARM = MetricSpec(
    "facstat_rabbitmq_alarm_active", "gauge", "1 while an alarm is on any node.", (*R, "alarm")
)
ALARM_SOURCE = MetricSpec(
    "facstat_rabbitmq_alarm_source_info",
    "gauge",
    "Where alarms were read: management, prometheus or none.",
    (*R, "source"),
)
SPECS = (UP, CONNECT, ROUND_TRIP, QUEUE_MESSAGES, QUEUE_CONSUMERS, ALARM, ALARM_SOURCE)
ALARMS = ("memory", "disk", "file_descriptors")
# Reason codes this module emits (see `collectors.reason_codes`).
REASON_CODES: dict[str, str] = {
    "broker_unreachable": "no AMQP connection to the broker (refused, timed out, name or login failure)",
    "broker_error": "connected, but a call after connecting failed (or the probe itself failed)",
    "broker_slow": "the publish-to-consume round trip took longer than round_trip_degraded_seconds",
    "broker_alarm": "a memory, disk or file-descriptor alarm is in effect: the broker blocks publishers",
    "queue_missing": "a queue named in the options does not exist on the broker",
    "backlog_high": "a queue holds more than backlog_degraded messages",
    "backlog_growing": "a queue grew in each of the last backlog_growth_cycles cycles",
}
# native alarm names -> ours, from the management API (`/api/nodes`) and the prometheus plugin
NODE_ALARMS = {"mem_alarm": "memory", "disk_free_alarm": "disk"}
PROMETHEUS_ALARMS = {
    "rabbitmq_alarms_memory_used_watermark": "memory",
    "rabbitmq_alarms_free_disk_space_watermark": "disk",
    "rabbitmq_alarms_file_descriptor_limit": "file_descriptors",
}


class RabbitOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(description="AMQP URL, e.g. amqp://user:pass@host:5672/%2F")
    queues: list[str] = Field(default_factory=list, description="queues whose backlog is watched")
    management_url: str | None = Field(
        None, description="management API base, e.g. http://host:15672"
    )
    prometheus_url: str | None = Field(
        None, description="prometheus plugin, e.g. http://host:15692/metrics"
    )
    round_trip_degraded_seconds: float = Field(
        0.25, gt=0, description="slower round trip is degraded"
    )
    backlog_degraded: int = Field(
        1000, ge=0, description="more ready messages in a queue is degraded"
    )
    backlog_growth_cycles: int = Field(4, ge=2, description="cycles of rising depth that degrade")
    interval: float = Field(15.0, gt=0, description="seconds between cycles")
    timeout: float = Field(5.0, gt=0, description="seconds for a whole cycle; a quarter per call")

    @field_validator("url")
    @classmethod
    def _amqp_url(cls, url: str) -> str:
        if urlsplit(url).scheme not in ("amqp", "amqps") or not urlsplit(url).hostname:
            raise ValueError("must be an amqp:// or amqps:// URL with a host")
        return url


@dataclass(frozen=True, slots=True)
class QueueReading:
    name: str
    messages: int | None  # None: the queue does not exist
    consumers: int = 0


@dataclass(slots=True)
class Reading:
    """What one cycle measured; `error` is set when the broker could not be probed."""

    error: Reason | None = None
    connect_seconds: float | None = None
    round_trip_seconds: float | None = None
    queues: list[QueueReading] = field(default_factory=list)
    alarm_source: str = "none"
    alarms: tuple[str, ...] = ()


# --- parsing (pure) ---------------------------------------------------------------


def parse_nodes(nodes: list[dict[str, Any]]) -> tuple[str, ...]:
    """Alarms in effect on any node of a management API `/api/nodes` answer."""
    return tuple(a for key, a in NODE_ALARMS.items() if any(n.get(key) for n in nodes))


def parse_prometheus(text: str) -> tuple[str, ...]:
    """Alarms in effect in the prometheus plugin's exposition."""
    active = {
        PROMETHEUS_ALARMS[s.name]
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
        if s.name in PROMETHEUS_ALARMS and s.value > 0
    }
    return tuple(a for a in ALARMS if a in active)


# --- assessment (pure) ------------------------------------------------------------


def queue_reasons(q: QueueReading, opts: RabbitOptions, history: Sequence[int]) -> list[Reason]:
    if q.messages is None:
        return [Reason("queue_missing", f"queue '{q.name}' does not exist on the broker")]
    out = []
    if q.messages > opts.backlog_degraded:
        msg = f"queue '{q.name}': {q.messages} messages waiting, {q.consumers} consumers (degraded above {opts.backlog_degraded})"
        out.append(Reason("backlog_high", msg))
    if growing(history, opts.backlog_growth_cycles):
        steps = " → ".join(map(str, history[-opts.backlog_growth_cycles :]))
        msg = f"queue '{q.name}' grew over the last {opts.backlog_growth_cycles} cycles: {steps} messages"
        out.append(Reason("backlog_growing", msg))
    return out


def assess(
    r: Reading, opts: RabbitOptions, history: dict[str, Sequence[int]]
) -> tuple[ProbeState, tuple[Reason, ...]]:
    """The probe state and its reasons: down on error, degraded on any other reason."""
    reasons = [r.error] if r.error else []
    if r.round_trip_seconds is not None and r.round_trip_seconds > opts.round_trip_degraded_seconds:
        msg = f"publish→consume round trip {r.round_trip_seconds * 1000:.0f} ms (degraded above {opts.round_trip_degraded_seconds * 1000:.0f} ms)"
        reasons.append(Reason("broker_slow", msg))
    for q in r.queues:
        reasons += queue_reasons(q, opts, history.get(q.name, ()))
    if r.alarms:
        plural = "s" if len(r.alarms) > 1 else ""
        msg = f"{' and '.join(r.alarms)} alarm{plural} in effect (read from {r.alarm_source})"
        reasons.append(Reason("broker_alarm", msg))
    state = ProbeState.DOWN if r.error else ProbeState.DEGRADED if reasons else ProbeState.UP
    return state, tuple(reasons)


def values(r: Reading) -> dict[str, float]:
    out: dict[str, float] = {}
    if r.connect_seconds is not None:
        out["connect_seconds"] = r.connect_seconds
    if r.round_trip_seconds is not None:
        out["round_trip_seconds"] = r.round_trip_seconds
    for q in r.queues:
        if q.messages is not None:
            out[f"queue_{q.name}_messages"] = q.messages
            out[f"queue_{q.name}_consumers"] = q.consumers
    if r.alarm_source != "none":
        out["alarms"] = len(r.alarms)
    return out


def families(resource_id: str, r: Reading) -> list[Metric]:
    fams = {s.name: s.family() for s in SPECS}
    fams[UP.name].add_metric([resource_id], 0.0 if r.connect_seconds is None else 1.0)
    for spec, value in ((CONNECT, r.connect_seconds), (ROUND_TRIP, r.round_trip_seconds)):
        if value is not None:
            fams[spec.name].add_metric([resource_id], value)
    for q in r.queues:
        if q.messages is not None:
            fams[QUEUE_MESSAGES.name].add_metric([resource_id, q.name], q.messages)
            fams[QUEUE_CONSUMERS.name].add_metric([resource_id, q.name], q.consumers)
    for alarm in ALARMS if r.alarm_source != "none" else ():
        fams[ALARM.name].add_metric([resource_id, alarm], float(alarm in r.alarms))
    fams[ALARM_SOURCE.name].add_metric([resource_id, r.alarm_source], 1.0)
    return [f for f in fams.values() if f.samples]


# --- running (I/O) ----------------------------------------------------------------


def _error_text(exc: BaseException) -> str:
    text = str(exc)
    return (f"{type(exc).__name__}: {text}" if text else repr(exc))[:400]


def connection_parameters(url: str, call_timeout: float) -> pika.URLParameters:
    params = pika.URLParameters(url)
    params.connection_attempts = 1
    params.socket_timeout = call_timeout
    params.stack_timeout = call_timeout
    params.blocked_connection_timeout = call_timeout
    return params


def round_trip(conn: pika.BlockingConnection, call_timeout: float) -> float:
    """Seconds from publishing to a private queue to consuming the message back."""
    ch = conn.channel()
    queue = ch.queue_declare("", exclusive=True, auto_delete=True).method.queue
    started = time.perf_counter()
    ch.basic_publish("", queue, uuid.uuid4().bytes)
    method, _props, _body = next(ch.consume(queue, auto_ack=True, inactivity_timeout=call_timeout))
    elapsed = time.perf_counter() - started
    if method is None:
        raise TimeoutError(f"no message came back within {call_timeout:g} s")
    ch.cancel()
    return elapsed


def queue_reading(conn: pika.BlockingConnection, name: str) -> QueueReading:
    """Depth and consumers of `name` by passive declare (no queue is created)."""
    ch = conn.channel()
    try:
        ok = ch.queue_declare(name, passive=True).method
    except ChannelClosedByBroker as exc:
        if exc.reply_code == 404:
            return QueueReading(name, None)
        raise
    ch.close()
    return QueueReading(name, ok.message_count, ok.consumer_count)


def after_connect_error(exc: Exception, call_timeout: float) -> Reason:
    """RabbitMQ blocks publishers only while a resource alarm is in effect."""
    if isinstance(exc, ConnectionBlockedTimeout):
        msg = f"the broker blocked publishing for {call_timeout:g} s: a resource alarm is in effect"
        return Reason("broker_alarm", msg)
    return Reason("broker_error", f"after connecting: {_error_text(exc)}")


def _close(conn: pika.BlockingConnection) -> None:
    try:
        if conn.is_open:
            conn.close()
    except Exception:  # a broken connection is already gone
        pass


class RabbitMQCollector:
    """Probes one RabbitMQ broker for one resource; `collect` never raises."""

    kind = KIND

    def __init__(self, resource_id: str, opts: RabbitOptions) -> None:
        self.name = f"{KIND}-{resource_id}"
        self.resource_ids: Sequence[str] = (resource_id,)
        self.opts = opts
        self.interval = opts.interval
        self.timeout = opts.timeout
        self.call_timeout = opts.timeout / 4
        self._params = connection_parameters(opts.url, self.call_timeout)
        self._history = History(opts.backlog_growth_cycles)

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
        reading, conn = self.connect()
        if conn is None:
            return reading
        try:
            reading.round_trip_seconds = round_trip(conn, self.call_timeout)
            reading.queues = [queue_reading(conn, q) for q in self.opts.queues]
        except Exception as exc:
            reading.error = after_connect_error(exc, self.call_timeout)
        finally:
            _close(conn)
        reading.alarm_source, reading.alarms = self.alarms()
        return reading

    def connect(self) -> tuple[Reading, pika.BlockingConnection | None]:
        started = time.perf_counter()
        try:
            conn = pika.BlockingConnection(self._params)
        except Exception as exc:
            where = f"{self._params.host}:{self._params.port}"
            reason = Reason("broker_unreachable", f"cannot connect to {where}: {_error_text(exc)}")
            return Reading(reason), None
        return Reading(connect_seconds=time.perf_counter() - started), conn

    def alarms(self) -> tuple[str, tuple[str, ...]]:
        """Alarms from the first source that answers, and its name."""
        for source, url, parse in self._alarm_sources():
            try:
                return source, parse(self._get(url))
            except (httpx.HTTPError, ValueError, TypeError, AttributeError) as exc:
                log.debug("%s: no alarms from %s: %s", self.name, source, _error_text(exc))
        return "none", ()

    def _alarm_sources(self) -> list[tuple[str, str, Callable[[httpx.Response], tuple[str, ...]]]]:
        out: list[tuple[str, str, Callable[[httpx.Response], tuple[str, ...]]]] = []
        if self.opts.management_url:
            url = self.opts.management_url.rstrip("/") + "/api/nodes"
            out.append(("management", url, lambda resp: parse_nodes(resp.json())))
        if self.opts.prometheus_url:
            out.append(
                ("prometheus", self.opts.prometheus_url, lambda resp: parse_prometheus(resp.text))
            )
        return out

    def _get(self, url: str) -> httpx.Response:
        creds = self._params.credentials
        auth = None if httpx.URL(url).username else (creds.username, creds.password)
        resp = httpx.get(url, auth=auth, timeout=self.call_timeout)
        return resp.raise_for_status()

    def _remember(self, reading: Reading) -> dict[str, Sequence[int]]:
        """Depth history per configured queue, including this cycle."""
        return self._history.add((q.name, q.messages) for q in reading.queues)


def options(resource: Resource) -> RabbitOptions:
    """The resource's collector options, or a `ConfigError` naming each bad field."""
    return parse_options(RabbitOptions, resource)


def build(config: FacilityConfig, resources: list[Resource]) -> list[Collector]:
    """One collector per resource of kind `rabbitmq`."""
    return [RabbitMQCollector(r.id, options(r)) for r in resources]
