"""Readiness through the API: verdicts from real statuses, windows and measured values."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.api.helpers import PROBLEM, iso, observation, post
from tests.conftest import OPERATOR, Clock

URL = "/api/v1/readiness"
EVERYTHING = ("scratch", "home", "broker", "batch", "gateway")


def all_up(client: TestClient, clock: Clock, **values: dict[str, float]) -> None:
    for _ in range(2):
        post(
            client,
            *(observation(r, clock.now, "up", values=values.get(r, {})) for r in EVERYTHING),
        )
        clock.advance(5)


def ready(client: TestClient, **params: Any) -> dict[str, Any]:
    r = client.get(URL, params=params)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def lines(out: dict[str, Any]) -> dict[str, str]:
    return {ln["resource_id"]: ln["verdict"] for ln in out["lines"]}


def test_a_beamline_whose_resources_are_up_with_enough_nodes_is_at_most_at_risk_without_a_reservation(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock, batch={"nodes_usable": 10, "oldest_pending_age_seconds": 60})
    out = ready(client, beamline="bl1")
    assert set(lines(out)) == {"broker", "batch", "scratch", "home"}  # bundle + dependencies
    batch = next(ln for ln in out["lines"] if ln["resource_id"] == "batch")
    checks = {c["name"]: c["verdict"] for c in batch["checks"]}
    assert checks["nodes"] == "go" and checks["reservation"] == "at_risk"
    assert out["verdict"] == "at_risk"


def test_an_explicit_bundle_without_node_needs_is_go_when_everything_is_up(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    out = ready(client, need=["broker"])
    assert out["verdict"] == "go" and lines(out) == {"broker": "go", "scratch": "go"}


def test_maintenance_of_a_dependency_in_the_window_makes_it_no_go(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    start = clock.now + timedelta(hours=2)
    body = {
        "id": "scratch-fw",
        "title": "Scratch firmware",
        "resources": ["scratch"],
        "start": iso(start + timedelta(hours=1)),
        "end": iso(start + timedelta(hours=2)),
    }
    assert client.post("/api/v1/maintenance", json=body, headers=OPERATOR).status_code == 201
    out = ready(client, need=["broker"], start=iso(start), end=iso(start + timedelta(hours=8)))
    assert out["verdict"] == "no_go" and lines(out)["scratch"] == "no_go"
    later = ready(client, need=["broker"], start=iso(start + timedelta(hours=3)))
    assert later["verdict"] == "go"


def test_a_down_resource_makes_an_imminent_beamtime_no_go(client: TestClient, clock: Clock) -> None:
    all_up(client, clock)
    for _ in range(2):
        post(client, observation("broker", clock.now, "down"))
        clock.advance(5)
    out = ready(client, need=["broker"])
    assert out["verdict"] == "no_go" and lines(out)["broker"] == "no_go"


def test_too_little_measured_free_space_is_no_go(client: TestClient, clock: Clock) -> None:
    all_up(client, clock, scratch={"avail_bytes": 2e12})
    out = ready(client, need=["scratch:free_space_tb=5"])
    assert out["verdict"] == "no_go"
    assert ready(client, need=["scratch:free_space_tb=1"])["verdict"] == "go"


def test_bad_readiness_questions_get_a_400_naming_the_parameter(client: TestClient) -> None:
    for params, field in [
        ({}, "query.beamline"),
        ({"need": "scratch:parsecs=3"}, "query.need"),
        ({"need": "scratch:nodes=-1"}, "query.need"),
        (
            {"need": "broker", "start": "2026-12-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"},
            "query.end",
        ),
    ]:
        r = client.get(URL, params=params)
        assert r.status_code == 400 and r.headers["content-type"] == PROBLEM, (params, r.text)
        assert r.json()["errors"][0]["field"] == field
    assert client.get(URL, params={"beamline": "nope"}).status_code == 404
    assert client.get(URL, params={"need": "nope"}).status_code == 404


def test_a_job_that_would_run_into_the_next_maintenance_does_not_fit(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock, batch={"recent_start_wait_seconds": 1800})
    start = clock.now + timedelta(hours=10)
    body = {
        "id": "home-upgrade",
        "title": "Home upgrade",
        "resources": ["home"],  # batch depends on home
        "start": iso(start),
        "end": iso(start + timedelta(hours=4)),
    }
    client.post("/api/v1/maintenance", json=body, headers=OPERATOR)
    wt = "/api/v1/readiness/walltime"
    short = client.get(wt, params={"partition": "batch", "walltime": "PT6H"}).json()
    assert short["fits"] is True and short["next_maintenance"]["window_id"] == "home-upgrade"
    assert short["latest_submit"] == iso(start - timedelta(hours=6, minutes=30))
    long = client.get(wt, params={"partition": "batch", "walltime": 12 * 3600}).json()
    assert long["fits"] is False and "would not end before" in long["message"]
    assert client.get(wt, params={"partition": "nope", "walltime": 60}).status_code == 404
    assert client.get(wt, params={"partition": "batch", "walltime": "soon"}).status_code == 400
