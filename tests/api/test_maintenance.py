"""Maintenance windows through the API: lifecycle, the status overlay, notice, feeds."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.api.helpers import PROBLEM, iso, observation, post
from tests.conftest import AUTH, OPERATOR, Clock

URL = "/api/v1/maintenance"


def window(clock: Clock, **fields: Any) -> dict[str, Any]:
    start = clock.now + timedelta(hours=1)
    body = {
        "id": "scratch-upgrade",
        "title": "Scratch upgrade",
        "description": "Lustre servers get a new release.",
        "resources": ["scratch"],
        "start": iso(start),
        "end": iso(start + timedelta(hours=4)),
        "notice_given_at": iso(clock.now - timedelta(days=10)),
    }
    return {**body, **fields}


def create(client: TestClient, clock: Clock, **fields: Any) -> dict[str, Any]:
    r = client.post(URL, json=window(clock, **fields), headers=OPERATOR)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def state_of(client: TestClient, rid: str) -> dict[str, Any]:
    out: dict[str, Any] = client.get(f"/api/v1/resources/{rid}").json()
    return out


def test_an_operator_creates_a_window_that_is_pending_with_enough_notice(
    client: TestClient, clock: Clock
) -> None:
    out = create(client, clock)
    assert out["resolution"] == "pending" and out["source"] == "api"
    assert out["notice"]["short"] is False and out["sequence"] == 0
    assert out["current_or_next"]["start"] == window(clock)["start"]
    listed = client.get(URL).json()["items"]
    assert [w["id"] for w in listed] == ["scratch-upgrade"]
    assert client.get(f"{URL}/scratch-upgrade").json()["title"] == "Scratch upgrade"


def test_writing_a_window_needs_the_operator_token(client: TestClient, clock: Clock) -> None:
    assert client.post(URL, json=window(clock)).status_code == 401
    r = client.post(URL, json=window(clock), headers=AUTH)  # the collector's token: no scope
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
    assert client.get(URL).json()["items"] == []


def test_a_window_with_short_notice_is_flagged(client: TestClient, clock: Clock) -> None:
    out = create(client, clock, notice_given_at=iso(clock.now))
    assert out["notice"]["short"] is True and "7d" in out["notice"]["message"]


def test_bad_windows_get_a_problem_naming_the_field_and_nothing_is_stored(
    client: TestClient, clock: Clock
) -> None:
    cases = {
        "resources": {"resources": ["scrach"]},
        "end": {"end": iso(clock.now - timedelta(days=1))},
        "rrule": {"rrule": "FREQ=SOMETIMES"},
        "timezone": {"timezone": "Mars/Olympus"},
    }
    for name, fields in cases.items():
        r = client.post(URL, json=window(clock, **fields), headers=OPERATOR)
        assert r.status_code == 422, (name, r.text)
        assert r.headers["content-type"] == PROBLEM
        assert any(name in e["field"] for e in r.json()["errors"]), (name, r.json())
    assert client.get(URL).json()["items"] == []


def test_an_active_window_shows_maintenance_and_what_the_probes_see(
    client: TestClient, clock: Clock
) -> None:
    post(client, observation("scratch", clock.now, "up"), observation("scratch", clock.now, "up"))
    create(client, clock, start=iso(clock.now - timedelta(minutes=1)))
    status = state_of(client, "scratch")
    assert status["state"] == "maintenance"
    assert status["underlying"]["state"] == "up"
    assert status["underlying"]["window_id"] == "scratch-upgrade"
    out = client.get(f"{URL}/scratch-upgrade").json()
    assert out["resolution"] == "unresolved" and out["underneath"] == {"scratch": "up"}
    for _ in range(2):
        post(client, observation("scratch", clock.now, "down"))
        clock.advance(5)
    assert client.get(f"{URL}/scratch-upgrade").json()["underneath"] == {"scratch": "down"}


def test_cancelling_a_window_ends_the_maintenance_state_at_once(
    client: TestClient, clock: Clock
) -> None:
    post(client, observation("scratch", clock.now, "up"), observation("scratch", clock.now, "up"))
    create(client, clock, start=iso(clock.now - timedelta(minutes=1)))
    r = client.post(f"{URL}/scratch-upgrade/cancel", json={"sequence": 0}, headers=OPERATOR)
    assert r.status_code == 200 and r.json()["resolution"] == "cancelled"
    assert state_of(client, "scratch")["state"] == "up"
    again = client.post(f"{URL}/scratch-upgrade/cancel", headers=OPERATOR)
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM


def test_extending_an_active_window_marks_it_extended(client: TestClient, clock: Clock) -> None:
    create(
        client,
        clock,
        start=iso(clock.now - timedelta(hours=1)),
        end=iso(clock.now + timedelta(minutes=5)),
    )
    until = clock.now + timedelta(hours=2)
    r = client.post(f"{URL}/scratch-upgrade/extend", json={"until": iso(until)}, headers=OPERATOR)
    assert r.status_code == 200, r.text
    clock.advance(600)
    out = client.get(f"{URL}/scratch-upgrade").json()
    assert out["resolution"] == "extended" and out["current_or_next"]["extended"] is True


def test_a_stale_sequence_is_refused_and_changes_nothing(client: TestClient, clock: Clock) -> None:
    create(client, clock)
    ok = client.patch(
        f"{URL}/scratch-upgrade", json={"title": "New", "sequence": 0}, headers=OPERATOR
    )
    assert ok.status_code == 200 and ok.json()["sequence"] == 1
    stale = client.patch(
        f"{URL}/scratch-upgrade", json={"title": "Old", "sequence": 0}, headers=OPERATOR
    )
    assert stale.status_code == 409 and stale.json()["errors"][0]["field"] == "sequence"
    assert client.get(f"{URL}/scratch-upgrade").json()["title"] == "New"


def test_a_recurring_window_lists_its_occurrences_in_local_time(
    client: TestClient, clock: Clock
) -> None:
    out = create(
        client,
        clock,
        start="2026-11-24T06:00:00+01:00",
        end="2026-11-24T08:00:00+01:00",
        timezone="Europe/Berlin",
        rrule="FREQ=WEEKLY;COUNT=30",
    )
    assert out["occurrences"][0]["start"] == "2026-11-24T05:00:00Z"  # 06:00 CET
    listed = client.get(URL, params={"end": "2027-06-01T00:00:00Z"}).json()["items"][0]
    starts = [o["start"] for o in listed["occurrences"]]
    summer = [s for s in starts if s.startswith("2027-04")]
    assert summer and all(s.endswith("T04:00:00Z") for s in summer)  # 06:00 CEST


def test_an_unknown_window_is_a_404_problem(client: TestClient) -> None:
    r = client.get(f"{URL}/nope")
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM


def test_the_ics_feed_is_a_calendar_filtered_by_system(client: TestClient, clock: Clock) -> None:
    create(client, clock)
    create(client, clock, id="batch-os", title="Batch OS update", resources=["batch"])
    r = client.get(f"{URL}.ics", params={"system": "storage"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VCALENDAR" in r.text and "Scratch upgrade" in r.text
    assert "Batch OS update" not in r.text
    assert client.get(f"{URL}.ics", params={"system": "nope"}).status_code == 404


DEMO_ICS = Path(__file__).parents[2] / "examples" / "demo-maintenance.ics"


def _import(client: TestClient, source: str, body: bytes) -> httpx.Response:
    return client.post(f"{URL}/import", params={"source": source}, content=body, headers=OPERATOR)


def test_an_imported_calendar_replaces_its_source_and_a_bad_one_changes_nothing(
    client: TestClient, clock: Clock
) -> None:
    create(client, clock)
    feed = client.get(f"{URL}.ics").content.replace(b"scratch-upgrade", b"mirrored")
    r = _import(client, "mirror", feed)
    assert r.status_code == 200, r.text
    assert r.json() == {"source": "ical:mirror", "windows": 1, "beamtimes": 0}
    sources = sorted(w["source"] for w in client.get(URL).json()["items"])
    assert sources == ["api", "ical:mirror"]
    broken = feed.replace(b"DTSTART", b"DTSTARX", 1)
    bad = _import(client, "mirror", broken)
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    assert len(client.get(URL).json()["items"]) == 2
    assert _import(client, "mirror", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n").status_code == 200
    assert [w["source"] for w in client.get(URL).json()["items"]] == ["api"]


def test_an_import_may_not_take_over_a_window_of_another_source(
    client: TestClient, clock: Clock
) -> None:
    create(client, clock)
    r = _import(client, "mirror", client.get(f"{URL}.ics").content)
    assert r.status_code == 422 and "api" in r.json()["detail"]
    assert [w["source"] for w in client.get(URL).json()["items"]] == ["api"]


def test_a_calendar_naming_resources_this_facility_lacks_is_refused_with_its_line(
    client: TestClient,
) -> None:
    r = _import(client, "demo", DEMO_ICS.read_bytes())
    assert r.status_code == 422
    error = r.json()["errors"][0]
    assert error["field"] == "X-FACSTAT-RESOURCES" and "tern" in error["message"]
    assert isinstance(error["line"], int)
    assert client.get(URL).json()["items"] == []
