"""The auth matrix, generated from the app's routes: every API route either needs a
scope (found by reading its `require(scope)` dependencies) or is in the explicit
public list below, so a new endpoint cannot be forgotten.

Scoped routes: no token → 401, an expired or a revoked token (holding every scope) →
401, a token with every other scope → 403, the right scope (and admin) → neither.
Public routes: no token → neither 401 nor 403. `POST /api/v1/observations` with a
token bound to other resources → 403, nothing stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import ADMIN, OBSERVATIONS_WRITE, SCOPES
from api.runtime import Runtime
from api.tokens import TokenStore
from tests.api.helpers import iso, observation, post
from tests.conftest import DATA, OPERATOR, SMALL, Clock, _truncate, make_settings

PUBLIC = {
    ("GET", "/api/v1/status"),
    ("GET", "/api/v1/resources"),
    ("GET", "/api/v1/resources/{resource_id}"),
    ("GET", "/api/v1/resources/{resource_id}/history"),
    ("GET", "/api/v1/events"),
    ("GET", "/api/v1/maintenance"),
    ("GET", "/api/v1/maintenance.ics"),
    ("GET", "/api/v1/maintenance/{window_id}"),
    ("GET", "/api/v1/beamlines"),
    ("GET", "/api/v1/beamlines/{beamline_id}"),
    ("GET", "/api/v1/conflicts"),
    ("GET", "/api/v1/readiness"),
    ("GET", "/api/v1/readiness/walltime"),
    ("GET", "/api/v1/slas"),
    ("GET", "/api/v1/slas/{sla_id}"),
    ("GET", "/api/v1/slas/{sla_id}/report.csv"),
    ("GET", "/api/v1/incidents"),  # internal fields with status:read-internal
    ("GET", "/api/v1/incidents/{incident_id}"),
    ("GET", "/api/v1/oncall"),
    ("GET", "/api/v1/runbooks"),
    ("GET", "/api/v1/runbooks/{runbook_id}"),
    # here (no background work) it answers 503 at once; streamed live in test_stream.py
    ("GET", "/api/v1/stream"),
    *(
        ("GET", f"/api/{v}/{p}")
        for v in ("v1", "v2")
        for p in (
            "status/resources",
            "status/resources/{resource_id}",
            "status/incidents",
            "status/incidents/{incident_id}",
            "status/events",
            "status/events/{event_id}",
            "facility",
            "facility/sites",
            "facility/sites/{site_id}",
        )
    ),
}
ADMIN_TOKEN = "matrix-admin-token-0123456789"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # the template, e.g. /api/v1/incidents/{incident_id}
    scopes: frozenset[str]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _scopes(dependant: Any) -> frozenset[str]:
    """Every scope a route's dependencies require (`require(scope)` sets `check.scope`)."""
    found: set[str] = set()
    for dep in dependant.dependencies:
        scope = getattr(dep.call, "scope", None)
        if isinstance(scope, str):
            found.add(scope)
        found |= _scopes(dep)
    return frozenset(found)


def _route_contexts(app: FastAPI) -> list[Any]:
    """The app's effective routes (FastAPI ≥ 0.13x keeps included routers lazily)."""
    try:
        from fastapi.routing import iter_route_contexts  # type: ignore[attr-defined]
    except ImportError:
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def endpoints(app: FastAPI) -> list[Endpoint]:
    out = []
    for rc in _route_contexts(app):
        route = getattr(rc, "original_route", rc)
        if isinstance(route, APIRoute) and rc.path.startswith("/api/"):
            for method in sorted(rc.methods):
                out.append(Endpoint(method, rc.path, _scopes(rc.dependant)))
    return out


# -- one facility with something behind every kind of id, on each store ------------


