"""Ingest throughput: observations/s through `StatusService.ingest`, and over HTTP.

Each backend gets a fresh database. The first round over every resource is
"first contact" (every observation opens a status interval and an event); the
following rounds re-report the same states ("steady": observation rows and
current-status upserts, no transitions), which is what collectors do all day.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa

from bench.observations import domain_batches, http_bodies
from bench.plan import Plan
from bench.server import TOKEN, Server
from facility.config import FacilityConfig
from facility.service import StatusService
from facility.store import Store

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DB = "facstat_bench"


@dataclass(frozen=True)
class IngestFigure:
    path: str  # "service → sqlite (WAL)", "HTTP → sqlite (WAL)", ...
    phase: str  # "first contact" | "steady"
    observations: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.observations / self.seconds if self.seconds else 0.0


def _round(service: StatusService, ids: Sequence[str]) -> tuple[int, float]:
    batches = domain_batches(ids, datetime.now(UTC))
    start = time.perf_counter()
    for batch in batches:
        service.ingest(batch)
    return len(ids), time.perf_counter() - start


def _steady(rounds: Iterator[tuple[int, float]], limit: int, budget: float) -> tuple[int, float]:
    total, spent = 0, 0.0
    for _, (n, secs) in zip(range(limit), rounds, strict=False):
        total, spent = total + n, spent + secs
        if spent > budget:
            break
    return total, spent


def in_process(url: str, label: str, config: FacilityConfig, plan: Plan) -> list[IngestFigure]:
    ids = [r.id for r in config.resources]
    store = Store.from_url(url)
    try:
        service = StatusService(config, store)
        first = _round(service, ids)
        rounds = (_round(service, ids) for _ in iter(int, 1))
        steady = _steady(rounds, plan.ingest_rounds, plan.ingest_budget)
    finally:
        store.close()
    return [
        IngestFigure(f"service → {label}", "first contact", *first),
        IngestFigure(f"service → {label}", "steady", *steady),
    ]


def pg_available() -> bool:
    try:
        engine = sa.create_engine(PG_ADMIN)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except sa.exc.OperationalError:
        return False


@contextmanager
def pg_database() -> Iterator[str]:
    """A fresh `facstat_bench` database on the local PostgreSQL, dropped afterwards."""
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)"))
            conn.execute(sa.text(f"CREATE DATABASE {PG_DB}"))
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_DB
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)"))
        admin.dispose()


def over_http(server: Server, ids: Sequence[str], rounds: int) -> IngestFigure:
    """Steady rounds of `POST /api/v1/observations` (bodies encoded before timing)."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    total, spent = 0, 0.0
    with httpx.Client(base_url=server.url, headers=headers, timeout=120) as client:
        for _ in range(rounds):
            bodies = http_bodies(ids, datetime.now(UTC))
            start = time.perf_counter()
            for body in bodies:
                client.post("/api/v1/observations", content=body).raise_for_status()
            total, spent = total + len(ids), spent + time.perf_counter() - start
    return IngestFigure("HTTP → sqlite (WAL)", "steady", total, spent)
