"""Conditional reads: every read endpoint sends an ETag (and Last-Modified) and answers
`304 Not Modified` with no body while the client's copy is current."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import accepted, all_up, iso, observation, post
from tests.conftest import T0, Clock

READS = [
    "/api/v1/status",
    "/api/v1/resources",
    "/api/v1/resources?type=service&limit=1",
    f"/api/v1/resources?at={iso(T0 + timedelta(seconds=5))}",
    "/api/v1/resources/gateway",
    f"/api/v1/resources/gateway?at={iso(T0 + timedelta(seconds=5))}",
    "/api/v1/resources/gateway/history",
    "/api/v1/events",
    "/api/v1/events?resource=gateway",
]
CURRENT = [path for path in READS if "at=" not in path]  # reads that follow new data
HISTORY = "/api/v1/resources/gateway/history"


@pytest.fixture
def settled(client: TestClient, clock: Clock) -> Clock:
    """Every resource reported up at T0+10 s; now is T0+20 s."""
    clock.advance(10)
    all_up(client, clock)
    clock.advance(10)
    return clock


def get(client: TestClient, path: str, **headers: str) -> httpx.Response:
    """`if_none_match="x"` sends `If-None-Match: x`."""
    return client.get(path, headers={k.replace("_", "-"): v for k, v in headers.items()})


def etag_of(client: TestClient, path: str) -> str:
    response = get(client, path)
    assert response.status_code == 200, response.text
    etag: str = response.headers["etag"]
    return etag


def assert_not_modified(response: httpx.Response, etag: str) -> None:
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag


@pytest.mark.parametrize("path", READS)
def test_sending_the_etag_back_gets_a_304_with_no_body(
    client: TestClient, settled: Clock, path: str
) -> None:
    first = get(client, path)
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert first.headers["cache-control"] == "no-cache"
    assert_not_modified(get(client, path, if_none_match=etag), etag)


@pytest.mark.parametrize("path", READS)
def test_the_same_state_read_twice_has_the_same_etag(
    client: TestClient, settled: Clock, path: str
) -> None:
    assert etag_of(client, path) == etag_of(client, path)


@pytest.mark.parametrize(
    "header",
    ["W/{etag}", '"other", {etag}', "*"],
    ids=["weak", "in a list", "any"],
)
def test_if_none_match_accepts_weak_tags_lists_and_the_wildcard(
    client: TestClient, settled: Clock, header: str
) -> None:
    etag = etag_of(client, "/api/v1/status")
    response = get(client, "/api/v1/status", if_none_match=header.format(etag=etag))
    assert_not_modified(response, etag)


def test_an_etag_that_does_not_match_gets_the_full_body(client: TestClient, settled: Clock) -> None:
    response = get(client, "/api/v1/status", if_none_match='"not-the-etag"')
    assert response.status_code == 200
    assert response.json()["state"] == "up"


def test_different_queries_have_different_etags(client: TestClient, settled: Clock) -> None:
    tags = {etag_of(client, p) for p in READS}
    assert len(tags) == len(READS)


@pytest.mark.parametrize("path", CURRENT)
def test_a_new_observation_that_changes_state_changes_the_etag(
    client: TestClient, settled: Clock, path: str
) -> None:
    etag = etag_of(client, path)
    accepted(post(client, observation("gateway", settled.now, "down")))
    response = get(client, path, if_none_match=etag)
    assert response.status_code == 200
    assert response.headers["etag"] != etag


@pytest.mark.parametrize("path", ["/api/v1/status", "/api/v1/resources/scratch"])
def test_a_new_observation_of_the_same_state_changes_the_etag(
    client: TestClient, settled: Clock, path: str
) -> None:
    etag = etag_of(client, path)
    accepted(post(client, observation("scratch", settled.now)))  # new observed_at and version
    assert get(client, path, if_none_match=etag).status_code == 200


@pytest.mark.parametrize("path", CURRENT)
def test_a_resource_going_stale_changes_the_etag(
    client: TestClient, settled: Clock, path: str
) -> None:
    etag = etag_of(client, path)
    settled.advance(21)  # gateway's 30 s have passed; nobody posted anything
    response = get(client, path, if_none_match=etag)
    assert response.status_code == 200
    assert response.headers["etag"] != etag


def test_a_past_state_keeps_its_etag_when_new_data_arrives(
    client: TestClient, settled: Clock
) -> None:
    path = f"/api/v1/resources/gateway?at={iso(T0 + timedelta(seconds=15))}"
    etag = etag_of(client, path)
    accepted(post(client, observation("gateway", settled.now, "down")))
    assert_not_modified(get(client, path, if_none_match=etag), etag)


# -- Last-Modified / If-Modified-Since ---------------------------------------------------


@pytest.mark.parametrize("path", CURRENT)
def test_sending_last_modified_back_as_if_modified_since_gets_a_304(
    client: TestClient, settled: Clock, path: str
) -> None:
    first = get(client, path)
    last_modified = first.headers.get("last-modified")
    assert last_modified is not None
    assert parsedate_to_datetime(last_modified) == settled.now - timedelta(seconds=10)
    response = get(client, path, if_modified_since=last_modified)
    assert response.status_code == 304
    assert response.content == b""


@pytest.mark.parametrize("path", CURRENT)
def test_a_change_after_if_modified_since_gets_the_full_body(
    client: TestClient, settled: Clock, path: str
) -> None:
    last_modified = get(client, path).headers.get("last-modified", "")
    accepted(post(client, observation("gateway", settled.now, "down")))
    response = get(client, path, if_modified_since=last_modified)
    assert response.status_code == 200
    assert parsedate_to_datetime(response.headers["last-modified"]) == settled.now


def test_a_stale_transition_moves_last_modified(client: TestClient, settled: Clock) -> None:
    last_modified = get(client, "/api/v1/status").headers["last-modified"]
    settled.advance(21)
    response = get(client, "/api/v1/status", if_modified_since=last_modified)
    assert response.status_code == 200
    assert response.headers["last-modified"] == format_datetime(settled.now, usegmt=True)


@pytest.mark.parametrize("since", ["yesterday", "", "Sat, 21 Nov 2026 12:00:00"])
def test_an_unreadable_if_modified_since_gets_the_full_body(
    client: TestClient, settled: Clock, since: str
) -> None:
    assert get(client, "/api/v1/status", if_modified_since=since).status_code == 200


def test_if_none_match_wins_over_if_modified_since(client: TestClient, settled: Clock) -> None:
    current = get(client, "/api/v1/status")
    response = get(
        client,
        "/api/v1/status",
        if_none_match='"not-the-etag"',
        if_modified_since=current.headers["last-modified"],
    )
    assert response.status_code == 200
