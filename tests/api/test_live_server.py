"""The status API over real HTTP: a uvicorn server in a thread, spoken to with httpx."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.helpers import OBSERVATIONS, RESOURCES, assert_problem, observation
from tests.conftest import AUTH, Clock, LiveServer


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=10) as c:
        yield c


def test_a_posted_batch_shows_in_the_status_served_over_http(
    http: httpx.Client, clock: Clock
) -> None:
    clock.advance(10)
    batch = {"observations": [observation(r, clock.now) for r in RESOURCES]}
    posted = http.post(OBSERVATIONS, json=batch, headers=AUTH)
    assert posted.status_code == 200, posted.text
    assert posted.json()["accepted"] == 5
    body = http.get("/api/v1/status").json()
    assert (body["state"], body["counts"]) == ("up", {"up": 5})


def test_a_conditional_get_over_http_is_answered_304_until_the_state_changes(
    http: httpx.Client, clock: Clock
) -> None:
    first = http.get("/api/v1/resources/scratch")
    etag = first.headers["etag"]
    again = http.get("/api/v1/resources/scratch", headers={"If-None-Match": etag})
    assert (again.status_code, again.content) == (304, b"")
    batch = {"observations": [observation("scratch", clock.now)]}
    assert http.post(OBSERVATIONS, json=batch, headers=AUTH).status_code == 200
    changed = http.get("/api/v1/resources/scratch", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json()["state"] == "up"


def test_a_post_without_a_token_is_refused_over_http(http: httpx.Client, clock: Clock) -> None:
    batch = {"observations": [observation("scratch", clock.now)]}
    response = http.post(OBSERVATIONS, json=batch)
    assert_problem(response, 401)
    assert "www-authenticate" in response.headers


def test_a_declared_body_over_the_limit_is_refused_over_http(
    http: httpx.Client, live_server: LiveServer
) -> None:
    limit = live_server.runtime.settings.max_body_bytes
    headers = {**AUTH, "Content-Type": "application/json"}
    response = http.post(OBSERVATIONS, content=b" " * (limit + 1), headers=headers)
    assert_problem(response, 413)


def test_metrics_are_scraped_over_http(http: httpx.Client) -> None:
    http.get("/api/v1/status")
    text = http.get("/metrics").text
    assert (
        'facstat_http_requests_total{method="GET",route="/api/v1/status",status="200"} 1.0' in text
    )
