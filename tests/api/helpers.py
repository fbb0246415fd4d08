"""Observation payloads for the API tests, and the checks every 4xx answer must pass."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.conftest import AUTH, Clock

RESOURCES = ("batch", "broker", "gateway", "home", "scratch")  # sorted, as the API lists them
OBSERVATIONS = "/api/v1/observations"
PROBLEM = "application/problem+json"
OST_REASON = {"code": "osts_inactive", "message": "12 of 40 OSTs inactive"}


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def observation(
    resource_id: str,
    at: datetime,
    state: str = "up",
    **fields: Any,
) -> dict[str, Any]:
    """One observation as a collector sends it, seen `at`; `fields` adds or overrides keys."""
    return {
        "resource_id": resource_id,
        "observed_at": iso(at),
        "source": "test",
        "state": state,
        **fields,
    }


def post(client: TestClient, *observations: dict[str, Any]) -> httpx.Response:
    return client.post(OBSERVATIONS, json={"observations": list(observations)}, headers=AUTH)


def post_raw(client: TestClient, text: str) -> httpx.Response:
    headers = {**AUTH, "Content-Type": "application/json"}
    return client.post(OBSERVATIONS, content=text.encode(), headers=headers)


def accepted(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def all_up(client: TestClient, clock: Clock) -> dict[str, Any]:
    """Every resource of the test facility reports `up` now."""
    return accepted(post(client, *(observation(r, clock.now) for r in RESOURCES)))


def degrade_scratch(client: TestClient, clock: Clock) -> None:
    """Two `degraded` reports 10 s apart: enough for scratch's hysteresis (consecutive 2)."""
    for _ in range(2):
        clock.advance(10)
        sample = observation("scratch", clock.now, "degraded", capacity=0.7, reasons=[OST_REASON])
        accepted(post(client, sample))


def resource(client: TestClient, resource_id: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/resources/{resource_id}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def events(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/events", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def assert_problem(response: httpx.Response, status: int, *fields: str) -> dict[str, Any]:
    """An RFC 9457 problem body with `status` that names at least `fields`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()
    assert body["status"] == status
    assert body["instance"] == response.request.url.path
    named = {e["field"] for e in body.get("errors", [])}
    assert set(fields) <= named, f"{fields} not all in {named}"
    return body
