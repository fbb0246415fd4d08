"""Rate limits: token buckets per client address and per credential, 429 problems with
Retry-After, loopback not exempt, 0 disables, defaults generous enough for polling."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.ratelimit import Buckets
from api.runtime import Runtime
from facility.audit_store import AuditLog
from facility.settings import Settings
from tests.api.helpers import PROBLEM
from tests.conftest import (
    AUTH,
    OPERATOR,
    Clock,
    free_port,
    make_settings,
    start_server,
    stop_server,
)

STATUS = "/api/v1/status"


class Ticks:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """Limits do not touch the store: SQLite only."""
    return f"sqlite:///{tmp_path / 'facstat.db'}"


@pytest.fixture
def rt(db_url: str, clock: Clock) -> Iterator[Runtime]:
    settings = make_settings(db_url, rate_limit_per_minute=60, rate_limit_burst=3)
    runtime = Runtime.build(settings, clock=clock)
    yield runtime
    runtime.store.close()


@pytest.fixture
def app(rt: Runtime) -> FastAPI:
    return create_app(runtime=rt, start=False)


@contextmanager
def client_at(app: FastAPI, address: str) -> Iterator[TestClient]:
    with TestClient(app, client=(address, 40000)) as c:
        yield c


# -- the buckets, on a hand-moved clock ----------------------------------------------------


def test_a_bucket_allows_its_burst_then_one_request_per_refill_interval() -> None:
    ticks = Ticks()
    b = Buckets(per_minute=60, burst=3, now=ticks)
    assert [b.take(["a"]) for _ in range(3)] == [0, 0, 0]
    assert b.take(["a"]) == pytest.approx(1.0)
    ticks.t += 0.5
    assert b.take(["a"]) == pytest.approx(0.5)
    ticks.t += 0.5
    assert b.take(["a"]) == 0 and b.take(["a"]) > 0


def test_a_refused_request_takes_from_no_bucket() -> None:
    b = Buckets(per_minute=60, burst=1, now=Ticks())
    assert b.take(["addr", "cred-1"]) == 0
    assert b.take(["addr", "cred-2"]) > 0  # the address is empty …
    assert b.take(["other", "cred-2"]) == 0  # … so cred-2 still has its token


def test_the_least_recently_used_bucket_goes_first_when_there_are_too_many() -> None:
    b = Buckets(per_minute=60, burst=1, now=Ticks(), max_keys=2)
    b.take(["a"])
    b.take(["b"])
    b.take(["c"])
    assert b.take(["b"]) > 0 and b.take(["a"]) == 0  # a was forgotten (and was full again)


# -- the middleware --------------------------------------------------------------------------


def test_over_the_limit_a_client_gets_a_429_problem_with_retry_after(app: FastAPI) -> None:
    with client_at(app, "10.0.0.1") as c:
        assert [c.get(STATUS).status_code for _ in range(3)] == [200, 200, 200]
        r = c.get(STATUS)
    assert r.status_code == 429 and r.headers["content-type"] == PROBLEM
    assert r.headers["retry-after"] == "1"
    body = r.json()
    assert body["status"] == 429 and body["title"] == "Too Many Requests"
    assert body["instance"] == STATUS and "60 requests per minute" in body["detail"]


def test_each_client_address_has_its_own_bucket(app: FastAPI) -> None:
    with client_at(app, "10.0.0.1") as a, client_at(app, "10.0.0.2") as b:
        assert [a.get(STATUS).status_code for _ in range(4)][-1] == 429
        assert b.get(STATUS).status_code == 200


def test_one_token_is_limited_across_addresses(app: FastAPI) -> None:
    with client_at(app, "10.0.0.1") as a, client_at(app, "10.0.0.2") as b:
        assert [a.get(STATUS, headers=OPERATOR).status_code for _ in range(2)] == [200, 200]
        assert b.get(STATUS, headers=OPERATOR).status_code == 200
        assert b.get(STATUS, headers=OPERATOR).status_code == 429  # the token is spent
        assert b.get(STATUS, headers=AUTH).status_code == 200  # the address is not


def test_made_up_tokens_do_not_refill_an_address(app: FastAPI) -> None:
    with client_at(app, "10.0.0.3") as c:
        codes = [c.get(STATUS, headers={"Authorization": f"Bearer x{i}"}).status_code
                 for i in range(4)]  # fmt: skip
    assert codes == [200, 200, 200, 429]


def test_writes_over_the_limit_are_refused_and_not_audited(app: FastAPI, rt: Runtime) -> None:
    with client_at(app, "10.0.0.4") as c:
        for _ in range(3):
            c.get(STATUS)
        r = c.post("/api/v1/maintenance", json={}, headers=OPERATOR)
    assert r.status_code == 429
    assert AuditLog(rt.store.engine).verify().count == 0


def test_loopback_is_not_exempt(rt: Runtime) -> None:
    live = start_server(rt, free_port())  # its readiness check takes one request
    try:
        codes = [httpx.get(live.url + STATUS).status_code for _ in range(4)]
    finally:
        stop_server(live)
    assert codes[-1] == 429 and 429 in codes


def test_a_limit_of_zero_turns_limiting_off(db_url: str, clock: Clock) -> None:
    rt = Runtime.build(make_settings(db_url, rate_limit_per_minute=0, rate_limit_burst=1), clock)
    try:
        with TestClient(create_app(runtime=rt, start=False)) as c:
            assert {c.get(STATUS).status_code for _ in range(50)} == {200}
    finally:
        rt.store.close()


def test_the_defaults_allow_twenty_requests_a_second_with_bursts_of_300() -> None:
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (s.rate_limit_per_minute, s.rate_limit_burst) == (1200, 300)
