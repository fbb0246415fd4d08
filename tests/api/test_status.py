"""`GET /api/v1/status`: the overall state and the roll-up per system, and how a degraded
dependency shows on the resources that depend on it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.helpers import (
    OST_REASON,
    accepted,
    all_up,
    degrade_scratch,
    observation,
    post,
    resource,
)
from tests.conftest import Clock


def status(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/v1/status")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def systems(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in body["systems"]}


def test_before_any_observation_the_facility_and_every_system_are_unknown(
    client: TestClient,
) -> None:
    body = status(client)
    assert body["state"] == "unknown"
    assert body["counts"] == {"unknown": 5}
    assert {s: v["state"] for s, v in systems(body).items()} == {
        "hpc": "unknown",
        "storage": "unknown",
        "streaming": "unknown",
    }


def test_before_any_observation_no_resource_is_up(client: TestClient) -> None:
    items = client.get("/api/v1/resources").json()["items"]
    assert [r["state"] for r in items] == ["unknown"] * 5
    assert all(r["reasons"][0]["code"] == "no_data" for r in items)


def test_when_every_resource_reports_up_the_facility_and_every_system_are_up(
    client: TestClient, clock: Clock
) -> None:
    clock.advance(10)
    all_up(client, clock)
    body = status(client)
    assert body["state"] == "up"
    assert body["counts"] == {"up": 5}
    by_id = systems(body)
    assert {s: v["state"] for s, v in by_id.items()} == {
        "hpc": "up",
        "storage": "up",
        "streaming": "up",
    }
    assert by_id["hpc"]["counts"] == {"up": 2}
    assert by_id["streaming"] == {
        "id": "streaming",
        "name": "Streaming",
        "kind": "service",
        "state": "up",
        "counts": {"up": 1},
    }


def test_a_degraded_scratch_degrades_every_system_that_depends_on_it(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    degrade_scratch(client, clock)
    body = status(client)
    assert body["state"] == "degraded"
    assert body["counts"] == {"degraded": 4, "up": 1}
    by_id = systems(body)
    assert by_id["storage"]["counts"] == {"degraded": 1, "up": 1}
    assert {s: v["state"] for s, v in by_id.items()} == {
        "hpc": "degraded",
        "storage": "degraded",
        "streaming": "degraded",
    }


def test_a_degraded_scratch_makes_its_dependents_degraded_naming_scratch_as_root_cause(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    degrade_scratch(client, clock)
    for rid in ("broker", "batch", "gateway"):  # gateway depends on scratch through broker
        body = resource(client, rid)
        assert body["state"] == "degraded", rid
        assert body["root_cause"] == {
            "resource_id": "scratch",
            "state": "degraded",
            "message": OST_REASON["message"],
        }
        dependency = [r for r in body["reasons"] if r["code"] == "dependency"]
        assert [r["message"] for r in dependency] == [
            "depends on scratch (degraded: 12 of 40 OSTs inactive)"
        ]


def test_the_degraded_resource_itself_keeps_its_own_reason_and_has_no_root_cause(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    degrade_scratch(client, clock)
    body = resource(client, "scratch")
    assert body["state"] == "degraded"
    assert body["reasons"] == [OST_REASON]
    assert body["root_cause"] is None


def test_a_system_is_down_only_when_all_of_its_resources_are_down(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    for rid in (
        "scratch",
        "scratch",
        "home",
    ):  # the second report turns scratch down, home's first is held
        clock.advance(5)
        accepted(post(client, observation(rid, clock.now, "down")))
    assert systems(status(client))["storage"]["state"] == "degraded"
    clock.advance(5)
    accepted(post(client, observation("home", clock.now, "down")))
    body = status(client)
    assert systems(body)["storage"] == {
        "id": "storage",
        "name": "Storage",
        "kind": "service",
        "state": "down",
        "counts": {"down": 2},
    }
    assert body["state"] == "degraded"  # the facility is not down while others still work


def test_the_status_version_grows_with_every_stored_batch(client: TestClient, clock: Clock) -> None:
    before = status(client)["version"]
    clock.advance(10)
    written = all_up(client, clock)
    assert written["version"] > before
    assert status(client)["version"] == written["version"]
