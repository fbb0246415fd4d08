"""`GET /api/v1/stream` (server-sent events) against a real server, on SQLite and PostgreSQL.

Status changes, incidents and maintenance arrive as events with ids; filters by
resource and type; `Last-Event-ID` replays exactly what was missed; heartbeats; the
public view is redacted; bad input is a problem naming what is wrong. The stream across
two API processes is in tests/test_processes.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from api.runtime import Runtime
from facility.tables import ChangeRecord
from tests.api.helpers import PROBLEM, observation
from tests.conftest import (
    AUTH,
    DATA,
    OPERATOR,
    SMALL,
    LiveServer,
    free_port,
    make_settings,
    start_server,
    stop_server,
)
from tests.sse import SseReader

STREAM = "/api/v1/stream"


@pytest.fixture
def live(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    facility = tmp_path / "facility.yaml"
    policy = DATA / "incidents" / "incidents.yaml"
    facility.write_text(SMALL.read_text() + f"\noperations:\n  incidents: {policy}\n")
    settings = make_settings(
        db_url, facility=facility, stream_heartbeat=0.3, change_poll_interval=0.2
    )
    rt = Runtime.build(settings)
    assert rt.hub is not None
    rt.hub.start()
    server = start_server(rt, free_port())
    yield server
    stop_server(server)
    rt.hub.stop()
    rt.store.close()


@pytest.fixture
def readers() -> Iterator[list[SseReader]]:
    opened: list[SseReader] = []
    yield opened
    for r in opened:
        r.close()


def open_stream(
    live: LiveServer, readers: list[SseReader], query: str = "", **headers: str
) -> SseReader:
    reader = SseReader(f"{live.url}{STREAM}{query}", headers=headers)
    readers.append(reader.start())
    assert reader.status == 200, reader.error
    assert reader.content_type.startswith("text/event-stream")
    return reader


_LAST = [datetime.now(UTC)]


def report(live: LiveServer, **states: Any) -> None:
    """Two rounds (the facility's hysteresis), each later than any before (the engine
    ignores an observation older than the last one it has)."""
    first = max(datetime.now(UTC), _LAST[0] + timedelta(milliseconds=10))
    _LAST[0] = first + timedelta(milliseconds=10)
    for at in (first, _LAST[0]):
        batch = [
            observation(rid, at, st) if isinstance(st, str) else observation(rid, at, **st)
            for rid, st in states.items()
        ]
        r = httpx.post(
            f"{live.url}/api/v1/observations", json={"observations": batch}, headers=AUTH
        )
        assert r.status_code == 200, r.text


def drained(message: str) -> dict[str, Any]:
    return {
        "state": "degraded",
        "capacity": 0.5,
        "reasons": [{"code": "nodes_drained", "message": message}],
    }


def test_a_status_change_arrives_with_an_id_for_the_resources_asked_for_only(
    live: LiveServer, readers: list[SseReader]
) -> None:
    report(live, scratch="up", home="up")
    scratch = open_stream(live, readers, "?resources=scratch&types=status")
    everything = open_stream(live, readers)
    report(live, scratch="down", home="down")
    ev = scratch.next()
    assert ev.event == "status" and ev.id is not None and ev.id > 0
    assert ev.data["resource_id"] == "scratch"
    assert (ev.data["from_state"], ev.data["to_state"]) == ("up", "down")
    seen = set()
    while not {"scratch", "home"} <= seen:  # with what depends on them, in any order
        seen.add(everything.next().data["resource_id"])
        assert len(seen) <= 5, seen
    assert scratch.none_within(0.8)  # home's change is not scratch's


def test_the_public_stream_hides_drain_reasons_the_internal_one_shows_them(
    live: LiveServer, readers: list[SseReader]
) -> None:
    report(live, batch="up")
    public = open_stream(live, readers, "?resources=batch&types=status")
    internal = open_stream(live, readers, "?resources=batch&types=status", **OPERATOR)
    report(live, batch=drained("2 of 4 nodes drained: 2 'bad DIMM' (node1, node2)"))
    pub, mine = public.next(), internal.next()
    assert pub.id == mine.id and pub.data["to_state"] == mine.data["to_state"] == "degraded"
    assert "node1" in str(mine.data) and "bad DIMM" in str(mine.data)
    assert "node1" not in str(pub.data) and "bad DIMM" not in str(pub.data)


def test_last_event_id_replays_exactly_what_was_missed(
    live: LiveServer, readers: list[SseReader]
) -> None:
    query = "?types=status&resources=scratch,home"
    report(live, scratch="up", home="up")
    first = open_stream(live, readers, query)
    report(live, home="down")
    seen = first.next()
    assert (seen.data["resource_id"], seen.data["to_state"]) == ("home", "down")
    first.close()
    report(live, scratch="down")  # missed while away
    report(live, home="up")
    again = open_stream(live, readers, query, **{"Last-Event-ID": str(seen.id)})
    replayed = [again.next(), again.next()]
    changes = [(e.data["resource_id"], e.data["to_state"]) for e in replayed]
    assert changes == [("scratch", "down"), ("home", "up")]
    ids = [e.id or 0 for e in replayed]
    assert ids == sorted(ids) and ids[0] > (seen.id or 0)
    report(live, scratch="up")  # then live events follow, without a gap or a repeat
    nxt = again.next()
    assert (nxt.data["resource_id"], nxt.data["to_state"]) == ("scratch", "up")
    assert (nxt.id or 0) > ids[-1]
    assert again.none_within(0.5)


def test_incidents_and_maintenance_arrive_as_their_own_types(
    live: LiveServer, readers: list[SseReader]
) -> None:
    report(live, scratch="up", home="up", broker="up", batch="up", gateway="up")
    incidents = open_stream(live, readers, "?types=incident")
    maintenance = open_stream(live, readers, "?types=maintenance&resources=home")
    report(live, scratch="down")
    inc = incidents.next()
    assert inc.event == "incident" and inc.data["status"] == "triggered"
    assert "scratch" in {x["resource_id"] for x in inc.data["impacted"]}
    start = datetime.now(UTC) + timedelta(days=3)
    window = {
        "title": "Home quota server upgrade",
        "resources": ["home"],
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
    }
    r = httpx.post(f"{live.url}/api/v1/maintenance", json=window, headers=OPERATOR)
    assert r.status_code == 201, r.text
    ev = maintenance.next()
    assert ev.event == "maintenance" and ev.data["id"] == r.json()["id"]
    assert ev.data["title"] == "Home quota server upgrade" and ev.data["resources"] == ["home"]
    assert "origin" not in ev.data


def test_an_idle_stream_gets_heartbeats(live: LiveServer, readers: list[SseReader]) -> None:
    idle = open_stream(live, readers, "?resources=gateway")
    assert idle.comments.get(timeout=5) == "heartbeat"
    assert idle.comments.get(timeout=5) == "heartbeat"


def test_an_id_older_than_the_feed_keeps_is_told_to_reset(
    live: LiveServer, readers: list[SseReader]
) -> None:
    report(live, scratch="up")
    report(live, scratch="down")
    report(live, scratch="up")
    rt = live.runtime
    table = ChangeRecord.__table__  # type: ignore[attr-defined]
    with rt.store.engine.begin() as conn:  # as the retention purge would
        oldest = conn.execute(sa.select(sa.func.min(table.c.id))).scalar_one()
        conn.execute(table.delete().where(table.c.id == oldest))
    again = open_stream(live, readers, "?types=status", **{"Last-Event-ID": "0"})
    first = again.next()
    assert first.event == "reset" and first.id is None
    assert again.next().event == "status"


@pytest.mark.parametrize(
    ("query", "headers", "status", "field"),
    [
        ("?types=gossip", {}, 400, "query.types"),
        ("?resources=scrach", {}, 404, "scrach"),
        ("", {"Last-Event-ID": "yesterday"}, 400, "header.Last-Event-ID"),
        ("", {"Last-Event-ID": str(2**31)}, 400, "header.Last-Event-ID"),
        ("?after=-1", {}, 400, "after"),
    ],
)
def test_bad_stream_requests_are_problems_naming_what_is_wrong(
    live: LiveServer, query: str, headers: dict[str, str], status: int, field: str
) -> None:
    r = httpx.get(f"{live.url}{STREAM}{query}", headers=headers, timeout=10)
    assert r.status_code == status and r.headers["content-type"] == PROBLEM, r.text
    assert field in r.text
