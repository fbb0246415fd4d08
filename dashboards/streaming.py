"""Data streaming nodes: the RabbitMQ and Redis brokers of the facility file, their
facstat state, round trip, connect time, queue depth and consumers, memory and stream lag."""

from __future__ import annotations

from collectors import rabbitmq_dsn as rabbit
from collectors import redis_dsn as redis
from collectors.base import MetricSpec
from dashboards import panels as P
from dashboards.page import Page, resources_of, state_row
from dashboards.promql import Re, rate, sel, var
from facility.config import FacilityConfig

RABBITMQ, REDIS = var("rabbitmq"), var("redis")
RESOURCE = "{{resource}}"


def pages(config: FacilityConfig) -> list[Page]:
    brokers = resources_of(config, rabbit.KIND, redis.KIND)
    if not brokers:
        return []
    board, variables = P.Board(), []
    state_row(board, "facstat resources", brokers)
    for kind, name, label, row in (
        (rabbit.KIND, "rabbitmq", "RabbitMQ", _rabbitmq),
        (redis.KIND, "redis", "Redis", _redis),
    ):
        ids = [r.id for r in brokers if r.collector and r.collector.kind == kind]
        if ids:
            row(board)
            variables.append(P.custom_var(name, label, ids))
    page = Page(
        "streaming",
        "Data streaming nodes",
        "The brokers that receive experiment data, as the RabbitMQ and Redis collectors "
        "probe them.",
        board,
        variables,
        ("streaming",),
    )
    return [page]


def _of(spec: MetricSpec, resource: Re) -> str:
    return sel(spec.name, resource=resource)


def _rabbitmq(board: P.Board) -> None:
    def of(spec: MetricSpec) -> str:
        return _of(spec, RABBITMQ)

    board.row("RabbitMQ")
    alarms = f"count({of(rabbit.ALARM)} == 1) or vector(0)"
    alarm_steps = P.steps(("green", None), ("red", 1))
    board.add_all(
        [
            P.stat("Broker", [(of(rabbit.UP), RESOURCE)], mappings=P.UP_MAPPINGS),
            P.stat(
                "Alarms active",
                [(alarms, "alarms")],
                description="Memory, disk or file-descriptor alarms on any node.",
                steps=alarm_steps,
            ),
        ],
        w=6,
    )
    board.add(
        P.series("Round trip (publish → consume)", of(rabbit.ROUND_TRIP), RESOURCE, "s"), w=12
    )
    queue = "{{resource}} {{queue}}"
    board.add_all(
        [
            P.series("AMQP connect time", of(rabbit.CONNECT), RESOURCE, "s"),
            P.series("Queue depth (ready messages)", of(rabbit.QUEUE_MESSAGES), queue),
            P.series("Consumers", of(rabbit.QUEUE_CONSUMERS), queue),
        ]
    )


def _redis(board: P.Board) -> None:
    def of(spec: MetricSpec) -> str:
        return _of(spec, REDIS)

    board.row("Redis")
    role = P.stat("Role", [(f"{of(redis.ROLE)} == 1", "{{resource}} {{role}}")])
    board.add_all([P.stat("Server", [(of(redis.UP), RESOURCE)], mappings=P.UP_MAPPINGS), role], w=6)
    board.add(P.series("PING round trip", of(redis.PING), RESOURCE, "s"), w=12)
    stream = "{{resource}} {{stream}}"
    lag = "Entries the worst watched consumer group has not read yet."
    clients = [
        (of(redis.CLIENTS), "{{resource}} clients"),
        (of(redis.REPLICAS), "{{resource}} replicas"),
    ]
    board.add_all(
        [
            P.series("Stream lag", of(redis.STREAM_LAG), stream, description=lag),
            P.series("Stream length", of(redis.STREAM_LENGTH), stream),
            P.series("Memory used", of(redis.MEMORY_USED), RESOURCE, "bytes"),
            P.series(
                "Memory used / maxmemory (where set)",
                of(redis.MEMORY_RATIO),
                RESOURCE,
                "percentunit",
            ),
            P.timeseries("Clients and replicas", clients),
            P.series("Replication lag", of(redis.REPL_LAG), RESOURCE, "bytes"),
        ]
    )
    lost = [
        (rate(of(redis.EVICTED)), "{{resource}} evicted"),
        (rate(of(redis.REJECTED)), "{{resource}} rejected"),
    ]
    board.add(P.timeseries("Evicted keys and rejected connections", lost, "ops"), w=24)
