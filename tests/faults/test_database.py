"""Fault: PostgreSQL is stopped and restarted under a running API.

The machine's own PostgreSQL cluster is stopped (`pg_ctlcluster … stop -m fast`) while a
real `facstat serve` runs on it, then started again; the test always starts it again,
whatever happens. Meanwhile:

- writes get `503` with `Retry-After` and an RFC 9457 body, never a 500;
- reads keep answering with the last known status, marked stale
  (`X-Facstat-Stale: store-unavailable`, `Warning: 110`); reads that need the database
  itself (the event log) are a 503 too, never a 500;
- once PostgreSQL is back, the same process accepts writes and answers current,
  unmarked reads by itself, without a restart; what was acknowledged before is kept.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import AUTH, PG_ADMIN, _pg_url, free_port
from tests.procs import ApiProcess, api_env, spawn_api

DB = "facstat_db_fault_test"
PROBLEM = "application/problem+json"


def _cluster() -> list[str]:
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main"]


def _pg(action: str) -> None:
    """Stop or start the machine's cluster; starting one that runs is not an error."""
    if (
        action == "start"
        and subprocess.run([*_cluster(), "status"], capture_output=True, timeout=30).returncode == 0
    ):
        return
    extra = ["-m", "fast"] if action == "stop" else []
    subprocess.run([*_cluster(), action, *extra], check=True, capture_output=True, timeout=60)


def _wait_pg(up: bool, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            engine = sa.create_engine(PG_ADMIN)
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            engine.dispose()
            if up:
                return
        except sa.exc.OperationalError:
            if not up:
                return
        time.sleep(0.2)
    raise AssertionError(f"PostgreSQL did not come {'up' if up else 'down'}")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiProcess]:
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        pytest.skip("needs the machine's PostgreSQL cluster (pg_ctlcluster)")
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {DB}"))
    admin.dispose()
    proc = spawn_api(free_port(), api_env(_pg_url(DB), tick_interval="0.5"), tmp_path / "api.log")
    try:
        yield proc
    finally:
        proc.stop()
        _pg("start")  # whatever happened, the machine's PostgreSQL runs again
        _wait_pg(up=True)
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))
        admin.dispose()


def post(api: ApiProcess, state: str, at: datetime) -> httpx.Response:
    obs = {"resource_id": "home", "observed_at": at.isoformat(), "source": "t", "state": state}
    return httpx.post(
        f"{api.url}/api/v1/observations", json={"observations": [obs]}, headers=AUTH, timeout=30
    )


def test_the_api_rides_out_a_database_restart(api: ApiProcess) -> None:
    now = datetime.now(UTC)
    for i in range(2):
        assert post(api, "up", now + timedelta(milliseconds=i)).status_code == 200
    ok = httpx.get(f"{api.url}/api/v1/resources/home")
    assert ok.json()["state"] == "up" and "x-facstat-stale" not in ok.headers

    _pg("stop")
    _wait_pg(up=False)
    refused = post(api, "down", now + timedelta(seconds=1))
    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert int(refused.headers["retry-after"]) > 0
    read = httpx.get(f"{api.url}/api/v1/resources/home", timeout=30)
    assert read.status_code == 200 and read.json()["state"] == "up"
    assert read.headers["x-facstat-stale"] == "store-unavailable"
    assert "110" in read.headers["warning"]
    summary = httpx.get(f"{api.url}/api/v1/status", timeout=30)
    assert summary.status_code == 200 and summary.headers["x-facstat-stale"]
    log = httpx.get(f"{api.url}/api/v1/events", timeout=30)
    assert log.status_code == 503 and log.headers["content-type"] == PROBLEM, log.text
    page = httpx.get(f"{api.url}/", timeout=30)  # the public page: last known states
    assert page.status_code == 200 and page.headers["x-facstat-stale"]
    assert "status store cannot be read" in page.text and 'id="r-home"' in page.text

    _pg("start")
    _wait_pg(up=True)
    deadline = time.monotonic() + 30
    while True:  # the pool reconnects on its own; the first tries may still fail
        r = post(api, "down", datetime.now(UTC))
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        assert r.status_code == 503, r.text
        time.sleep(0.5)
    assert r.status_code == 200, r.text
    assert post(api, "down", datetime.now(UTC) + timedelta(milliseconds=5)).status_code == 200
    fresh = httpx.get(f"{api.url}/api/v1/resources/home")
    assert fresh.json()["state"] == "down" and "x-facstat-stale" not in fresh.headers
    assert api.proc.poll() is None, "the same process recovered"
    events = httpx.get(f"{api.url}/api/v1/events", params={"resource": "home"}).json()["items"]
    assert [e["to_state"] for e in events][-2:] == ["up", "down"]
