"""The service describing itself: Prometheus exposition on `/metrics`, `/healthz`, the
OpenAPI document, and problem bodies for requests no route answers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.routes import events, meta, observations, resources, status
from tests.api.helpers import (
    RESOURCES,
    accepted,
    all_up,
    assert_problem,
    degrade_scratch,
    observation,
    post,
)
from tests.conftest import Clock, assert_promtool_accepts

STATES = ("up", "degraded", "down", "unknown", "maintenance")
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def labels_of(rid: str) -> dict[str, str]:
    return {
        "scratch": {"resource": "scratch", "system": "storage", "type": "storage:filesystem"},
        "home": {"resource": "home", "system": "storage", "type": "storage:filesystem"},
        "broker": {"resource": "broker", "system": "streaming", "type": "urn:facstat:dsn"},
        "batch": {"resource": "batch", "system": "hpc", "type": "urn:facstat:partition"},
        "gateway": {"resource": "gateway", "system": "hpc", "type": "service"},
    }[rid]


def state_of(samples: Samples, rid: str) -> dict[str, float | None]:
    name = "facstat_resource_state"
    return {s: value(samples, name, **labels_of(rid), state=s) for s in STATES}


def one_hot(state: str) -> dict[str, float | None]:
    return {s: 1.0 if s == state else 0.0 for s in STATES}


# -- /metrics -----------------------------------------------------------------------------


def test_before_any_observation_every_resource_exports_state_unknown(client: TestClient) -> None:
    samples = scrape(client)
    for rid in RESOURCES:
        assert state_of(samples, rid) == one_hot("unknown"), rid
    assert not [k for k in samples if k[0] == "facstat_resource_capacity_ratio"]


def test_the_exposition_has_one_sample_per_resource_and_state(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    text = client.get("/metrics").text
    sample = (
        'facstat_resource_state{resource="scratch",state="up",'
        'system="storage",type="storage:filesystem"} 1.0'
    )
    assert sample in text.splitlines()


def test_the_state_gauge_follows_the_effective_state(client: TestClient, clock: Clock) -> None:
    all_up(client, clock)
    degrade_scratch(client, clock)
    samples = scrape(client)
    assert state_of(samples, "scratch") == one_hot("degraded")
    assert state_of(samples, "gateway") == one_hot("degraded")
    assert state_of(samples, "home") == one_hot("up")


def test_capacity_and_observation_age_are_exported_per_resource(
    client: TestClient, clock: Clock
) -> None:
    accepted(post(client, observation("scratch", clock.now, capacity=0.95)))
    clock.advance(30)
    accepted(post(client, observation("home", clock.now)))
    clock.advance(12)
    samples = scrape(client)
    scratch, home = labels_of("scratch"), labels_of("home")
    assert value(samples, "facstat_resource_capacity_ratio", **scratch) == 0.95
    assert value(samples, "facstat_resource_capacity_ratio", **home) is None
    assert value(samples, "facstat_resource_observation_age_seconds", **scratch) == 42.0
    assert value(samples, "facstat_resource_observation_age_seconds", **home) == 12.0


def test_a_scrape_applies_staleness_like_any_read(client: TestClient, clock: Clock) -> None:
    all_up(client, clock)
    clock.advance(31)
    samples = scrape(client)
    assert state_of(samples, "gateway") == one_hot("unknown")
    assert state_of(samples, "scratch") == one_hot("up")


def test_the_store_version_and_ingested_count_match_the_api(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    samples = scrape(client)
    version = client.get("/api/v1/status").json()["version"]
    assert value(samples, "facstat_store_version") == version
    assert value(samples, "facstat_observations_ingested_total") == 5.0


def test_http_requests_are_counted_per_method_route_template_and_status(
    client: TestClient,
) -> None:
    for _ in range(3):
        client.get("/api/v1/status")
    client.get("/api/v1/resources/nope")
    client.get("/api/v1/resources/scratch")
    samples = scrape(client)
    name = "facstat_http_requests_total"
    route = "/api/v1/resources/{resource_id}"
    assert value(samples, name, method="GET", route="/api/v1/status", status="200") == 3.0
    assert value(samples, name, method="GET", route=route, status="404") == 1.0
    assert value(samples, name, method="GET", route=route, status="200") == 1.0


def test_request_durations_are_a_histogram_per_route(client: TestClient) -> None:
    client.get("/api/v1/status")
    samples = scrape(client)
    name = "facstat_http_request_duration_seconds_count"
    assert value(samples, name, method="GET", route="/api/v1/status") == 1.0


# -- health, OpenAPI, unrouted requests ------------------------------------------------------


def test_healthz_answers_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def status_api_routes() -> list[APIRoute]:
    modules = (status, resources, events, observations, meta)
    routes = [r for m in modules for r in m.router.routes if isinstance(r, APIRoute)]
    return [r for r in routes if r.include_in_schema]


def test_the_openapi_document_lists_every_route_with_a_summary(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    routes = status_api_routes()
    assert len(routes) == 8
    for route in routes:
        for method in route.methods:
            operation = paths[route.path][method.lower()]
            assert operation.get("summary"), f"{method} {route.path} has no summary"


def test_the_openapi_document_names_the_service_and_its_version(client: TestClient) -> None:
    info = client.get("/openapi.json").json()["info"]
    assert (info["title"], info["version"]) == ("facstat", "0.1.0")
    assert "problem" in info["description"]


def test_the_openapi_document_describes_query_errors_as_400_problems(client: TestClient) -> None:
    paths: dict[str, Any] = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/resources", "/api/v1/resources/{resource_id}", "/api/v1/events"):
        responses = paths[path]["get"]["responses"]
        assert "422" not in responses, path
        assert "application/problem+json" in responses["400"]["content"], path


@pytest.mark.parametrize(
    ("method", "path", "status_code"),
    [("GET", "/api/v1/nothing", 404), ("DELETE", "/api/v1/status", 405)],
)
def test_a_request_no_route_answers_gets_a_problem_body(
    client: TestClient, method: str, path: str, status_code: int
) -> None:
    assert_problem(client.request(method, path), status_code)


def test_the_api_exposition_passes_promtool_check_metrics(client: TestClient, clock: Clock) -> None:
    all_up(client, clock)
    client.get("/api/v1/status")
    assert_promtool_accepts(client.get("/metrics").text)
