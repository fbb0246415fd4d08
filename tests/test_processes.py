"""Two real `facstat serve` processes on one PostgreSQL database, as a facility runs them.

A write through either is seen by the next request through the other (statuses, ETags,
the IRI view, maintenance windows, tokens); the status engine's memory (hysteresis) is
shared through the store, so two rounds of observations through two processes count as
two rounds; an SSE stream on one process delivers a change written through the other.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import AUTH, OPERATOR, PG_ADMIN, _pg_url, free_port
from tests.procs import ApiProcess, api_env, spawn_api
from tests.sse import SseReader

DB = "facstat_processes_test"
ADMIN_TOKEN = "test-admin-token-for-two-processes-0123"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiProcess, ApiProcess]]:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {DB}"))
    logs = tmp_path_factory.mktemp("processes")
    env = api_env(_pg_url(DB), admin_token=ADMIN_TOKEN)
    started: list[ApiProcess] = []
    try:
        started.append(spawn_api(free_port(), env, logs / "a.log"))  # migrates the store
        started.append(spawn_api(free_port(), env, logs / "b.log"))
        yield started[0], started[1]
    finally:
        for p in started:
            p.stop()
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))
        admin.dispose()


_LAST = [datetime.now(UTC)]


def observe(api: ApiProcess, **states: str) -> None:
    """One round of observations, later than any before."""
    at = max(datetime.now(UTC), _LAST[0] + timedelta(milliseconds=10))
    _LAST[0] = at
    batch = [
        {"resource_id": rid, "observed_at": at.isoformat(), "source": "t", "state": st}
        for rid, st in states.items()
    ]
    r = httpx.post(f"{api.url}/api/v1/observations", json={"observations": batch}, headers=AUTH)
    assert r.status_code == 200, r.text


def state(api: ApiProcess, rid: str) -> str:
    r = httpx.get(f"{api.url}/api/v1/resources/{rid}")
    assert r.status_code == 200, r.text
    return str(r.json()["state"])


def test_a_status_written_through_one_process_is_read_at_once_through_the_other(
    pair: tuple[ApiProcess, ApiProcess],
) -> None:
    a, b = pair
    observe(a, home="up")
    observe(a, home="up")
    before = httpx.get(f"{b.url}/api/v1/resources/home")
    assert before.json()["state"] == "up"
    etag = before.headers["etag"]
    assert (
        httpx.get(f"{b.url}/api/v1/resources/home", headers={"If-None-Match": etag}).status_code
        == 304
    )
    observe(a, home="down")
    observe(a, home="down")
    after = httpx.get(f"{b.url}/api/v1/resources/home", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.json()["state"] == "down"
    assert after.headers["etag"] != etag
    summary = httpx.get(f"{b.url}/api/v1/status").json()
    assert summary["counts"]["down"] >= 1
    iri = httpx.get(f"{b.url}/api/v1/status/resources").json()
    assert {r["id"]: r["current_status"] for r in iri}["home"] == "down"
    events = httpx.get(f"{b.url}/api/v1/events", params={"resource": "home"}).json()["items"]
    assert events[-1]["to_state"] == "down"


def test_the_engines_memory_is_shared_two_rounds_through_two_processes_are_two_rounds(
    pair: tuple[ApiProcess, ApiProcess],
) -> None:
    a, b = pair
    observe(a, scratch="up")
    observe(b, scratch="up")
    assert state(a, "scratch") == state(b, "scratch") == "up"
    observe(a, scratch="down")  # the facility needs two consecutive rounds
    assert state(a, "scratch") == state(b, "scratch") == "up"
    observe(b, scratch="down")  # the second, through the other process
    assert state(a, "scratch") == state(b, "scratch") == "down"


def test_concurrent_writers_through_both_processes_lose_nothing(
    pair: tuple[ApiProcess, ApiProcess],
) -> None:
    import concurrent.futures

    a, b = pair
    count_before = _observations()

    def post(api: ApiProcess, i: int) -> int:
        at = datetime.now(UTC) + timedelta(microseconds=i)
        obs = {
            "resource_id": "gateway",
            "observed_at": at.isoformat(),
            "source": f"w{i}",
            "state": "up",
        }
        return httpx.post(
            f"{api.url}/api/v1/observations", json={"observations": [obs]}, headers=AUTH, timeout=30
        ).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda i: post(pair[i % 2], i), range(80)))
    assert codes == [200] * 80
    assert _observations() == count_before + 80
    assert state(a, "gateway") == state(b, "gateway") == "up"


def test_a_maintenance_window_made_through_one_process_is_in_the_others_answers_at_once(
    pair: tuple[ApiProcess, ApiProcess],
) -> None:
    a, b = pair
    start = datetime.now(UTC) - timedelta(minutes=1)
    window = {
        "title": "Broker failover test",
        "resources": ["broker"],
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
    }
    r = httpx.post(f"{b.url}/api/v1/maintenance", json=window, headers=OPERATOR)
    assert r.status_code == 201, r.text
    listed = httpx.get(f"{a.url}/api/v1/maintenance").json()["items"]
    assert r.json()["id"] in {w["id"] for w in listed}
    assert state(a, "broker") == "maintenance"
    ics = httpx.get(f"{a.url}/api/v1/maintenance.ics").text
    assert "Broker failover test" in ics


def test_a_token_revoked_through_one_process_is_refused_by_the_other(
    pair: tuple[ApiProcess, ApiProcess],
) -> None:
    a, b = pair
    made = httpx.post(
        f"{a.url}/api/v1/tokens",
        json={"name": "wf", "scopes": ["status:read-internal"], "expires_in": "1h"},
        headers=ADMIN,
    )
    assert made.status_code == 201, made.text
    token: dict[str, Any] = made.json()
    bearer = {"Authorization": f"Bearer {token['token']}"}
    assert httpx.get(f"{b.url}/api/v1/audit", headers=bearer).status_code == 403  # wrong scope
    internal = f"{b.url}/api/v1/subscriptions"  # needs status:read-internal
    assert httpx.get(internal, headers=bearer).status_code == 200
    revoked = httpx.delete(f"{a.url}/api/v1/tokens/{token['id']}", headers=ADMIN)
    assert revoked.status_code in (200, 204), revoked.text
    assert httpx.get(internal, headers=bearer).status_code == 401


def test_a_stream_on_one_process_delivers_a_change_written_through_the_other(
    pair: tuple[ApiProcess, ApiProcess], tmp_path: Path
) -> None:
    a, b = pair
    observe(a, batch="up")
    observe(a, batch="up")
    reader = SseReader(f"{b.url}/api/v1/stream?resources=batch&types=status").start()
    try:
        assert reader.status == 200, reader.error
        observe(a, batch="down")
        observe(a, batch="down")
        ev = reader.next(timeout=10)
        assert (ev.data["resource_id"], ev.data["to_state"]) == ("batch", "down")
    finally:
        reader.close()


def _observations() -> int:
    engine = sa.create_engine(_pg_url(DB))
    with engine.connect() as conn:
        n = int(conn.execute(sa.text("SELECT count(*) FROM observation")).scalar_one())
    engine.dispose()
    return n