@dataclass
class World:
    client: TestClient
    rt: Runtime
    clock: Clock
    paths: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)  # role -> bearer token

    def token(self, role: str, scopes: list[str], lifetime: float = 86400, **kw: Any) -> str:
        if role not in self.tokens:
            store, now = TokenStore(self.rt.store.engine), kw.pop("now", self.clock.now)
            issued = store.create(role, scopes, kw.get("resources", []), td(lifetime), "t", now)
            self.tokens[role] = issued.token
        return self.tokens[role]

    def wrong(self, needed: frozenset[str]) -> str:
        others = [s for s in SCOPES if s not in needed and s != ADMIN]
        return self.token("wrong:" + ",".join(sorted(needed)), others)

    def call(self, e: Endpoint, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        url = e.path.format_map(self.paths)
        body = {} if e.method in ("POST", "PUT", "PATCH") else None
        return self.client.request(e.method, url, json=body, headers=headers)


def td(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def _facility(tmp: Path) -> Path:
    facility = tmp / "facility.yaml"
    policy = DATA / "incidents" / "incidents.yaml"
    facility.write_text(SMALL.read_text() + f"\noperations:\n  incidents: {policy}\n")
    return facility


def _populate(client: TestClient, clock: Clock) -> dict[str, str]:
    """An incident, a window, a subscription, an event: real ids for the paths."""
    for state in ("up", "up", "down", "down"):
        post(client, *(observation(r, clock.now, state) for r in ("scratch", "home")))
        clock.advance(5)
    incident = client.get("/api/v1/incidents", headers=OPERATOR).json()["items"][0]["id"]
    start = clock.now + timedelta(hours=1)
    window = {"id": "scratch-upgrade", "title": "Scratch upgrade", "resources": ["scratch"],
              "start": iso(start), "end": iso(start + timedelta(hours=4)),
              "notice_given_at": iso(clock.now - timedelta(days=10))}  # fmt: skip
    assert client.post("/api/v1/maintenance", json=window, headers=OPERATOR).status_code == 201
    sub = {"kind": "email", "target": "ops@example.org"}
    sub_id = client.post("/api/v1/subscriptions", json=sub, headers=OPERATOR).json()["id"]
    event = client.get("/api/v1/status/events").json()
    event_id = (event if isinstance(event, list) else event.get("items", [{}]))[0].get("id", "x")
    return {"incident_id": str(incident), "window_id": "scratch-upgrade", "sub_id": str(sub_id),
            "resource_id": "scratch", "beamline_id": "bl1", "sla_id": "none", "site_id": "campus",
            "event_id": str(event_id), "runbook_id": "filesystem-full",
            "runbook": "filesystem-full", "step": "confirm"}  # fmt: skip


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("matrix")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'matrix.db'}"
    else:
        url = request.getfixturevalue("pg_database")
        _truncate(url)
    clock = Clock()
    settings = make_settings(
        url, facility=_facility(tmp), admin_token=ADMIN_TOKEN, rate_limit_per_minute=0
    )
    rt = Runtime.build(settings, clock=clock)
    with TestClient(create_app(runtime=rt, start=False)) as client:
        w = World(client, rt, clock, _populate(client, clock))
        w.paths["token_id"] = (
            TokenStore(rt.store.engine)
            .create("victim", [ADMIN], [], td(3600), "t", clock.now)
            .info.id
        )
        yield w
    rt.store.close()


@pytest.fixture(scope="module")
def app_endpoints(world: World) -> list[Endpoint]:
    found = endpoints(world.client.app)  # type: ignore[arg-type]
    assert len(found) > 40, "the app's routes were not found"
    return found


def scoped(found: list[Endpoint]) -> list[Endpoint]:
    return [e for e in found if e.scopes]


def check(w: World, found: list[Endpoint], token: str | None, ok: Any, why: str) -> None:
    wrong = []
    for e in found:
        r = w.call(e, token(e) if callable(token) else token)
        if not ok(r):
            wrong.append(f"{e}: {r.status_code} {r.text[:160]}")
    assert not wrong, f"{why}:\n" + "\n".join(wrong)


# -- the matrix ----------------------------------------------------------------------


def test_every_api_route_is_public_or_needs_a_scope(app_endpoints: list[Endpoint]) -> None:
    unclassified = [
        str(e) for e in app_endpoints if not e.scopes and (e.method, e.path) not in PUBLIC
    ]
    assert not unclassified, (
        "routes that need no scope and are not in PUBLIC: add `require(scope)` or, if anyone "
        "may call them, list them in PUBLIC:\n" + "\n".join(unclassified)
    )


def test_the_public_list_names_only_existing_unscoped_routes(
    app_endpoints: list[Endpoint],
) -> None:
    by_key = {(e.method, e.path): e for e in app_endpoints}
    assert sorted(k for k in PUBLIC if k not in by_key) == []
    assert sorted(k for k in PUBLIC if by_key[k].scopes) == []


def test_every_scope_guards_some_route(app_endpoints: list[Endpoint]) -> None:
    guarded = {s for e in app_endpoints for s in e.scopes}
    assert guarded == set(SCOPES)


def test_scoped_routes_refuse_a_request_without_a_token(
    world: World, app_endpoints: list[Endpoint]
) -> None:
    def ok(r: httpx.Response) -> bool:
        return r.status_code == 401 and r.headers.get("www-authenticate", "").startswith("Bearer")

    check(world, scoped(app_endpoints), None, ok, "expected 401 without a token")


def test_scoped_routes_refuse_an_expired_token(world: World, app_endpoints: list[Endpoint]) -> None:
    then = world.clock.now - timedelta(hours=2)
    token = world.token("expired", list(SCOPES), lifetime=3600, now=then)

    def ok(r: httpx.Response) -> bool:
        return r.status_code == 401 and r.json()["detail"] == "token expired"

    check(world, scoped(app_endpoints), token, ok, "expected 401 'token expired'")


def test_scoped_routes_refuse_a_revoked_token(world: World, app_endpoints: list[Endpoint]) -> None:
    token = world.token("revoked", list(SCOPES))
    TokenStore(world.rt.store.engine).revoke(token.split("_")[1], world.clock.now)

    def ok(r: httpx.Response) -> bool:
        return r.status_code == 401 and r.json()["detail"] == "token revoked"

    check(world, scoped(app_endpoints), token, ok, "expected 401 'token revoked'")


def test_scoped_routes_refuse_a_token_with_every_other_scope(
    world: World, app_endpoints: list[Endpoint]
) -> None:
    def ok(r: httpx.Response) -> bool:
        return r.status_code == 403

    check(world, scoped(app_endpoints), lambda e: world.wrong(e.scopes), ok, "expected 403")


@pytest.mark.parametrize("holder", ["scope", "admin"])
def test_scoped_routes_let_the_right_scope_through(
    world: World, app_endpoints: list[Endpoint], holder: str
) -> None:
    """Past authorisation the answer is the route's own: 2xx, or 404/409/422 for the
    bodies and ids the matrix sends; never 401, 403 or a 5xx."""

    def token(e: Endpoint) -> str:
        if holder == "admin":
            return world.token("admin", [ADMIN])
        return world.token("right:" + ",".join(sorted(e.scopes)), sorted(e.scopes))

    def ok(r: httpx.Response) -> bool:
        return r.status_code not in (401, 403) and r.status_code < 500

    check(world, scoped(app_endpoints), token, ok, f"expected the {holder} to pass auth")


def test_public_routes_answer_without_a_token(world: World, app_endpoints: list[Endpoint]) -> None:
    public = [e for e in app_endpoints if not e.scopes]

    def ok(r: httpx.Response) -> bool:
        return r.status_code not in (401, 403)

    check(world, public, None, ok, "a public route asked for credentials")


def test_a_collector_bound_to_other_resources_is_forbidden_and_nothing_is_stored(
    world: World,
) -> None:
    token = world.token("bound", [OBSERVATIONS_WRITE], resources=["home"])
    w, now = world, world.clock.now
    before = len(w.rt.store.observations("scratch")), len(w.rt.store.observations("home"))
    batch = {"observations": [observation("home", now), observation("scratch", now)]}
    r = w.client.post(
        "/api/v1/observations", json=batch, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 403, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["observations[1].resource_id"]
    after = len(w.rt.store.observations("scratch")), len(w.rt.store.observations("home"))
    assert after == before
    ours = json.dumps({"observations": [observation("home", now)]})
    r = w.client.post(
        "/api/v1/observations",
        content=ours,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text


def test_a_bound_collector_cannot_report_other_resources_through_alertmanager(
    world: World,
) -> None:
    token = world.token("bound", [OBSERVATIONS_WRITE], resources=["home"])
    payload = json.loads((DATA / "alertmanager" / "firing.json").read_text())
    alert = payload["alerts"][0]
    mine = alert | {"labels": alert["labels"] | {"resource": "home"}}
    other = alert | {"labels": alert["labels"] | {"resource": "broker"}}
    stray = alert | {"labels": {"alertname": "DiskFull", "severity": "page"}}  # no resource
    url, headers = "/api/v1/alerts/alertmanager", {"Authorization": f"Bearer {token}"}
    before = len(world.rt.store.observations("broker")), len(world.rt.store.observations("home"))
    incidents = len(world.client.get("/api/v1/incidents").json()["items"])
    r = world.client.post(url, json=payload | {"alerts": [mine, other, stray]}, headers=headers)
    assert r.status_code == 403, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["alerts[1]", "alerts[2]"]
    after = len(world.rt.store.observations("broker")), len(world.rt.store.observations("home"))
    assert after == before
    assert len(world.client.get("/api/v1/incidents").json()["items"]) == incidents
    r = world.client.post(url, json=payload | {"alerts": [mine]}, headers=headers)
    assert r.status_code == 200 and r.json()["observations"] == 1, r.text
