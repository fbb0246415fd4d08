"""`/api/v1/resources`: filters, cursor paging, one resource's fields, staleness applied by
the read itself, hysteresis, time travel with `?at=` and the history of intervals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from tests.api.helpers import (
    OST_REASON,
    RESOURCES,
    accepted,
    all_up,
    assert_problem,
    degrade_scratch,
    events,
    iso,
    observation,
    post,
    resource,
)
from tests.conftest import SMALL, T0, Clock, make_settings

LIST = "/api/v1/resources"


def ids(client: TestClient, **params: Any) -> list[str]:
    response = client.get(LIST, params=params)
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["items"]]


def walk(client: TestClient, **params: Any) -> Iterator[list[str]]:
    """Every page of the list, following `next_cursor` to the end."""
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        body = client.get(LIST, params=query).json()
        yield [r["id"] for r in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return


# -- the list and its filters ---------------------------------------------------------


def test_the_list_holds_every_resource_of_the_facility_sorted_by_id(client: TestClient) -> None:
    assert ids(client) == list(RESOURCES)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "storage:filesystem"}, ["home", "scratch"]),
        ({"type": "urn:facstat:partition"}, ["batch"]),
        ({"system": "hpc"}, ["batch", "gateway"]),
        ({"system": "storage", "type": "storage:filesystem"}, ["home", "scratch"]),
        ({"system": "nowhere"}, []),
        ({"state": "degraded"}, ["batch", "broker", "gateway", "scratch"]),
        ({"state": "up"}, ["home"]),
        ({"state": "down"}, []),
    ],
)
def test_the_list_keeps_only_resources_matching_every_filter(
    client: TestClient, clock: Clock, params: dict[str, str], expected: list[str]
) -> None:
    all_up(client, clock)
    degrade_scratch(client, clock)
    assert ids(client, **params) == expected


def test_before_any_observation_the_state_filter_finds_every_resource_unknown(
    client: TestClient,
) -> None:
    assert ids(client, state="unknown") == list(RESOURCES)
    assert ids(client, state="up") == []


def test_a_state_that_does_not_exist_is_a_400_naming_query_state(client: TestClient) -> None:
    assert_problem(client.get(LIST, params={"state": "sunny"}), 400, "query.state")


@pytest.fixture
def grouped_client(db_url: str, clock: Clock, tmp_path: Path) -> Iterator[TestClient]:
    """The test facility with group labels on the file systems and the partition."""
    doc = yaml.safe_load(SMALL.read_text())
    groups = {"scratch": "filesystems", "home": "filesystems", "batch": "partitions"}
    for r in doc["resources"]:
        if r["id"] in groups:
            r["group"] = groups[r["id"]]
    path = tmp_path / "grouped-facility.yaml"
    path.write_text(yaml.safe_dump(doc))
    rt = Runtime.build(make_settings(db_url, facility=path), clock=clock)
    with TestClient(create_app(runtime=rt, start=False)) as c:
        yield c
    rt.store.close()


def test_the_group_filter_keeps_only_resources_with_that_group_label(
    grouped_client: TestClient,
) -> None:
    assert ids(grouped_client, group="filesystems") == ["home", "scratch"]
    assert ids(grouped_client, group="partitions") == ["batch"]
    assert ids(grouped_client, group="compute") == []


# -- cursor paging ----------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 1000])
def test_cursor_paging_walks_every_resource_exactly_once_in_order(
    client: TestClient, limit: int
) -> None:
    pages = list(walk(client, limit=limit))
    assert [rid for page in pages for rid in page] == list(RESOURCES)
    assert all(len(page) <= limit for page in pages)
    assert len(pages) == -(-len(RESOURCES) // limit)


def test_cursor_paging_walks_a_filtered_list_exactly_once(client: TestClient) -> None:
    pages = list(walk(client, limit=1, system="hpc"))
    assert pages == [["batch"], ["gateway"]]


def test_the_last_page_has_no_next_cursor(client: TestClient) -> None:
    assert client.get(LIST, params={"limit": 5}).json()["next_cursor"] is None


@pytest.mark.parametrize("cursor", ["a", "zz", "not a cursor", "_w"])
def test_a_cursor_that_is_not_valid_base64_is_a_400_naming_query_cursor(
    client: TestClient, cursor: str
) -> None:
    assert_problem(client.get(LIST, params={"cursor": cursor}), 400, "query.cursor")


@pytest.mark.parametrize("cursor", ["!!!!", "%%%"])
def test_a_cursor_with_characters_outside_base64url_is_a_400_naming_query_cursor(
    client: TestClient, cursor: str
) -> None:
    assert_problem(client.get(LIST, params={"cursor": cursor}), 400, "query.cursor")


@pytest.mark.parametrize("limit", ["1001", "0", "-1", "many"])
def test_a_limit_outside_1_to_1000_is_a_400_naming_query_limit(
    client: TestClient, limit: str
) -> None:
    assert_problem(client.get(LIST, params={"limit": limit}), 400, "query.limit")


# -- one resource -------------------------------------------------------------------------


def test_one_resource_shows_its_state_capacity_reasons_source_and_times(
    client: TestClient, clock: Clock
) -> None:
    clock.advance(10)
    seen = clock.now
    reason = {"code": "osts_slow", "message": "2 OSTs slow"}
    sample = observation("scratch", seen, "up", source="lustre", capacity=0.95, reasons=[reason])
    accepted(post(client, sample))
    clock.advance(5)
    body = resource(client, "scratch")
    assert body["id"] == "scratch"
    assert body["type"] == "storage:filesystem"
    assert body["system"] == "storage"
    assert body["depends_on"] == []
    assert body["state"] == "up"
    assert body["capacity"] == 0.95
    assert body["reasons"] == [reason]
    assert body["root_cause"] is None
    assert body["observed_at"] == iso(seen)
    assert body["stale_after"] == "PT120S"
    assert body["source"] == "lustre"
    assert body["since"] == iso(seen)
    assert body["at"] is None


def test_stale_after_is_the_resources_own_iso_8601_duration(client: TestClient) -> None:
    assert resource(client, "gateway")["stale_after"] == "PT30S"
    assert resource(client, "batch")["stale_after"] == "PT120S"


def test_a_capacity_below_the_degraded_threshold_degrades_an_up_report(
    client: TestClient, clock: Clock
) -> None:
    accepted(post(client, observation("home", clock.now, "up", capacity=0.5)))
    body = resource(client, "home")
    assert body["state"] == "degraded"
    assert body["capacity"] == 0.5
    assert [r["code"] for r in body["reasons"]] == ["capacity_below_threshold"]


def test_an_observed_at_sent_with_a_utc_offset_is_reported_in_utc(
    client: TestClient, clock: Clock
) -> None:
    clock.advance(10)
    seen = clock.now - timedelta(seconds=5)
    sample = observation("scratch", seen, "up")
    sample["observed_at"] = seen.astimezone(timezone(timedelta(hours=2))).isoformat()
    accepted(post(client, sample))
    assert resource(client, "scratch")["observed_at"] == iso(seen)


def test_an_unknown_resource_is_a_404_problem(client: TestClient) -> None:
    body = assert_problem(client.get("/api/v1/resources/nope"), 404)
    assert body["title"] == "Not Found"
    assert "nope" in body["detail"]
    assert body["instance"] == "/api/v1/resources/nope"


@pytest.mark.parametrize("suffix", ["/history", "?at=2026-11-21T12:00:00Z"])
def test_the_history_and_past_state_of_an_unknown_resource_are_404_problems(
    client: TestClient, suffix: str
) -> None:
    assert_problem(client.get(f"/api/v1/resources/nope{suffix}"), 404)


def test_a_resource_id_longer_than_64_characters_is_a_400_naming_path_resource_id(
    client: TestClient,
) -> None:
    response = client.get("/api/v1/resources/" + "x" * 65)
    assert_problem(response, 400, "path.resource_id")


# -- staleness and hysteresis ----------------------------------------------------------


def test_silence_past_stale_after_makes_a_resource_unknown_with_reason_stale_on_read(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    clock.advance(121)  # no engine tick runs here (start=False): the read applies staleness
    body = resource(client, "scratch")
    assert body["state"] == "unknown"
    assert [r["code"] for r in body["reasons"]] == ["stale"]
    assert "stale after 2m00s" in body["reasons"][0]["message"]
    assert body["capacity"] is None


def test_a_resource_going_stale_is_recorded_as_an_event(client: TestClient, clock: Clock) -> None:
    all_up(client, clock)
    clock.advance(121)
    resource(client, "scratch")
    last = events(client, resource="scratch")[-1]
    assert (last["from_state"], last["to_state"]) == ("up", "unknown")
    assert last["details"]["reasons"][0]["code"] == "stale"


def test_each_resource_goes_stale_after_its_own_stale_after(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    clock.advance(31)  # past gateway's 30 s, well within everyone else's 2 min
    assert resource(client, "gateway")["state"] == "unknown"
    assert ids(client, state="up") == ["batch", "broker", "home", "scratch"]


def test_a_fresh_report_within_stale_after_keeps_a_resource_up(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    clock.advance(100)
    accepted(post(client, observation("scratch", clock.now)))
    clock.advance(100)  # 200 s after the first report, 100 s after the last
    assert resource(client, "scratch")["state"] == "up"


def test_one_down_report_does_not_change_a_resource_that_needs_two(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    clock.advance(10)
    outcome = accepted(post(client, observation("scratch", clock.now, "down")))
    assert outcome["transitions"] == 0
    assert resource(client, "scratch")["state"] == "up"


def test_the_second_consecutive_down_report_turns_the_resource_down(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    for _ in range(2):
        clock.advance(10)
        accepted(post(client, observation("scratch", clock.now, "down")))
    body = resource(client, "scratch")
    assert body["state"] == "down"
    assert body["since"] == iso(clock.now)


def test_an_up_report_between_two_down_reports_restarts_the_count(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    for state in ("down", "up", "down"):
        clock.advance(10)
        accepted(post(client, observation("scratch", clock.now, state)))
    assert resource(client, "scratch")["state"] == "up"


def test_a_resource_with_consecutive_1_changes_on_the_first_report(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    clock.advance(10)
    accepted(post(client, observation("gateway", clock.now, "down")))
    assert resource(client, "gateway")["state"] == "down"


# -- time travel ---------------------------------------------------------------------------


@pytest.fixture
def timeline(client: TestClient, clock: Clock) -> Clock:
    """Unknown until T0+10 s, up until T0+30 s, then scratch degraded; now is T0+60 s."""
    clock.advance(10)
    all_up(client, clock)
    degrade_scratch(client, clock)  # reports at +20 s (held) and +30 s (confirmed)
    clock.advance(30)
    return clock


def test_at_reads_one_resources_state_at_a_past_instant_from_history(
    client: TestClient, timeline: Clock
) -> None:
    past = resource(client, "scratch", at=iso(T0 + timedelta(seconds=25)))
    assert (past["state"], past["since"]) == ("up", iso(T0 + timedelta(seconds=10)))
    assert past["at"] == iso(T0 + timedelta(seconds=25))
    later = resource(client, "scratch", at=iso(T0 + timedelta(seconds=45)))
    assert (later["state"], later["capacity"], later["reasons"]) == ("degraded", 0.7, [OST_REASON])


def test_at_before_any_recorded_status_reads_unknown_with_no_data(
    client: TestClient, timeline: Clock
) -> None:
    body = resource(client, "scratch", at=iso(T0 - timedelta(hours=1)))
    assert body["state"] == "unknown"
    assert [r["code"] for r in body["reasons"]] == ["no_data"]


def test_at_on_the_list_reads_every_resource_at_that_instant(
    client: TestClient, timeline: Clock
) -> None:
    when = iso(T0 + timedelta(seconds=25))
    items = client.get(LIST, params={"at": when}).json()["items"]
    assert {r["id"]: r["state"] for r in items} == dict.fromkeys(RESOURCES, "up")
    assert {r["at"] for r in items} == {when}
    assert ids(client, at=iso(T0 + timedelta(seconds=45)), state="up") == ["home"]


def test_at_now_is_accepted(client: TestClient, timeline: Clock) -> None:
    assert resource(client, "scratch", at=iso(timeline.now))["state"] == "degraded"


@pytest.mark.parametrize("path", [LIST, "/api/v1/resources/scratch"])
def test_at_in_the_future_is_a_400_naming_query_at(
    client: TestClient, clock: Clock, path: str
) -> None:
    future = iso(clock.now + timedelta(seconds=1))
    assert_problem(client.get(path, params={"at": future}), 400, "query.at")


@pytest.mark.parametrize("path", [LIST, "/api/v1/resources/scratch"])
def test_at_without_a_time_zone_is_a_400_naming_query_at(client: TestClient, path: str) -> None:
    response = client.get(path, params={"at": "2026-11-21T11:00:00"})
    assert_problem(response, 400, "query.at")


@pytest.mark.parametrize("path", [LIST, "/api/v1/resources/scratch"])
def test_at_that_is_not_a_datetime_is_a_400_naming_query_at(client: TestClient, path: str) -> None:
    assert_problem(client.get(path, params={"at": "yesterday"}), 400, "query.at")


# -- history ---------------------------------------------------------------------------------


def history(client: TestClient, resource_id: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/resources/{resource_id}/history", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_history_has_one_interval_per_state_and_the_open_one_ends_null(
    client: TestClient, timeline: Clock
) -> None:
    body = history(client, "scratch", **{"from": iso(T0 - timedelta(hours=1))})
    spans = [(i["start"], i["end"], i["state"]) for i in body["intervals"]]
    t = [iso(T0 + timedelta(seconds=s)) for s in (0, 10, 30)]
    assert spans == [(t[0], t[1], "unknown"), (t[1], t[2], "up"), (t[2], None, "degraded")]
    assert body["intervals"][-1]["reasons"] == [OST_REASON]
    assert (body["resource_id"], body["to"]) == ("scratch", iso(timeline.now))


def test_history_of_a_dependent_names_the_root_cause_of_its_degraded_interval(
    client: TestClient, timeline: Clock
) -> None:
    last = history(client, "batch")["intervals"][-1]
    assert (last["state"], last["end"]) == ("degraded", None)
    assert last["root_cause"]["resource_id"] == "scratch"


def test_history_returns_only_intervals_overlapping_from_to(
    client: TestClient, timeline: Clock
) -> None:
    window = {"from": iso(T0 + timedelta(seconds=12)), "to": iso(T0 + timedelta(seconds=20))}
    body = history(client, "scratch", **window)
    assert [i["state"] for i in body["intervals"]] == ["up"]
    assert (body["from"], body["to"]) == (window["from"], window["to"])


def test_history_covers_a_stale_transition(client: TestClient, clock: Clock) -> None:
    all_up(client, clock)
    clock.advance(31)
    resource(client, "gateway")
    clock.advance(1)
    states = [i["state"] for i in history(client, "gateway")["intervals"]]
    assert states[-2:] == ["up", "unknown"]


@pytest.mark.parametrize(
    ("start", "end"),
    [("2026-11-21T12:00:00Z", "2026-11-21T11:00:00Z"), ("2026-11-21T12:00:00Z",) * 2],
)
def test_history_with_from_not_before_to_is_a_400_naming_query_from(
    client: TestClient, start: str, end: str
) -> None:
    response = client.get("/api/v1/resources/scratch/history", params={"from": start, "to": end})
    assert_problem(response, 400, "query.from")


@pytest.mark.parametrize("name", ["from", "to"])
def test_history_bounds_without_a_time_zone_are_a_400_naming_the_bound(
    client: TestClient, name: str
) -> None:
    response = client.get("/api/v1/resources/scratch/history", params={name: "2026-11-21T11:00:00"})
    assert_problem(response, 400, f"query.{name}")


def test_history_longer_than_400_days_is_a_400(client: TestClient) -> None:
    response = client.get(
        "/api/v1/resources/scratch/history",
        params={"from": "2025-01-01T00:00:00Z", "to": "2026-11-21T12:00:00Z"},
    )
    assert_problem(response, 400, "query.from")
