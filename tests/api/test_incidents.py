"""Incidents through the API: correlation, views, staff actions, runbooks, on-call,
alerts from Alertmanager, SLA burn and beamtime conflicts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from tests.api.helpers import PROBLEM, iso, observation, post
from tests.conftest import AUTH, DATA, OPERATOR, SMALL, Clock, make_settings

AM_PAYLOAD = DATA / "alertmanager" / "firing.json"


@pytest.fixture
def rt(db_url: str, clock: Clock, tmp_path: Path) -> Iterator[Runtime]:
    facility = tmp_path / "facility.yaml"
    policy = DATA / "incidents" / "incidents.yaml"
    facility.write_text(SMALL.read_text() + f"\noperations:\n  incidents: {policy}\n")
    runtime = Runtime.build(make_settings(db_url, facility=facility), clock=clock)
    yield runtime
    runtime.store.close()


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=rt, start=False)) as c:
        yield c


def report(client: TestClient, clock: Clock, **states: str) -> None:
    """Two rounds (the facility's hysteresis) of the given states."""
    for _ in range(2):
        post(client, *(observation(rid, clock.now, st) for rid, st in states.items()))
        clock.advance(5)


def everything_up(client: TestClient, clock: Clock) -> None:
    report(client, clock, scratch="up", home="up", broker="up", batch="up", gateway="up")


def incidents(client: TestClient, internal: bool = True, **params: Any) -> list[dict[str, Any]]:
    r = client.get("/api/v1/incidents", params=params, headers=OPERATOR if internal else {})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def test_a_scratch_outage_is_one_incident_listing_every_dependent(
    client: TestClient, clock: Clock
) -> None:
    everything_up(client, clock)
    assert incidents(client) == []
    report(client, clock, scratch="down")
    (inc,) = incidents(client)
    assert inc["subject"] == "scratch" and inc["kind"] == "outage" and inc["status"] == "triggered"
    impacted = {i["resource_id"] for i in inc["impacted"]}
    assert impacted == {"scratch", "broker", "batch", "gateway"}
    assert inc["team"] == "storage" and inc["priority"] in ("P1", "P2")
    assert (inc["priority_explanation"]["factors"] and "filesystem-io" in inc["runbooks"]) or inc[
        "runbooks"
    ]


def test_recovery_resolves_the_incident_and_planned_maintenance_opens_none(
    client: TestClient, clock: Clock
) -> None:
    everything_up(client, clock)
    report(client, clock, scratch="down")
    report(client, clock, scratch="up")
    (inc,) = incidents(client)
    assert inc["status"] == "resolved" and inc["resolved_by"] == "facstat"
    window = {
        "id": "home-fw", "title": "Home firmware", "resources": ["home"],
        "start": iso(clock.now - timedelta(minutes=1)), "end": iso(clock.now + timedelta(hours=1)),
    }  # fmt: skip
    assert client.post("/api/v1/maintenance", json=window, headers=OPERATOR).status_code == 201
    report(client, clock, home="down")
    assert len(incidents(client)) == 1, "maintenance-down pages nobody"


def test_the_public_view_hides_internal_notes_team_and_pages(
    client: TestClient, clock: Clock
) -> None:
    everything_up(client, clock)
    report(client, clock, scratch="down")
    (inc,) = incidents(client)
    url = f"/api/v1/incidents/{inc['id']}"
    public = {
        "text": "Scratch is being repaired; writes fail meanwhile.",
        "public": True,
        "actor": "cat",
    }
    internal = {"text": "OSS03 kernel panic, vendor case 4711", "actor": "cat"}
    assert client.post(f"{url}/notes", json=public, headers=OPERATOR).status_code == 200
    assert client.post(f"{url}/notes", json=internal, headers=OPERATOR).status_code == 200
    anon = client.get(url).json()
    texts = [e["text"] for e in anon["timeline"]]
    assert public["text"] in texts and internal["text"] not in texts
    assert "team" not in anon and "pages" not in anon and "priority_explanation" not in anon
    staff = client.get(url, headers=OPERATOR).json()
    assert internal["text"] in [e["text"] for e in staff["timeline"]] and staff["team"] == "storage"


def test_the_lifecycle_is_recorded_with_actors_and_refuses_wrong_steps(
    client: TestClient, clock: Clock
) -> None:
    everything_up(client, clock)
    report(client, clock, scratch="down")
    (inc,) = incidents(client)
    url = f"/api/v1/incidents/{inc['id']}"
    assert client.post(f"{url}/ack").status_code == 401
    ack = client.post(f"{url}/ack", json={"actor": "cat"}, headers=OPERATOR)
    assert ack.status_code == 200 and ack.json()["acknowledged_by"] == "cat"
    again = client.post(f"{url}/ack", json={"actor": "cat"}, headers=OPERATOR)
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    assert (
        client.post(
            f"{url}/mitigate", json={"actor": "dan", "note": "failover"}, headers=OPERATOR
        ).json()["status"]
        == "mitigated"
    )
    done = client.post(f"{url}/resolve", json={"actor": "dan"}, headers=OPERATOR).json()
    assert done["status"] == "resolved" and done["resolved_by"] == "dan"
    assert client.post(f"{url}/ack", headers=OPERATOR).status_code == 409
    kinds = [e["kind"] for e in done["timeline"]]
    assert kinds.index("acknowledged") < kinds.index("mitigated") < kinds.index("resolved")
    assert client.get("/api/v1/incidents/999").status_code == 404


def test_runbook_steps_are_ticked_into_the_timeline(client: TestClient, clock: Clock) -> None:
    everything_up(client, clock)
    report(client, clock, scratch="down")
    (inc,) = incidents(client)
    book = inc["runbooks"][0]
    step = client.get(f"/api/v1/runbooks/{book}").json()["steps"][0]["id"]
    url = f"/api/v1/incidents/{inc['id']}/runbook-steps/{book}/{step}"
    out = client.post(url, json={"actor": "cat"}, headers=OPERATOR).json()
    assert out["runbook_steps"] == {book: {step: True}}
    assert out["timeline"][-1]["kind"] == "runbook_step" and out["timeline"][-1]["actor"] == "cat"
    bad = client.post(f"/api/v1/incidents/{inc['id']}/runbook-steps/{book}/nope", headers=OPERATOR)
    assert bad.status_code == 404 and bad.headers["content-type"] == PROBLEM


def test_oncall_names_who_is_on_call_per_team_only_to_staff(
    client: TestClient,
) -> None:
    staff = client.get("/api/v1/oncall", headers=OPERATOR).json()["items"]
    assert [t["team"] for t in staff] == ["platform", "storage"]
    assert all("@" in t["primary"]["email"] for t in staff)
    public = client.get("/api/v1/oncall").json()["items"]
    assert [t["team"] for t in public] == ["platform", "storage"]
    assert all(t["primary"] is None and t["escalate_to"] is None for t in public)


def test_alertmanager_alerts_become_observations_or_incidents(
    client: TestClient, clock: Clock
) -> None:
    everything_up(client, clock)
    payload = json.loads(AM_PAYLOAD.read_text())
    alert = payload["alerts"][0]
    about_home = {
        **alert,
        "labels": {**alert["labels"], "resource": "home", "severity": "critical"},
    }
    body = {**payload, "alerts": [about_home, alert]}
    url = "/api/v1/alerts/alertmanager"
    assert client.post(url, json=body).status_code == 401
    r = client.post(url, json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json() == {"alerts": 2, "observations": 1, "incidents_opened": 1, "resolved": 0}
    clock.advance(30)  # Alertmanager repeats; the facility's hysteresis wants two in a row
    again = client.post(url, json=body, headers=AUTH).json()
    assert again["incidents_opened"] == 0, "an open alert incident is not opened twice"
    home = client.get("/api/v1/resources/home").json()
    assert home["reasons"][0]["code"] == "alert_firing" and home["source"] == "alertmanager"
    alert_incidents = [i for i in incidents(client) if i["kind"] == "alert"]
    assert len(alert_incidents) == 1 and alert_incidents[0]["status"] == "triggered"
    resolved = {**body, "status": "resolved", "alerts": [{**alert, "status": "resolved"}]}
    client.post(url, json=resolved, headers=AUTH)
    assert [i["status"] for i in incidents(client) if i["kind"] == "alert"] == ["resolved"]
    bad = client.post(url, json={"alerts": [{"status": "firing"}]}, headers=AUTH)
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM


def test_a_beamtime_conflict_is_an_incident_until_the_window_moves(
    client: TestClient, clock: Clock, rt: Runtime
) -> None:
    start = clock.now + timedelta(days=3)
    schedule = f"beamtimes:\n  - {{beamline: bl1, start: {iso(start)}, end: {iso(start + timedelta(days=1))}}}\n"
    client.post("/api/v1/beamtimes/import", params={"source": "ls"}, content=schedule.encode(),
                headers={**OPERATOR, "Content-Type": "application/yaml"})  # fmt: skip
    window = {"id": "w", "title": "Scratch", "resources": ["scratch"],
              "start": iso(start + timedelta(hours=2)), "end": iso(start + timedelta(hours=4))}  # fmt: skip
    client.post("/api/v1/maintenance", json=window, headers=OPERATOR)
    rt.sync_alert_incidents(clock.now)
    (inc,) = incidents(client)
    assert (
        inc["kind"] == "conflict"
        and inc["priority"] == "P3"
        and "overlaps beamtime" in inc["title"]
    )
    client.post("/api/v1/maintenance/w/cancel", headers=OPERATOR)
    rt.sync_alert_incidents(clock.now)
    assert [i["status"] for i in incidents(client)] == ["resolved"]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_incidents_are_unplanned_iri_incidents_linked_to_their_status_events(
    client: TestClient, clock: Clock, version: str
) -> None:
    from tests.api.test_iri import assert_valid

    everything_up(client, clock)
    report(client, clock, scratch="down")
    (inc,) = incidents(client)
    docs = client.get(f"/api/{version}/status/incidents").json()
    assert_valid(docs, f"{version}-incident")
    (doc,) = [d for d in docs if d["type"] == "unplanned"]
    assert doc["id"] == f"inc-{inc['id']}" and doc["resolution"] == "unresolved"
    assert doc["status"] == "down" and doc["event_uris"]
    events = client.get(f"/api/{version}/status/events", params={"incident_id": doc["id"]}).json()
    assert_valid(events, f"{version}-event")
    assert events and all(e["incident_uri"] == doc["self_uri"] for e in events)
    assert {e["self_uri"] for e in events} == set(doc["event_uris"])
    report(client, clock, scratch="up")
    done = client.get(f"/api/{version}/status/incidents/{doc['id']}").json()
    assert done["resolution"] == "completed" and done["status"] == "up" and done["end"]


def test_an_open_incident_is_re_weighed_when_a_beamtime_that_needs_it_starts(
    client: TestClient, clock: Clock, rt: Runtime
) -> None:
    everything_up(client, clock)
    start = clock.now + timedelta(minutes=30)
    schedule = f"beamtimes:\n  - {{beamline: bl1, start: {iso(start)}, end: {iso(start + timedelta(hours=8))}}}\n"
    report(client, clock, broker="down")
    (before,) = incidents(client)
    client.post("/api/v1/beamtimes/import", params={"source": "ls"}, content=schedule.encode(),
                headers={**OPERATOR, "Content-Type": "application/yaml"})  # fmt: skip
    clock.advance(3600)  # the beamtime is running now; the broker is still down
    report(client, clock, broker="down", scratch="up", home="up")
    assert rt.incidents.reprioritize(clock.now) == 1
    (after,) = [i for i in incidents(client) if i["id"] == before["id"]]
    assert after["priority"] < before["priority"]  # P1 < P2: higher
    assert "beamtime" in {f["name"] for f in after["priority_explanation"]["factors"]}
