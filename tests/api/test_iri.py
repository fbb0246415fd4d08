"""The DOE IRI Facility API (status + facility, v1 and v2) served as a projection of our
model: every body valid against the schemas in `tests/data/iri/`, filters, paging,
`modified_since`, conditional requests and problem bodies."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator, FormatChecker

from api import iri
from api.app import create_app
from api.iri_schemas import P_RT
from api.runtime import Runtime
from facility.config import FACSTAT_RESOURCE_TYPES, IRI_RESOURCE_TYPES, load_facility
from facility.model import EffectiveStatus, State
from tests.conftest import AUTH, DATA, OPERATOR, T0, Clock, make_settings

SCHEMAS = DATA / "iri"
DEMO = Path(__file__).parents[2] / "examples" / "demo-facility.yaml"
BASE = "http://127.0.0.1:8000"  # Settings.base_url's default
VERSIONS = ("v1", "v2")
RESOURCES = ["batch", "broker", "gateway", "home", "scratch"]  # sorted by id
LISTS = ("/status/resources", "/status/incidents", "/status/events", "/facility/sites")
RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)

# -- schema checking ------------------------------------------------------------------

FORMATS = FormatChecker(())


@FORMATS.checks("date-time")
def _date_time(value: object) -> bool:
    if not isinstance(value, str) or not RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:  # e.g. month 13
        return False
    return True


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme)


@cache
def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FORMATS)


def assert_valid(body: Any, name: str) -> None:
    for doc in body if isinstance(body, list) else [body]:
        errors = [e.message for e in validator(name).iter_errors(doc)]
        assert not errors, f"{name}: {errors} in {doc}"


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert_valid(body, "problem")
    assert body["status"] == status and body["instance"] == response.request.url.path
    if field is not None:
        assert any(field in e["field"] for e in body["errors"]), body


# -- helpers --------------------------------------------------------------------------


def get(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def ids(client: TestClient, path: str, **params: Any) -> list[str]:
    return [d["id"] for d in get(client, path, **params)]


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def report(client: TestClient, clock: Clock, resource_id: str, state: str) -> datetime:
    """Two observations 10 s apart (the test facility's hysteresis); returns the first time."""
    first = clock.advance(10)
    for _ in range(2):
        obs = {"resource_id": resource_id, "observed_at": iso(clock.now), "source": "t"}
        body = {"observations": [{**obs, "state": state}]}
        assert client.post("/api/v1/observations", json=body, headers=AUTH).status_code == 200
        clock.advance(10)
    return first


def scratch_events(client: TestClient, version: str = "v2") -> list[dict[str, Any]]:
    return list(get(client, f"/api/{version}/status/events", resource_id="scratch"))


@pytest.fixture
def demo_client(db_url: str, clock: Clock) -> Iterator[TestClient]:
    """The shipped demo facility: descriptions, groups, a located site, a support URL."""
    rt = Runtime.build(make_settings(db_url, facility=DEMO), clock=clock)
    with TestClient(create_app(runtime=rt, start=False)) as c:
        yield c
    rt.store.close()


# -- the pure projection --------------------------------------------------------------


@pytest.mark.parametrize(
    ("ours", "iri_state"),
    [
        ("up", "up"),
        ("degraded", "degraded"),
        ("down", "down"),
        ("unknown", "unknown"),
        ("maintenance", "down"),
    ],
)
def test_our_states_map_one_to_one_and_maintenance_is_down(ours: str, iri_state: str) -> None:
    assert iri.iri_status(ours) == iri_state


@pytest.mark.parametrize("short", IRI_RESOURCE_TYPES)
def test_iri_types_become_their_first_segment_in_v1_and_a_full_urn_in_v2(short: str) -> None:
    assert iri.v1_resource_type(short) == short.split(":")[0]
    assert iri.v2_resource_type(short) == "urn:doe-iri:resource:" + short


@pytest.mark.parametrize(("ours", "parent"), FACSTAT_RESOURCE_TYPES.items())
def test_facstat_types_become_their_parent_in_v1_and_an_extension_urn_in_v2(
    ours: str, parent: str
) -> None:
    urn = iri.v2_resource_type(ours)
    assert iri.v1_resource_type(ours) == parent
    assert urn == f"urn:doe-iri:resource:{parent}:ext:facstat:{ours.split(':')[-1]}"
    assert re.match(P_RT, urn) and iri.type_within(urn, f"urn:doe-iri:resource:{parent}")


def test_a_resource_in_maintenance_is_down_and_last_modified_when_it_began() -> None:
    config = load_facility(DATA / "small-facility.yaml")
    began = T0 + timedelta(minutes=5)
    status = EffectiveStatus("home", State.MAINTENANCE, None, (), began, None, None)
    ctx = iri.Context(config, BASE, "v1", T0)
    doc = iri.resource(ctx, config.resource("home"), status)
    assert doc["current_status"] == "down" and doc["last_modified"] == iso(began)
    assert_valid(doc, "v1-resource")


def test_the_date_time_and_uri_checks_reject_malformed_values() -> None:
    assert _date_time("2026-11-21T12:00:00Z") and _date_time("2026-11-21T12:00:00.5+01:00")
    for bad in ("2026-11-21 12:00:00Z", "2026-11-21T12:00:00", "2026-13-21T12:00:00Z", 1):
        assert not _date_time(bad)
    assert _uri("about:blank") and not _uri("support.example.org")


# -- every path, both versions, valid against the schemas ------------------------------


@pytest.mark.parametrize("v", VERSIONS)
def test_every_path_answers_a_body_valid_against_its_schema(
    client: TestClient, clock: Clock, v: str
) -> None:
    report(client, clock, "scratch", "down")
    event_id = scratch_events(client, v)[-1]["id"]
    for path, kind in [
        ("/status/resources", "resource"),
        ("/status/resources/scratch", "resource"),
        ("/status/incidents", "incident"),
        ("/status/events", "event"),
        (f"/status/events/{event_id}", "event"),
        ("/facility", "facility"),
        ("/facility/sites", "site"),
        ("/facility/sites/campus", "site"),
    ]:
        assert_valid(get(client, f"/api/{v}{path}"), f"{v}-{kind}")


@pytest.mark.parametrize("v", VERSIONS)
def test_the_demo_facility_projects_valid_sites_facility_and_resources(
    demo_client: TestClient, v: str
) -> None:
    facility = get(demo_client, f"/api/{v}/facility")
    assert_valid(facility, f"{v}-facility")
    assert facility["support_uri"] == "https://support.dlcf.example.org"
    assert facility["organization_name"] == "Demo National Laboratory"
    site = get(demo_client, f"/api/{v}/facility/sites/main-campus")
    assert_valid(site, f"{v}-site")
    assert (site["country_name"], site["latitude"]) == ("United States", 35.93)
    assert len(site["resource_uris"]) == 17
    assert_valid(get(demo_client, f"/api/{v}/status/resources"), f"{v}-resource")


def test_reads_need_no_token(client: TestClient) -> None:
    for v in VERSIONS:
        for path in (*LISTS, "/facility"):
            response = client.get(f"/api/{v}{path}")
            assert response.status_code == 200 and "www-authenticate" not in response.headers


@pytest.mark.parametrize("v", VERSIONS)
def test_every_uri_is_absolute_on_the_same_version_and_resolves(
    client: TestClient, clock: Clock, v: str
) -> None:
    report(client, clock, "scratch", "down")
    docs = [get(client, f"/api/{v}/facility")]
    for path in LISTS:
        docs += get(client, f"/api/{v}{path}")
    uris = [u for d in docs for k, val in d.items() if k.endswith("uri") and val for u in [val]]
    uris += [u for d in docs for k, val in d.items() if k.endswith("uris") for u in val]
    for uri in uris:
        assert uri.startswith(f"{BASE}/api/{v}/"), uri
        assert client.get(uri.removeprefix(BASE)).status_code == 200, uri


@pytest.mark.parametrize("v", VERSIONS)
def test_resource_types_are_the_v1_enum_or_v2_urns(client: TestClient, v: str) -> None:
    types = {d["id"]: d["resource_type"] for d in get(client, f"/api/{v}/status/resources")}
    if v == "v1":
        assert types == {
            "batch": "compute",
            "broker": "service",
            "gateway": "service",
            "home": "storage",
            "scratch": "storage",
        }
    else:
        assert types["scratch"] == "urn:doe-iri:resource:storage:filesystem"
        assert types["batch"] == "urn:doe-iri:resource:compute:ext:facstat:partition"
        assert types["broker"] == "urn:doe-iri:resource:service:ext:facstat:dsn"
        assert types["gateway"] == "urn:doe-iri:resource:service"


# -- lists, paging, filters -----------------------------------------------------------


@pytest.mark.parametrize("v", VERSIONS)
def test_empty_lists_are_bare_empty_arrays_never_404(client: TestClient, v: str) -> None:
    for path, params in [
        ("/status/incidents", {}),
        ("/status/resources", {"group": "nope"}),
        ("/status/events", {"incident_id": "nope"}),
        ("/status/events", {"resource_id": "nope"}),
        ("/facility/sites", {"name": "nope"}),
    ]:
        response = client.get(f"/api/{v}{path}", params=params)
        assert (response.status_code, response.text) == (200, "[]")


@pytest.mark.parametrize("v", VERSIONS)
def test_offset_and_limit_page_the_list_sorted_by_id(client: TestClient, v: str) -> None:
    path = f"/api/{v}/status/resources"
    assert ids(client, path) == RESOURCES
    pages = [ids(client, path, offset=o, limit=2) for o in (0, 2, 4, 6)]
    assert pages == [RESOURCES[0:2], RESOURCES[2:4], RESOURCES[4:], []]
    assert ids(client, path, limit=0) == []
    assert len(ids(client, f"/api/{v}/status/events", limit=3, offset=1)) == 3


@pytest.mark.parametrize("v", VERSIONS)
@pytest.mark.parametrize("path", LISTS)
def test_limit_over_1000_is_a_400_problem_naming_limit(
    client: TestClient, v: str, path: str
) -> None:
    assert_problem(client.get(f"/api/{v}{path}", params={"limit": 1001}), 400, "limit")
    assert client.get(f"/api/{v}{path}", params={"limit": 1000}).status_code == 200


@pytest.mark.parametrize(
    ("v", "path", "param", "value"),
    [
        ("v1", "/status/resources", "offset", "-1"),
        ("v1", "/status/resources", "current_status", "sideways"),
        ("v1", "/status/resources", "resource_type", "storage:filesystem"),
        ("v2", "/status/resources", "resource_type", "storage"),
        ("v2", "/status/resources", "capability", "bytes"),
        ("v1", "/status/resources", "capability", "node-hours"),
        ("v2", "/status/resources", "modified_since", "yesterday"),
        ("v2", "/status/events", "modified_since", "2026-11-21T12:00:00"),
        ("v1", "/status/events", "from", "soon"),
        ("v2", "/status/events", "status", "maintenance"),
        ("v1", "/status/incidents", "type", "accident"),
        ("v2", "/status/incidents", "resolution", "canceled"),
        ("v1", "/facility/sites", "name", ""),
        ("v2", "/facility", "modified_since", "now"),
    ],
)
def test_invalid_query_values_are_400_problems_naming_the_field(
    client: TestClient, v: str, path: str, param: str, value: str
) -> None:
    assert_problem(client.get(f"/api/{v}{path}", params={param: value}), 400, param)


@pytest.mark.parametrize("v", VERSIONS)
def test_resources_filter_by_name_group_description_and_current_status(
    demo_client: TestClient, v: str
) -> None:
    path = f"/api/{v}/status/resources"
    assert ids(demo_client, path, name="Home filesystem (NFS)") == ["home"]
    assert ids(demo_client, path, name="Home") == []
    assert ids(demo_client, path, group="filesystems") == ["home", "project", "scratch"]
    assert ids(demo_client, path, description="OSTs") == ["scratch"]
    assert len(ids(demo_client, path, current_status="unknown")) == 17
    assert ids(demo_client, path, current_status="up") == []


def test_current_status_filter_follows_posted_observations(
    client: TestClient, clock: Clock
) -> None:
    report(client, clock, "scratch", "down")
    report(client, clock, "home", "degraded")
    for v in VERSIONS:
        assert ids(client, f"/api/{v}/status/resources", current_status="down") == ["scratch"]
        assert ids(client, f"/api/{v}/status/resources", current_status="degraded") == ["home"]


def test_v2_resource_type_matches_urn_prefixes_on_whole_segments(client: TestClient) -> None:
    path, urn = "/api/v2/status/resources", "urn:doe-iri:resource:"
    assert ids(client, path, resource_type=urn + "storage") == ["home", "scratch"]
    assert ids(client, path, resource_type=urn + "storage:filesystem") == ["home", "scratch"]
    assert ids(client, path, resource_type=urn + "stor") == []
    assert ids(client, path, resource_type=urn + "storage:file") == []
    assert ids(client, path, resource_type=urn + "compute") == ["batch"]
    assert ids(client, path, resource_type=urn + "service") == ["broker", "gateway"]
    assert ids(client, path, resource_type=urn + "service:ext:facstat:dsn") == ["broker"]


def test_v1_resource_type_filters_on_the_legacy_enum(client: TestClient) -> None:
    path = "/api/v1/status/resources"
    assert ids(client, path, resource_type="storage") == ["home", "scratch"]
    assert ids(client, path, resource_type="compute") == ["batch"]
    assert ids(client, path, resource_type="network") == []


def test_capability_is_accepted_and_no_resource_has_one_yet(client: TestClient) -> None:
    assert ids(client, "/api/v1/status/resources", capability=["node_hours", "bytes"]) == []
    urn = "urn:doe-iri:allocation:node-hours"
    assert ids(client, "/api/v2/status/resources", capability=urn) == []


@pytest.mark.parametrize("v", VERSIONS)
def test_sites_filter_by_name_and_short_name(demo_client: TestClient, v: str) -> None:
    path = f"/api/{v}/facility/sites"
    assert ids(demo_client, path, short_name="DNL") == ["main-campus"]
    assert ids(demo_client, path, name="Demo National Laboratory, main campus") == ["main-campus"]
    assert ids(demo_client, path, short_name="ORNL") == []


# -- events ---------------------------------------------------------------------------


@pytest.mark.parametrize("v", VERSIONS)
def test_events_appear_after_observations_are_posted(
    client: TestClient, clock: Clock, v: str
) -> None:
    before = scratch_events(client, v)
    at = report(client, clock, "scratch", "down")
    new = scratch_events(client, v)[len(before) :]
    incident = f"{BASE}/api/{v}/status/incidents/inc-1"  # scratch down opened it
    assert [(e["status"], e["occurred_at"], e["incident_uri"]) for e in new] == [
        ("down", iso(at), incident)
    ]
    assert new[0]["resource_uri"] == f"{BASE}/api/{v}/status/resources/scratch"
    assert new[0]["last_modified"] == new[0]["occurred_at"]
    assert get(client, f"/api/{v}/status/events/{new[0]['id']}") == new[0]


def test_events_filter_by_status_name_description_and_time(
    client: TestClient, clock: Clock
) -> None:
    path = "/api/v2/status/events"
    at = report(client, clock, "scratch", "down")
    down = ids(client, path, status="down")
    assert len(down) == 1 and ids(client, path, name="scratch: unknown -> down") == down
    assert ids(client, path, description="scratch is down") == down
    assert ids(client, path, time=iso(at)) == down
    assert ids(client, path, **{"from": iso(at)}) == down
    initial = ids(client, path, status="unknown")
    assert len(initial) == len(RESOURCES)  # every resource starts unknown at load
    assert ids(client, path, to=iso(at - timedelta(seconds=1))) == initial
    assert len(ids(client, path, resource_id="scratch", status="unknown")) == 1


# -- modified_since and conditional requests -----------------------------------------


@pytest.mark.parametrize("v", VERSIONS)
def test_modified_since_keeps_what_changed_after_it_and_is_304_when_nothing_did(
    client: TestClient, clock: Clock, v: str
) -> None:
    at = report(client, clock, "scratch", "down")
    assert ids(client, f"/api/{v}/status/resources", modified_since=iso(T0)) == ["scratch"]
    changed = get(client, f"/api/{v}/status/events", modified_since=iso(T0))
    assert [(e["status"], e["occurred_at"]) for e in changed] == [("down", iso(at))]
    for path in ("/status/resources", "/status/events", "/status/incidents"):
        response = client.get(f"/api/{v}{path}", params={"modified_since": iso(at)})
        assert (response.status_code, response.content) == (304, b"")


@pytest.mark.parametrize("v", VERSIONS)
def test_modified_since_on_the_facility_and_sites_compares_with_the_load_time(
    client: TestClient, v: str
) -> None:
    earlier = iso(T0 - timedelta(seconds=1))
    for path in ("/facility", "/facility/sites", "/facility/sites/campus"):
        assert client.get(f"/api/{v}{path}", params={"modified_since": earlier}).status_code == 200
        assert client.get(f"/api/{v}{path}", params={"modified_since": iso(T0)}).status_code == 304


@pytest.mark.parametrize("v", VERSIONS)
def test_an_etag_gets_304_until_the_status_changes(
    client: TestClient, clock: Clock, v: str
) -> None:
    path = f"/api/{v}/status/resources"
    first = client.get(path)
    etag = first.headers["etag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    report(client, clock, "scratch", "down")
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_if_modified_since_gets_304_for_the_facility(client: TestClient) -> None:
    last = client.get("/api/v2/facility").headers["last-modified"]
    assert client.get("/api/v2/facility", headers={"If-Modified-Since": last}).status_code == 304
    before = (T0 - timedelta(hours=1)).astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert client.get("/api/v2/facility", headers={"If-Modified-Since": before}).status_code == 200


# -- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("v", VERSIONS)
@pytest.mark.parametrize(
    "path",
    [
        "/status/resources/nope",
        "/status/incidents/nope",
        "/status/events/00000000-0000-0000-0000-000000000000",
        "/facility/sites/nope",
    ],
)
def test_unknown_ids_are_404_problems(client: TestClient, v: str, path: str) -> None:
    assert_problem(client.get(f"/api/{v}{path}"), 404)


def test_other_methods_are_405_problems_with_allow(client: TestClient) -> None:
    response = client.post("/api/v2/status/resources", json={})
    assert_problem(response, 405)
    assert response.headers["allow"] == "GET"


def test_the_openapi_documents_both_versions_under_their_tags(client: TestClient) -> None:
    doc = get(client, "/openapi.json")
    for v in VERSIONS:
        op = doc["paths"][f"/api/{v}/status/resources"]["get"]
        assert op["tags"] == [f"iri-{v}"] and op["summary"].startswith(f"IRI {v}")
        params = {p["name"]: p for p in op["parameters"]}
        assert {"name", "group", "resource_type", "current_status", "capability"} <= set(params)
        assert {"offset", "limit", "modified_since", "description"} <= set(params)
        assert {"200", "304", "400", "404"} <= set(op["responses"])
    v2_type = doc["paths"]["/api/v2/status/resources"]["get"]["parameters"]
    assert any(p["name"] == "resource_type" and "pattern" in str(p) for p in v2_type)


# -- planned incidents (maintenance windows) --------------------------------------------


def _window(client: TestClient, clock: Clock, wid: str, hours: float, **extra: Any) -> None:
    start = clock.now + timedelta(hours=hours)
    body = {
        "id": wid,
        "title": f"Window {wid}",
        "resources": ["scratch"],
        "start": iso(start),
        "end": iso(start + timedelta(hours=2)),
        **extra,
    }
    assert client.post("/api/v1/maintenance", json=body, headers=OPERATOR).status_code == 201


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_maintenance_windows_are_planned_incidents_in_the_iri_api(
    client: TestClient, clock: Clock, version: str
) -> None:
    _window(client, clock, "later", 24)
    _window(client, clock, "now", -1, effect="degraded")
    docs = get(client, f"/api/{version}/status/incidents")
    assert_valid(docs, f"{version}-incident")
    by_id = {d["id"]: d for d in docs}
    assert by_id["later"]["type"] == "planned" and by_id["later"]["resolution"] == "pending"
    assert by_id["now"]["resolution"] == "unresolved" and by_id["now"]["status"] == "degraded"
    assert by_id["now"]["resource_uris"][0].endswith(f"/api/{version}/status/resources/scratch")
    one = get(client, f"/api/{version}/status/incidents/later")
    assert one == by_id["later"]
    assert ids(client, f"/api/{version}/status/incidents", resolution="pending") == ["later"]
    assert ids(client, f"/api/{version}/status/incidents", resource_id="home") == []
    until = iso(clock.now + timedelta(hours=3))
    assert ids(client, f"/api/{version}/status/incidents", to=until) == ["now"]


def test_a_cancelled_window_is_a_cancelled_planned_incident(
    client: TestClient, clock: Clock
) -> None:
    _window(client, clock, "w", 24)
    client.post("/api/v1/maintenance/w/cancel", headers=OPERATOR)
    assert get(client, "/api/v2/status/incidents/w")["resolution"] == "cancelled"
