"""`GET /api/v1/events`: the change feed of state transitions, read with a cursor."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import (
    RESOURCES,
    accepted,
    all_up,
    assert_problem,
    degrade_scratch,
    events,
    iso,
    observation,
    post,
)
from tests.conftest import T0, Clock

FEED = "/api/v1/events"


def page(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get(FEED, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_feed_starts_with_every_resource_becoming_unknown(client: TestClient) -> None:
    items = events(client)
    assert sorted(e["resource_id"] for e in items) == sorted(RESOURCES)
    assert {(e["from_state"], e["to_state"], e["kind"]) for e in items} == {
        (None, "unknown", "status_changed")
    }
    assert {e["occurred_at"] for e in items} == {iso(T0)}


def test_the_feed_lists_transitions_oldest_first(client: TestClient, clock: Clock) -> None:
    clock.advance(10)
    all_up(client, clock)
    degrade_scratch(client, clock)
    items = events(client)
    cursors = [e["cursor"] for e in items]
    assert cursors == sorted(cursors)
    assert len(set(cursors)) == len(cursors)
    times = [e["occurred_at"] for e in items]
    assert times == sorted(times)
    assert [(e["resource_id"], e["to_state"]) for e in items[-4:]] == [
        ("scratch", "degraded"),
        ("broker", "degraded"),
        ("batch", "degraded"),
        ("gateway", "degraded"),
    ]  # a dependency changes before the resources that depend on it


def test_an_event_describes_the_change_and_its_reasons(client: TestClient, clock: Clock) -> None:
    all_up(client, clock)
    degrade_scratch(client, clock)
    last = events(client, resource="batch")[-1]
    assert (last["from_state"], last["to_state"]) == ("up", "degraded")
    assert last["occurred_at"] == iso(clock.now)
    assert last["description"].startswith("batch is degraded")
    assert last["details"]["root_cause"]["resource_id"] == "scratch"
    assert len(last["id"]) == 36  # a UUID, stable across feeds


def test_next_cursor_continues_the_feed_without_gaps_or_repeats(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    everything = [e["cursor"] for e in events(client)]
    walked: list[int] = []
    after = 0
    while True:
        body = page(client, after=after, limit=3)
        if not body["items"]:
            break
        walked += [e["cursor"] for e in body["items"]]
        after = body["next_cursor"]
        assert after == walked[-1]
    assert walked == everything


def test_an_up_to_date_reader_gets_no_items_and_keeps_its_cursor(
    client: TestClient, clock: Clock
) -> None:
    last = page(client)["next_cursor"]
    assert page(client, after=last) == {"items": [], "next_cursor": last}


def test_a_reader_that_kept_its_cursor_sees_only_the_new_transitions(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    cursor = page(client, limit=1000)["next_cursor"]
    clock.advance(10)
    accepted(post(client, observation("gateway", clock.now, "down")))
    body = page(client, after=cursor)
    assert [(e["resource_id"], e["from_state"], e["to_state"]) for e in body["items"]] == [
        ("gateway", "up", "down")
    ]
    assert body["next_cursor"] == body["items"][0]["cursor"]


def test_a_report_that_changes_no_state_adds_no_event(client: TestClient, clock: Clock) -> None:
    all_up(client, clock)
    before = events(client)
    clock.advance(10)
    all_up(client, clock)
    assert events(client) == before


def test_the_resource_filter_keeps_only_those_resources(client: TestClient, clock: Clock) -> None:
    all_up(client, clock)
    degrade_scratch(client, clock)
    only = events(client, resource="scratch")
    assert [e["to_state"] for e in only] == ["unknown", "up", "degraded"]
    both = events(client, resource=["scratch", "home"])
    assert {e["resource_id"] for e in both} == {"scratch", "home"}
    assert events(client, resource="tape") == []


def test_the_resource_filter_pages_with_next_cursor(client: TestClient, clock: Clock) -> None:
    all_up(client, clock)
    first = page(client, resource="gateway", limit=1)
    second = page(client, resource="gateway", limit=1, after=first["next_cursor"])
    assert [e["to_state"] for e in first["items"] + second["items"]] == ["unknown", "up"]
    assert page(client, resource="gateway", after=second["next_cursor"])["items"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"after": -1}, "query.after"),
        ({"after": "latest"}, "query.after"),
        ({"limit": 0}, "query.limit"),
        ({"limit": 1001}, "query.limit"),
    ],
)
def test_a_bad_cursor_or_limit_is_a_400_naming_the_parameter(
    client: TestClient, params: dict[str, Any], field: str
) -> None:
    assert_problem(client.get(FEED, params=params), 400, field)
