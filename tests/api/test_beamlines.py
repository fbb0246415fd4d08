"""Beamlines, imported beamtime schedules, and maintenance-vs-beamtime conflicts."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi.testclient import TestClient

from tests.api.helpers import PROBLEM, iso
from tests.conftest import OPERATOR, Clock

SCHEDULE = """
beamtimes:
  - id: bl1-dec
    beamline: bl1
    title: Battery cathodes
    start: 2026-12-01T08:00:00+00:00
    end: 2026-12-03T08:00:00+00:00
  - beamline: bl1
    title: Later run
    start: 2027-01-10T08:00:00+00:00
    end: 2027-01-11T08:00:00+00:00
"""


def import_schedule(client: TestClient, body: str, source: str = "ls") -> httpx.Response:
    return client.post(
        "/api/v1/beamtimes/import",
        params={"source": source},
        content=body.encode(),
        headers={**OPERATOR, "Content-Type": "application/yaml"},
    )


def scratch_window(client: TestClient, start: str, end: str) -> None:
    body = {
        "id": "scratch-dec",
        "title": "Scratch upgrade",
        "resources": ["scratch"],
        "start": start,
        "end": end,
    }
    assert client.post("/api/v1/maintenance", json=body, headers=OPERATOR).status_code == 201


def test_beamlines_list_their_bundle_and_what_it_needs_through_dependencies(
    client: TestClient,
) -> None:
    items = client.get("/api/v1/beamlines").json()["items"]
    assert [b["id"] for b in items] == ["bl1"]
    bl1 = items[0]
    assert bl1["facility"] == "ls" and [n["resource"] for n in bl1["bundle"]] == ["broker", "batch"]
    assert bl1["needs"] == ["batch", "broker", "home", "scratch"]  # via depends_on
    assert bl1["beamtimes"] == []


def test_an_imported_schedule_shows_its_beamtimes_on_the_beamline(client: TestClient) -> None:
    r = import_schedule(client, SCHEDULE)
    assert r.status_code == 200, r.text
    assert r.json() == {"source": "schedule:ls", "windows": 0, "beamtimes": 2}
    bl1 = client.get("/api/v1/beamlines/bl1").json()
    assert [b["title"] for b in bl1["beamtimes"]] == ["Battery cathodes", "Later run"]
    assert bl1["beamtimes"][1]["id"].startswith("bl1-2027")


def test_maintenance_on_a_dependency_during_a_beamtime_is_a_conflict_shown_everywhere(
    client: TestClient, clock: Clock
) -> None:
    import_schedule(client, SCHEDULE)
    scratch_window(client, "2026-12-02T06:00:00Z", "2026-12-02T12:00:00Z")
    conflicts = client.get("/api/v1/conflicts").json()["items"]
    assert len(conflicts) == 1
    c = conflicts[0]
    assert (c["beamtime_id"], c["window_id"], c["resources"]) == (
        "bl1-dec",
        "scratch-dec",
        ["scratch"],
    )
    assert (c["start"], c["end"]) == ("2026-12-02T06:00:00Z", "2026-12-02T12:00:00Z")
    window = client.get("/api/v1/maintenance/scratch-dec").json()
    assert [x["id"] for x in window["conflicts"]] == [c["id"]]
    bl1 = client.get("/api/v1/beamlines/bl1").json()
    assert [x["id"] for x in bl1["beamtimes"][0]["conflicts"]] == [c["id"]]
    assert bl1["beamtimes"][1]["conflicts"] == []


def test_a_cancelled_window_is_no_longer_a_conflict(client: TestClient) -> None:
    import_schedule(client, SCHEDULE)
    scratch_window(client, "2026-12-02T06:00:00Z", "2026-12-02T12:00:00Z")
    client.post("/api/v1/maintenance/scratch-dec/cancel", headers=OPERATOR)
    assert client.get("/api/v1/conflicts").json()["items"] == []


def test_a_window_outside_every_beamtime_is_no_conflict(client: TestClient, clock: Clock) -> None:
    import_schedule(client, SCHEDULE)
    scratch_window(client, iso(clock.now + timedelta(hours=1)), iso(clock.now + timedelta(hours=2)))
    assert client.get("/api/v1/conflicts").json()["items"] == []


def test_a_bad_schedule_is_refused_naming_the_entry_and_keeps_the_old_one(
    client: TestClient,
) -> None:
    import_schedule(client, SCHEDULE)
    bad = SCHEDULE.replace("beamline: bl1\n    title: Later", "beamline: bl9\n    title: Later")
    r = import_schedule(client, bad)
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    error = r.json()["errors"][0]
    assert error["field"].startswith("beamtimes[1]") and "bl9" in r.text
    assert len(client.get("/api/v1/beamlines/bl1").json()["beamtimes"]) == 2


def test_importing_a_schedule_needs_the_operator_token(client: TestClient) -> None:
    r = client.post("/api/v1/beamtimes/import", params={"source": "ls"}, content=SCHEDULE.encode())
    assert r.status_code == 401
    assert client.get("/api/v1/beamlines/bl1").json()["beamtimes"] == []


def test_an_unknown_beamline_is_a_404_problem(client: TestClient) -> None:
    r = client.get("/api/v1/beamlines/nope")
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
