"""Schemathesis against facstat's own OpenAPI (`/openapi.json`), in process over ASGI.

Every operation of the schema, with cases generated from it (its examples, boundary
values, then random valid and invalid data), is sent with a token that may call it (the
admin token, which holds every scope) and every read also without one (the public
view); checks: no 5xx (`not_a_server_error`) and every documented response matches its
schema (`response_schema_conformance`). Then a stateful run follows the links between
operations: the schema declares none, so they are the ones schemathesis infers from it
(an incident's `id` into `/incidents/{incident_id}/…`, a maintenance window's `id`
into `/maintenance/{window_id}`, listed tokens into `DELETE /tokens/{token_id}`, …).

The run is bounded (a few examples per operation, no deadline) to stay near a minute
on two cores. The app is the test facility with its incident policy, on one SQLite
store that starts with a degraded and a down resource, an open incident and a
maintenance window, so reads have something to return. Store backends are covered by
the rest of the suite; this exercises the HTTP layer.
"""

from __future__ import annotations

import atexit
import json
import math
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from api.runtime import Runtime
from tests.conftest import AUTH, DATA, OPERATOR, SMALL, make_settings

ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CHECKS = [not_a_server_error, response_schema_conformance]
EXAMPLES = 12  # fuzzed cases per operation, after its examples and boundary values
STEPS = 8  # calls per stateful scenario
SCENARIOS = 40
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"max-examples": EXAMPLES},
        "phases": {"stateful": {"max-steps": STEPS}},
    }
)
# Hypothesis' own limits: schemathesis cases are large and the app answers in-process.
BOUNDED = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def build(workdir: Path) -> tuple[Runtime, FastAPI]:
    facility = workdir / "facility.yaml"
    policy = DATA / "incidents" / "incidents.yaml"
    facility.write_text(SMALL.read_text() + f"\noperations:\n  incidents: {policy}\n")
    settings_ = make_settings(
        f"sqlite:///{workdir / 'facstat.db'}",
        facility=facility,
        admin_token=ADMIN_TOKEN,
        rate_limit_per_minute=0,  # the rate limit has its own tests; here it would answer 429
    )
    rt = Runtime.build(settings_)
    app = create_app(runtime=rt, start=False)
    with TestClient(app) as client:
        seed(client)
    return rt, app


def seed(client: TestClient) -> None:
    """Two rounds of reports (the facility's hysteresis): batch drained, scratch down."""
    now = datetime.now(UTC)
    for i, at in enumerate((now - timedelta(seconds=20), now - timedelta(seconds=10))):
        obs = [
            _obs("home", at, "up"),
            _obs("broker", at, "up"),
            _obs("gateway", at, "up"),
            _obs("batch", at, "degraded" if i else "up", 0.5, "nodes_drained",
                 "2 of 4 nodes drained: 2 'bad DIMM' (node1, node2)"),
            _obs("scratch", at, "down" if i else "up", 0.0, "io_error",
                 "write in /scratch/.facstat failed: EIO"),
        ]  # fmt: skip
        r = client.post("/api/v1/observations", json={"observations": obs}, headers=AUTH)
        assert r.status_code == 200, r.text
    new_window(client)


def new_window(client: TestClient) -> str:
    """A maintenance window on scratch ten days ahead; its id."""
    start = datetime.now(UTC) + timedelta(days=10)
    window = {
        "title": "Scratch firmware", "resources": ["scratch"], "effect": "down",
        "start": start.isoformat(), "end": (start + timedelta(hours=4)).isoformat(),
    }  # fmt: skip
    r = client.post("/api/v1/maintenance", json=window, headers=OPERATOR)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _obs(rid: str, at: datetime, state: str, *why: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"resource_id": rid, "observed_at": at.isoformat(), "source": "st"}
    out["state"] = state
    if why:
        capacity, code, message = why
        out |= {"capacity": capacity, "reasons": [{"code": code, "message": message}]}
    return out


def _cleanup(rt: Runtime, workdir: Path) -> None:
    rt.store.close()
    shutil.rmtree(workdir, ignore_errors=True)


# Built at import, as schemathesis parametrizes the tests from the live schema; removed
# at exit even when every test here is deselected.
WORKDIR = Path(tempfile.mkdtemp(prefix="facstat-schemathesis-"))
RUNTIME, APP = build(WORKDIR)
atexit.register(_cleanup, RUNTIME, WORKDIR)
# The SSE stream never ends (and answers 503 in an app without its background work): it
# is exercised against a live server in tests/api/test_stream.py, bad input included.
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG).exclude(
    path="/api/v1/stream"
)


@schema.parametrize()
@BOUNDED
def test_no_operation_answers_5xx_or_breaks_its_schema_for_a_caller_allowed_to_call_it(
    case: schemathesis.Case,
) -> None:
    case.call_and_validate(headers=ADMIN, checks=CHECKS)


@schema.include(method="GET").parametrize()
@BOUNDED
def test_no_read_answers_5xx_or_breaks_its_schema_for_an_anonymous_caller(
    case: schemathesis.Case,
) -> None:
    case.call_and_validate(checks=CHECKS)


CHAIN_FAILURES: list[str] = []


