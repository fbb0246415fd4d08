"""Shared fixtures: the store on SQLite and on the machine's PostgreSQL, a settable
clock, the status service, and the API (in-process client and a real uvicorn server)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings

from api.app import create_app
from api.runtime import Runtime
from facility.config import FacilityConfig, load_facility
from facility.service import StatusService
from facility.settings import Settings
from facility.store import Store

# Tests assert behaviour, not timings: no per-example deadline (a loaded 2-core CI
# machine made a correct property test fail on time alone).
hypothesis_settings.register_profile("facstat", deadline=None)
hypothesis_settings.load_profile("facstat")

DATA = Path(__file__).parent / "data"
SMALL = DATA / "small-facility.yaml"
PG_ADMIN = os.environ.get(
    "FACSTAT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PG_TEST_DB = f"facstat_{os.getpid()}_test"  # one per pytest run, so parallel runs do not collide
TOKEN = "test-collector-token-0123456789"
OPERATOR_TOKEN = "test-operator-token-0123456789"
T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = T0
    calls: list[datetime] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _pg_url(db: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + db


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh `facstat_<pid>_test` database on the local PostgreSQL, migrated once."""
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {PG_TEST_DB} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {PG_TEST_DB}"))
    admin.dispose()
    url = _pg_url(PG_TEST_DB)
    Store.from_url(url).close()
    yield url
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {PG_TEST_DB} WITH (FORCE)"))
    admin.dispose()


def _truncate(url: str) -> None:
    """Empty every table of the store (all but Alembic's own)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        names = sa.inspect(conn).get_table_names()
        tables = ", ".join(n for n in names if n != "alembic_version")
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every store-backed test runs on SQLite (WAL) and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'facstat.db'}"
    url: str = request.getfixturevalue("pg_database")
    _truncate(url)
    return url


@pytest.fixture
def config() -> FacilityConfig:
    return load_facility(SMALL)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.from_url(db_url)
    yield s
    s.close()


@pytest.fixture
def service(config: FacilityConfig, store: Store, clock: Clock) -> StatusService:
    return StatusService(config, store, clock=clock)


def make_settings(db_url: str, facility: Path = SMALL, **extra: object) -> Settings:
    return Settings(
        database_url=db_url,
        facility_file=facility,
        collector_token=TOKEN,  # type: ignore[arg-type]
        operator_token=OPERATOR_TOKEN,  # type: ignore[arg-type]
        **{"run_collectors": False, **extra},  # type: ignore[arg-type]
    )


@pytest.fixture
def runtime(db_url: str, clock: Clock) -> Iterator[Runtime]:
    rt = Runtime.build(make_settings(db_url), clock=clock)
    yield rt
    rt.store.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime, start=False)) as c:
        yield c


AUTH = {"Authorization": f"Bearer {TOKEN}"}
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    runtime: Runtime
    server: uvicorn.Server
    thread: threading.Thread


@pytest.fixture
def live_server(runtime: Runtime) -> Iterator[LiveServer]:
    """A real uvicorn server on a free loopback port, in a thread."""
    server = start_server(runtime, free_port())
    yield server
    stop_server(server)


def start_server(runtime: Runtime, port: int) -> LiveServer:
    """Start a real uvicorn server for `runtime` on `port`, in a thread."""
    cfg = uvicorn.Config(
        create_app(runtime=runtime, start=False), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(cfg)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    httpx.get(url + "/healthz").raise_for_status()
    return LiveServer(url, runtime, server, thread)


def stop_server(live: LiveServer) -> None:
    live.server.should_exit = True
    live.thread.join(timeout=10)


def assert_promtool_accepts(exposition: str) -> None:
    """`promtool check metrics` (Debian's prometheus package) finds no problem."""
    import shutil
    import subprocess

    promtool = shutil.which("promtool")
    assert promtool is not None, "promtool is missing: scripts/services installs it"
    out = subprocess.run(
        [promtool, "check", "metrics"], input=exposition, capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0 and not out.stdout.strip() and not out.stderr.strip(), (
        out.stdout + out.stderr
    )
