"""Public and internal views (`api.redaction`): anonymous callers never see node names,
drain reasons, raw errors or who is on call; `status:read-internal` sees everything, on
the same endpoints; the render cache and the ETags keep the two views apart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.redaction import (
    COUNTS,
    DEPENDENCY,
    MEASURED,
    RAW_ERRORS,
    SUMMARISED,
    drop_host_lists,
    public_entry,
    public_event,
    public_impact,
    public_incident,
    public_message,
    public_root,
    summary,
)
from api.runtime import Runtime
from collectors.reason_codes import all_reason_codes
from facility.model import RootCause, State
from facility.store import EventRecord
from slas.incident_service import SYSTEM
from slas.incident_store import Incident, TimelineEntry
from tests.api.helpers import accepted, all_up, observation, post
from tests.conftest import DATA, OPERATOR, SMALL, T0, Clock, make_settings

DRAINED = "1 of 4 nodes drained: 1 'bad DIMM' since 2026-11-21T11:09Z (node2)"
DOWN = "1 of 4 nodes down: 1 'Not responding' since 2026-11-21T11:30Z (nid00050)"
OSTS = "6 of 40 OSTs inactive: orion-OST0003 (inactive), orion-OST0007, … (4 more)"
SECRETS = ("node2", "bad DIMM", "nid00050", "Not responding", "orion-OST0003")


# -- the rules, on plain values ---------------------------------------------------------


def test_every_reason_code_a_module_declares_has_exactly_one_public_rule() -> None:
    families = [COUNTS, RAW_ERRORS, MEASURED, SUMMARISED, frozenset({DEPENDENCY})]
    declared = set(all_reason_codes())
    assert set().union(*families) == declared
    assert sum(len(f) for f in families) == len(declared), "a code is in two families"


@pytest.mark.parametrize(
    ("code", "message", "public"),
    [
        ("nodes_drained", DRAINED, "1 of 4 nodes drained"),
        ("nodes_down", "3 of 400 nodes down: 3 'Not responding' (nid[00050-00052])",
         "3 of 400 nodes down"),
        ("osts_unavailable", OSTS, "6 of 40 OSTs inactive"),
        ("targets_degraded", "2 target(s) degraded (RAID rebuild or failed disk): a-OST1, b-OST2",
         "2 target(s) degraded (RAID rebuild or failed disk)"),
        ("nodes_drained", "nid00050 drained: x", "nodes drained or still draining (DRAIN or FAIL "
         "flag): they take no new jobs"),
        ("broker_unreachable", "cannot connect to dsn01.example.org:5672: refused",
         "no AMQP connection to the broker (refused, timed out, name or login failure)"),
        ("collector_error", "collector slurm-borealis: ssh login03: Permission denied",
         "the collector's cycle raised an error: every resource it watches is unknown"),
        ("space_low", "used 91.0% of 1.0 TiB, 90 GiB available (degraded at 90%)",
         "used 91.0% of 1.0 TiB, 90 GiB available (degraded at 90%)"),
        ("stale", "no observation for 5m00s (stale after 2m00s); last seen up",
         "no observation for 5m00s (stale after 2m00s); last seen up"),
        ("dependency", f"depends on batch (down: {DRAINED})", "depends on batch (down: 1 of 4 "
         "nodes drained)"),
        ("dependency", "depends on dsn (down: cannot connect to dsn01:5672: refused)",
         "depends on dsn (down)"),
        ("alert_firing", "NodeDown: nid00050 does not answer", "NodeDown"),
        ("osts_inactive", "12 of 40 OSTs inactive", "12 of 40 OSTs inactive"),
        ("site_custom", "checked login01: broken", "site custom"),
    ],
)  # fmt: skip
def test_each_reason_code_family_has_its_public_message(
    code: str, message: str, public: str
) -> None:
    assert public_message(code, message) == public


def test_host_lists_go_and_parentheses_with_words_stay() -> None:
    assert drop_host_lists("2 drained (node2, node3, …)") == "2 drained"
    assert drop_host_lists("x (dtn01.example.org)") == "x"
    assert drop_host_lists("slow (degraded at 90%) (still draining)") == (
        "slow (degraded at 90%) (still draining)"
    )


def test_a_summary_that_still_names_a_host_or_a_path_is_dropped() -> None:
    assert summary("write in /lustre/scratch/.facstat failed: EIO") is None
    assert summary("cannot connect to 10.0.0.5") is None
    assert summary("cluster borealis: sinfo failed") == "cluster borealis"
    assert summary("") is None


def test_a_root_cause_keeps_its_resource_and_state_and_summarises_its_message() -> None:
    root = RootCause("batch", State.DOWN, DRAINED)
    assert public_root(root) == RootCause("batch", State.DOWN, "1 of 4 nodes drained")
    hidden = RootCause("dsn", State.DOWN, "cannot connect to dsn01.example.org:5672")
    assert public_root(hidden) == RootCause("dsn", State.DOWN, "down")


def test_a_public_event_rebuilds_its_description_and_keeps_only_known_details() -> None:
    e = EventRecord(
        1, "u", "batch", T0, "status_changed", "up", "degraded",
        f"batch is degraded: {DRAINED}",
        {"reasons": [{"code": "nodes_drained", "message": DRAINED}], "capacity": 0.75,
         "root_cause": None, "extra": "internal"},
    )  # fmt: skip
    out = public_event(e)
    assert out.description == "batch is degraded: 1 of 4 nodes drained"
    assert out.details == {
        "reasons": [{"code": "nodes_drained", "message": "1 of 4 nodes drained"}],
        "capacity": 0.75,
        "root_cause": None,
    }


def test_incident_impacts_alert_titles_and_the_engines_opened_entry_are_summarised() -> None:
    inc = Incident(
        1, "alert:x", "alert", "NodeDown", "NodeDown: nid00050 does not answer", "triggered",
        "P2", 1.0, {}, {"batch": {"state": "down", "summary": f"down: {DRAINED}"}}, "hpc", [],
        T0, T0,
    )  # fmt: skip
    out = public_incident(inc)
    assert out.title == "NodeDown"
    assert out.impacted["batch"]["summary"] == "down: 1 of 4 nodes drained"
    opened = TimelineEntry(1, 1, T0, "opened", SYSTEM, True, f"Opened: batch down: {DRAINED}")
    assert public_entry(opened).text == "Opened: batch down: 1 of 4 nodes drained"
    note = TimelineEntry(2, 1, T0, "note", "Cat", True, "node2 is back: x")
    assert public_entry(note) == note  # what people publish is theirs to word
    assert public_impact("down") == "down"


# -- over HTTP: the same endpoints, two views ---------------------------------------------


@pytest.fixture
def drained(client: TestClient, clock: Clock) -> Clock:
    """batch has drained and down nodes (names, Slurm reasons); scratch has named OSTs
    out, so broker and gateway name it as their root cause."""
    all_up(client, clock)
    for _ in range(2):
        clock.advance(10)
        batch = observation(
            "batch", clock.now, "degraded", capacity=0.5,
            reasons=[{"code": "nodes_drained", "message": DRAINED},
                     {"code": "nodes_down", "message": DOWN}],
        )  # fmt: skip
        scratch = observation(
            "scratch", clock.now, "degraded", capacity=0.85,
            reasons=[{"code": "osts_unavailable", "message": OSTS}],
        )  # fmt: skip
        accepted(post(client, batch, scratch))
    clock.advance(5)
    return clock


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def get(client: TestClient, url: str, internal: bool = False, **params: Any) -> str:
    r = client.get(url, params=params, headers=OPERATOR if internal else {})
    assert r.status_code == 200, r.text
    return r.text


PUBLIC_URLS = [
    "/api/v1/resources/batch",
    "/api/v1/resources/broker",
    "/api/v1/resources",
    "/api/v1/resources/batch/history",
    "/api/v1/events?limit=1000",
    "/api/v1/status/events",
    "/api/v2/status/events",
    "/",
    "/fragments/status",
    "/day/batch/2026-11-21",
    "/day/scratch/2026-11-21",
]


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_anonymous_callers_never_see_node_names_or_drain_reasons_and_operators_do(
    client: TestClient, drained: Clock, url: str
) -> None:
    assert leaks(get(client, url)) == []
    assert leaks(get(client, url, internal=True)) != []


def test_the_public_resource_keeps_the_codes_and_the_counts(
    client: TestClient, drained: Clock
) -> None:
    body = client.get("/api/v1/resources/batch").json()
    assert body["reasons"] == [
        {"code": "nodes_drained", "message": "1 of 4 nodes drained"},
        {"code": "nodes_down", "message": "1 of 4 nodes down"},
        {"code": "dependency", "message": "depends on scratch (degraded: 6 of 40 OSTs inactive)"},
    ]
    assert (body["state"], body["capacity"], body["source"]) == ("degraded", 0.5, "test")
    internal = client.get("/api/v1/resources/batch", headers=OPERATOR).json()
    assert [r["message"] for r in internal["reasons"][:2]] == [DRAINED, DOWN]


def test_a_root_cause_is_named_publicly_without_its_targets(
    client: TestClient, drained: Clock
) -> None:
    body = client.get("/api/v1/resources/gateway").json()
    assert body["root_cause"] == {
        "resource_id": "scratch",
        "state": "degraded",
        "message": "6 of 40 OSTs inactive",
    }


def test_time_travel_reads_the_public_view_of_the_past_too(
    client: TestClient, drained: Clock
) -> None:
    at = drained.now.isoformat()
    assert leaks(get(client, "/api/v1/resources/batch", at=at)) == []
    assert leaks(get(client, "/api/v1/resources", at=at)) == []
    assert DRAINED in get(client, "/api/v1/resources/batch", internal=True, at=at)


def test_public_events_are_described_from_their_public_reasons(
    client: TestClient, drained: Clock
) -> None:
    items = client.get("/api/v1/events", params={"resource": "batch"}).json()["items"]
    last = items[-1]
    assert last["description"] == (
        "batch is degraded: 1 of 4 nodes drained; 1 of 4 nodes down; "
        "depends on scratch (degraded: 6 of 40 OSTs inactive)"
    )
    iri = client.get("/api/v1/status/events", params={"resource_id": "batch"}).json()
    assert iri[-1]["description"] == last["description"]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_iri_description_filter_cannot_find_hidden_text(
    client: TestClient, drained: Clock, version: str
) -> None:
    url = f"/api/{version}/status/events"
    assert client.get(url, params={"description": "bad DIMM"}).json() == []
    found = client.get(url, params={"description": "bad DIMM"}, headers=OPERATOR).json()
    assert [e["resource_uri"].rsplit("/", 1)[1] for e in found] == ["batch"]
    one = f"{url}/{found[0]['id']}"
    assert leaks(get(client, one)) == [] and leaks(get(client, one, internal=True)) != []


@pytest.mark.parametrize(
    "url", ["/api/v1/resources/batch", "/api/v1/events", "/api/v2/status/events"]
)
def test_a_cached_internal_body_is_never_served_to_the_public(
    client: TestClient, drained: Clock, url: str
) -> None:
    internal = client.get(url, headers=OPERATOR)
    public = client.get(url)  # same URL, same store version: the cache is warm
    assert leaks(internal.text) != [] and leaks(public.text) == []
    assert internal.headers["etag"] != public.headers["etag"]
    assert public.headers["vary"] == internal.headers["vary"] == "Authorization"
    again = client.get(url, headers={"If-None-Match": internal.headers["etag"]})
    assert again.status_code == 200 and leaks(again.text) == []
    current = client.get(url, headers={"If-None-Match": public.headers["etag"]})
    assert current.status_code == 304


def test_a_public_etag_never_validates_an_internal_read(client: TestClient, drained: Clock) -> None:
    public = client.get("/api/v1/resources/batch")
    headers = {**OPERATOR, "If-None-Match": public.headers["etag"]}
    internal = client.get("/api/v1/resources/batch", headers=headers)
    assert internal.status_code == 200 and DRAINED in internal.text


def test_an_unknown_token_reads_the_public_view(client: TestClient, drained: Clock) -> None:
    r = client.get("/api/v1/resources/batch", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 200 and leaks(r.text) == []


@pytest.fixture
def with_policy(db_url: str, clock: Clock, tmp_path: Path) -> Iterator[TestClient]:
    """The test facility with an incident policy: teams, rotations, people."""
    facility = tmp_path / "facility.yaml"
    policy = DATA / "incidents" / "incidents.yaml"
    facility.write_text(SMALL.read_text() + f"\noperations:\n  incidents: {policy}\n")
    rt = Runtime.build(make_settings(db_url, facility=facility), clock=clock)
    with TestClient(create_app(runtime=rt, start=False)) as c:
        yield c
    rt.store.close()


def test_oncall_shows_the_public_the_teams_and_shifts_but_nobody_by_name(
    with_policy: TestClient,
) -> None:
    client = with_policy
    staff = client.get("/api/v1/oncall", headers=OPERATOR).json()["items"]
    people = [p for t in staff for p in (t["primary"], t["secondary"], *t["escalate_to"]) if p]
    assert people and all(p["name"] and "@" in p["email"] for p in people)
    public = client.get("/api/v1/oncall")
    items = public.json()["items"]
    assert [t["team"] for t in items] == [t["team"] for t in staff]
    for item, theirs in zip(items, staff, strict=True):
        assert (item["primary"], item["secondary"], item["escalate_to"]) == (None, None, None)
        assert (item["shift_start"], item["shift_end"]) == (
            theirs["shift_start"],
            theirs["shift_end"],
        )
    shown = [v for p in people for v in (p["id"], p["name"], p["email"]) if v in public.text]
    assert shown == []


def test_the_public_status_page_shows_counts_and_the_internal_one_the_nodes(
    client: TestClient, drained: Clock
) -> None:
    public = get(client, "/")
    assert "1 of 4 nodes drained" in public and "1 of 4 nodes down" in public
    assert "because Scratch is degraded: 6 of 40 OSTs inactive" in public
    assert DRAINED.replace("'", "&#39;") in get(client, "/", internal=True)


def test_the_public_page_summarises_an_incidents_opened_entry(
    client: TestClient, clock: Clock
) -> None:
    all_up(client, clock)
    for _ in range(2):
        clock.advance(10)
        reasons = [{"code": "nodes_down", "message": DOWN}]
        accepted(post(client, observation("scratch", clock.now, "down", reasons=reasons)))
    for url in ("/", "/fragments/incidents"):
        text = get(client, url)
        assert "Opened: scratch down: 1 of 4 nodes down" in text and leaks(text) == []
    assert "nid00050" in get(client, "/fragments/incidents", internal=True)
