"""`POST /api/v1/observations`: the collector token, validation that names every bad field,
all-or-nothing batches, and the body size limit."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from tests.api.helpers import (
    OBSERVATIONS,
    accepted,
    all_up,
    assert_problem,
    events,
    observation,
    post,
    post_raw,
    resource,
)
from tests.conftest import AUTH, TOKEN, Clock, make_settings

# -- the collector token ----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": f"Basic {TOKEN}"}],
    ids=["no token", "wrong token", "not a bearer token"],
)
def test_a_post_without_the_collector_token_is_a_401_with_a_bearer_challenge(
    client: TestClient, runtime: Runtime, clock: Clock, headers: dict[str, str]
) -> None:
    payload = {"observations": [observation("scratch", clock.now)]}
    response = client.post(OBSERVATIONS, json=payload, headers=headers)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert runtime.store.count("observation") == 0


def test_a_post_with_the_collector_token_stores_the_batch_and_reports_its_effect(
    client: TestClient, runtime: Runtime, clock: Clock
) -> None:
    before = client.get("/api/v1/status").json()["version"]
    outcome = all_up(client, clock)
    assert outcome == {"accepted": 5, "transitions": 5, "version": before + 1, "duplicate": False}
    assert runtime.store.count("observation") == 5


# -- validation: every bad field named, nothing stored --------------------------------------


def one(**fields: Any) -> Callable[[datetime], dict[str, Any]]:
    """A batch of one scratch observation with `fields` set."""
    return lambda now: {"observations": [{**observation("scratch", now), **fields}]}


def without_state(now: datetime) -> dict[str, Any]:
    sample = observation("scratch", now)
    del sample["state"]
    return {"observations": [sample]}


BAD_BATCHES: dict[str, tuple[Callable[[datetime], dict[str, Any]], str]] = {
    "capacity over 1": (
        lambda now: {
            "observations": [observation("home", now), observation("scratch", now, capacity=2)]
        },
        "observations[1].capacity",
    ),
    "negative capacity": (one(capacity=-0.1), "observations[0].capacity"),
    "NaN capacity": (one(capacity=float("nan")), "observations[0].capacity"),
    "infinite capacity": (one(capacity=float("inf")), "observations[0].capacity"),
    "NaN value": (one(values={"ost_total": float("nan")}), "observations[0].values"),
    "infinite value": (one(values={"ost_total": float("-inf")}), "observations[0].values"),
    "unknown resource": (
        lambda now: {"observations": [observation("tape", now), observation("scratch", now)]},
        "observations[0].resource_id",
    ),
    "naive observed_at": (one(observed_at="2026-11-21T12:00:00"), "observations[0].observed_at"),
    "observed_at 6 minutes ahead": (
        lambda now: {"observations": [observation("scratch", now + timedelta(minutes=6))]},
        "observations[0].observed_at",
    ),
    "extra field": (one(colour="green"), "observations[0].colour"),
    "extra batch field": (lambda now: {**one()(now), "dry_run": True}, "dry_run"),
    "unknown state": (one(state="sunny"), "observations[0].state"),
    "missing state": (without_state, "observations[0].state"),
    "empty source": (one(source=""), "observations[0].source"),
    "bad reason code": (
        one(reasons=[{"code": "Bad Code", "message": "x"}]),
        "observations[0].reasons[0].code",
    ),
    "empty batch": (lambda now: {"observations": []}, "observations"),
}


def dumps(batch: dict[str, Any]) -> str:
    """JSON as a careless collector might send it: NaN and Infinity stay literal."""
    return json.dumps(batch, allow_nan=True)


@pytest.mark.parametrize("case", BAD_BATCHES)
def test_an_invalid_observation_is_a_422_problem_naming_the_field(
    client: TestClient, clock: Clock, case: str
) -> None:
    make, field = BAD_BATCHES[case]
    assert_problem(post_raw(client, dumps(make(clock.now))), 422, field)


def stored(client: TestClient, runtime: Runtime) -> tuple[Any, ...]:
    """Everything a stored observation would change."""
    version = client.get("/api/v1/status").json()["version"]
    count = runtime.store.count("observation")
    return version, count, events(client), resource(client, "gateway")


@pytest.mark.parametrize("case", [c for c in BAD_BATCHES if c != "empty batch"])
def test_a_batch_with_one_bad_observation_stores_nothing(
    client: TestClient, runtime: Runtime, clock: Clock, case: str
) -> None:
    all_up(client, clock)
    clock.advance(10)
    before = stored(client, runtime)
    batch = BAD_BATCHES[case][0](clock.now)
    good = observation("gateway", clock.now, "down")  # consecutive 1: would turn it down at once
    batch["observations"].insert(0, good)
    assert_problem(post_raw(client, dumps(batch)), 422)
    assert stored(client, runtime) == before
    assert resource(client, "gateway")["state"] == "up"


def test_one_answer_names_every_bad_field_of_the_batch(client: TestClient, clock: Clock) -> None:
    now = clock.now
    batch = [
        observation("scratch", now),
        observation("scratch", now, capacity=1.5),
        observation("home", now, observed_at="2026-11-21T12:00:00"),
        observation("broker", now, colour="green"),
        observation("batch", now, values={"nodes": float("nan")}),
    ]
    problem = assert_problem(
        post_raw(client, dumps({"observations": batch})),
        422,
        "observations[1].capacity",
        "observations[2].observed_at",
        "observations[3].colour",
        "observations[4].values",
    )
    assert "observations[0]" not in json.dumps(problem["errors"])


def test_one_answer_names_every_unknown_resource_and_every_future_time(
    client: TestClient, clock: Clock
) -> None:
    batch = [
        observation("tape", clock.now),
        observation("scratch", clock.now + timedelta(hours=1)),
        observation("robot", clock.now),
    ]
    problem = assert_problem(
        post(client, *batch),
        422,
        "observations[0].resource_id",
        "observations[1].observed_at",
        "observations[2].resource_id",
    )
    assert "nothing stored" in problem["detail"]


def test_one_answer_names_schema_errors_and_unknown_resources_together(
    client: TestClient, clock: Clock
) -> None:
    batch = [observation("tape", clock.now), observation("scratch", clock.now, capacity=2)]
    assert_problem(
        post(client, *batch), 422, "observations[0].resource_id", "observations[1].capacity"
    )


def test_an_observed_at_up_to_5_minutes_ahead_is_accepted_as_clock_skew(
    client: TestClient, clock: Clock
) -> None:
    accepted(post(client, observation("scratch", clock.now + timedelta(minutes=4))))
    assert resource(client, "scratch")["state"] == "up"


@pytest.mark.parametrize(
    "text", ['{"observations": [', "observations=1", "", "[]", "null", '"observations"']
)
def test_a_body_that_is_not_a_batch_object_is_a_422_problem_not_a_500(
    client: TestClient, runtime: Runtime, text: str
) -> None:
    assert_problem(post_raw(client, text), 422)
    assert runtime.store.count("observation") == 0


def test_two_down_reports_in_one_batch_count_as_consecutive(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    first, second = clock.now + timedelta(seconds=5), clock.now + timedelta(seconds=10)
    clock.advance(10)
    batch = [observation("scratch", second, "down"), observation("scratch", first, "down")]
    assert accepted(post(client, *batch))["transitions"] > 0
    assert resource(client, "scratch")["state"] == "down"


def test_a_report_older_than_the_last_accepted_one_changes_nothing(
    client: TestClient, clock: Clock
) -> None:
    clock.advance(60)
    accepted(post(client, observation("gateway", clock.now, "up")))
    stale = observation("gateway", clock.now - timedelta(seconds=20), "down")
    assert accepted(post(client, stale))["transitions"] == 0
    assert resource(client, "gateway")["state"] == "up"


# -- the body size limit -----------------------------------------------------------------------


@pytest.fixture
def small_runtime(db_url: str, clock: Clock) -> Iterator[Runtime]:
    rt = Runtime.build(make_settings(db_url, max_body_bytes=1000), clock=clock)
    yield rt
    rt.store.close()


@pytest.fixture
def small_client(small_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=small_runtime, start=False)) as c:
        yield c


def big_body(clock: Clock) -> bytes:
    text = dumps({"observations": [observation("scratch", clock.now, source="x" * 60)] * 12})
    assert len(text) > 1000
    return text.encode()


def test_a_body_over_max_body_bytes_is_a_413_problem_and_stores_nothing(
    small_client: TestClient, small_runtime: Runtime, clock: Clock
) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    response = small_client.post(OBSERVATIONS, content=big_body(clock), headers=headers)
    problem = assert_problem(response, 413)
    assert "1000 bytes" in problem["detail"]
    assert small_runtime.store.count("observation") == 0


def test_a_chunked_body_over_max_body_bytes_is_a_413_problem(
    small_client: TestClient, small_runtime: Runtime, clock: Clock
) -> None:
    data = big_body(clock)
    chunks = (data[i : i + 100] for i in range(0, len(data), 100))
    headers = {**AUTH, "Content-Type": "application/json"}
    response = small_client.post(OBSERVATIONS, content=chunks, headers=headers)
    assert_problem(response, 413)
    assert small_runtime.store.count("observation") == 0


def test_a_body_under_max_body_bytes_is_accepted(small_client: TestClient, clock: Clock) -> None:
    accepted(post(small_client, observation("scratch", clock.now)))


def test_a_token_without_the_observations_scope_is_forbidden_and_nothing_is_stored(
    client: TestClient, clock: Clock
) -> None:
    from tests.api.helpers import PROBLEM
    from tests.conftest import OPERATOR

    r = client.post(
        OBSERVATIONS, json={"observations": [observation("home", clock.now)]}, headers=OPERATOR
    )
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
    assert "observations:write" in r.json()["detail"]
    assert client.get("/api/v1/resources/home").json()["observed_at"] is None


def test_a_batch_sent_again_with_its_idempotency_key_is_acknowledged_but_not_stored_twice(
    client: TestClient, runtime: Runtime, clock: Clock
) -> None:
    body = {"observations": [observation("home", clock.now, "up")]}
    headers = {**AUTH, "Idempotency-Key": "0001763-4242-000001"}
    first = client.post("/api/v1/observations", json=body, headers=headers)
    assert first.status_code == 200 and first.json()["duplicate"] is False
    again = client.post("/api/v1/observations", json=body, headers=headers)
    assert again.status_code == 200, again.text
    assert again.json() == {**first.json(), "accepted": 0, "transitions": 0, "duplicate": True}
    assert runtime.store.count("observation") == 1
    other = client.post(
        "/api/v1/observations", json=body, headers={**AUTH, "Idempotency-Key": "b2"}
    )
    assert other.status_code == 200 and other.json()["duplicate"] is False
    assert runtime.store.count("observation") == 2
    bad = client.post(
        "/api/v1/observations", json=body, headers={**AUTH, "Idempotency-Key": "no spaces"}
    )
    assert bad.status_code == 400 and "idempotency-key" in bad.text.lower()
    assert runtime.store.count("observation") == 2