class APIWorkflows(schema.as_state_machine()):  # type: ignore[misc]
    """Chains of calls along the inferred links, as the admin. Failures are also kept
    here: Hypothesis replays a failing scenario once, and against a server whose state
    has moved on that replay draws differently and reports only `FlakyStrategyDefinition`."""

    def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
        return {"headers": ADMIN}

    def call(self, case: schemathesis.Case, **kwargs: Any) -> Any:
        try:
            return super().call(case, **kwargs)
        except Exception as exc:  # the app raised: a 500 over the in-process transport
            CHAIN_FAILURES.append(f"{case.as_curl_command()}\n  -> 500: {exc!r}")
            raise

    def validate_response(
        self, response: Any, case: schemathesis.Case, additional_checks: Any = (), **kw: Any
    ) -> None:
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as exc:
            CHAIN_FAILURES.append(f"{case.as_curl_command()}\n  -> {exc}")
            raise


def test_the_schema_has_links_for_a_stateful_run() -> None:
    links = [
        link
        for path in schema.raw_schema["paths"].values()
        for op in path.values()
        if isinstance(op, dict)
        for response in op.get("responses", {}).values()
        for link in (response.get("links") or {}).values()
    ]
    assert links, "schemathesis inferred no links: the stateful run would test nothing"


def test_chains_of_linked_calls_never_answer_5xx_or_break_the_schema() -> None:
    # generation only, as schemathesis' own runner does: the server's state moves on, so
    # replaying or shrinking a scenario would not draw the same calls again
    CHAIN_FAILURES.clear()
    try:
        APIWorkflows.run(
            settings=settings(
                BOUNDED,
                max_examples=SCENARIOS,
                stateful_step_count=STEPS,
                phases=[Phase.generate],
                database=None,
            )
        )
    except Exception:
        if CHAIN_FAILURES:
            pytest.fail("\n".join(dict.fromkeys(CHAIN_FAILURES)), pytrace=False)
        raise


# What these runs found, as exact requests, so each stays checked whatever a run draws.
FOUND: list[tuple[str, str, Any]] = [
    ("PATCH", "/api/v1/maintenance/{window}", {"exdates": None}),
    ("PATCH", "/api/v1/maintenance/{window}", {"resources": None}),
    ("PATCH", "/api/v1/maintenance/{window}", {"title": None}),
    ("PATCH", "/api/v1/maintenance/{window}", {"description": None}),
    ("PATCH", "/api/v1/maintenance/{window}", {"end": None}),
    ("PATCH", "/api/v1/maintenance/mw-none", {"exdates": None}),
    ("GET", "/api/v1/maintenance?start=0001-01-01T00:00:00Z", None),
    ("GET", "/api/v1/maintenance?start=0001-01-01T00:00:00-00:42", None),
    ("GET", "/api/v1/incidents/9223372036854775808", None),
    ("POST", "/api/v1/incidents/9223372036854775808/ack", None),
    ("POST", "/api/v1/incidents/9223372036854775808/mitigate", None),
    ("POST", "/api/v1/incidents/9223372036854775808/resolve", None),
    ("POST", "/api/v1/incidents/9223372036854775808/cancel", None),
    ("POST", "/api/v1/incidents/9223372036854775808/notes", {"text": "0"}),
    ("DELETE", "/api/v1/subscriptions/9223372036854775808", None),
    ("GET", "/api/v1/events?after=9223372036854775808", None),
    ("GET", "/api/v1/status/events?offset=9223372036854775808", None),
    ("GET", "/api/v2/status/events?offset=9223372036854775808", None),
]


@pytest.mark.parametrize(
    ("method", "url", "body"), FOUND, ids=[f"{m} {u} {json.dumps(b)}" for m, u, b in FOUND]
)
def test_what_the_runs_found_is_answered_without_a_server_error(
    method: str, url: str, body: Any
) -> None:
    with TestClient(APP, raise_server_exceptions=False) as client:
        window = new_window(client)
        kwargs = {"json": body} if body is not None else {}
        r = client.request(method, url.format(window=window), headers=ADMIN, **kwargs)
    assert r.status_code < 500, r.text


DB_INT_MAX = 2**31 - 1  # ids are `integer` columns: 32 bits in PostgreSQL


def _integers(node: Any, where: str, components: dict[str, Any]) -> list[str]:
    """Every integer in an input schema (with its place) that has no maximum a store can
    hold; references are followed once."""
    if isinstance(node, list):
        return [bad for i, item in enumerate(node) for bad in _integers(item, where, components)]
    if not isinstance(node, dict):
        return []
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        target = components.pop(name, None)  # each component once
        return _integers(target, f"{where}->{name}", components) if target else []
    found = []
    if node.get("type") == "integer" and node.get("maximum", math.inf) > DB_INT_MAX:
        found.append(where)
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            for name, sub in value.items():
                found += _integers(sub, f"{where}.{name}", components)
        else:
            found += _integers(value, where, components)
    return found


def test_every_integer_a_caller_sends_is_bounded_to_what_a_store_holds() -> None:
    # an unbounded integer reaches SQL as a parameter the store cannot bind (SQLite past
    # 64 bits, PostgreSQL past 32): a 500 instead of the 4xx that names the field
    raw = APP.openapi()
    components = dict(raw.get("components", {}).get("schemas", {}))
    unbounded = []
    for path, item in raw["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            for p in op.get("parameters", []):
                unbounded += _integers(p.get("schema"), f"{method} {path} {p['name']}", components)
            body = op.get("requestBody", {}).get("content", {})
            for media in body.values():
                unbounded += _integers(media.get("schema"), f"{method} {path} body", components)
    assert not unbounded, "\n".join(unbounded)
