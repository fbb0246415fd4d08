"""Security headers on pages and API answers, CORS (off unless origins are configured),
and the secrets of the settings refused at their defaults outside development."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from api.security_headers import CSP
from facility.errors import ConfigError
from facility.settings import Settings, load_settings
from tests.conftest import OPERATOR, Clock, make_settings

ORIGIN = "https://beamline-portal.example.org"
EXPECTED = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
STRONG = {"collector_token": "c" * 20, "operator_token": "o" * 20, "session_secret": "s" * 40}


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """Headers do not touch the store: SQLite only."""
    return f"sqlite:///{tmp_path / 'facstat.db'}"


def client_with(db_url: str, clock: Clock, **settings: Any) -> Iterator[TestClient]:
    rt = Runtime.build(make_settings(db_url, **settings), clock=clock)
    try:
        with TestClient(create_app(runtime=rt, start=False)) as c:
            yield c
    finally:
        rt.store.close()


@pytest.fixture
def client(db_url: str, clock: Clock) -> Iterator[TestClient]:
    yield from client_with(db_url, clock)


@pytest.fixture
def cors(db_url: str, clock: Clock) -> Iterator[TestClient]:
    yield from client_with(db_url, clock, cors_origins=[ORIGIN])


def preflight(client: TestClient, origin: str) -> Any:
    headers = {"Origin": origin, "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "authorization,content-type"}  # fmt: skip
    return client.options("/api/v1/maintenance", headers=headers)


# -- headers ---------------------------------------------------------------------------------


PATHS = ["/", "/readiness", "/slas", "/signin", "/fragments/status", "/api/v1/status",
         "/api/v1/resources/nope", "/static/facstat.css", "/metrics"]  # fmt: skip


@pytest.mark.parametrize("path", PATHS)
def test_every_answer_carries_the_security_headers(client: TestClient, path: str) -> None:
    r = client.get(path)
    for name, value in EXPECTED.items():
        assert r.headers[name] == value, (path, name)
    assert "strict-transport-security" not in r.headers  # not over plain HTTP


def test_the_policy_forbids_inline_script_and_style_and_framing() -> None:
    parts = dict(p.strip().split(" ", 1) for p in CSP.split(";"))
    assert parts["script-src"] == "'self'" and parts["style-src"] == "'self'"
    assert parts["frame-ancestors"] == "'none'" and parts["default-src"] == "'self'"


def test_the_pages_have_no_inline_style_and_tell_htmx_not_to_inject_one(
    client: TestClient,
) -> None:
    html = client.get("/").text
    assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false}\'>' in html
    assert "<style" not in html and " style=" not in html and "<script>" not in html


def test_the_api_documentation_gets_its_own_policy_and_still_loads(client: TestClient) -> None:
    r = client.get("/docs")
    assert r.status_code == 200 and "https://cdn.jsdelivr.net" in r.text
    assert "https://cdn.jsdelivr.net" in r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_refusals_from_the_limits_carry_the_headers_too(db_url: str, clock: Clock) -> None:
    for c in client_with(db_url, clock, max_body_bytes=10):
        r = c.post("/api/v1/maintenance", content=b"x" * 100, headers=OPERATOR)
        assert r.status_code == 413 and r.headers["x-frame-options"] == "DENY"


def test_https_deployments_get_strict_transport_security(db_url: str, clock: Clock) -> None:
    for c in client_with(db_url, clock, base_url="https://status.example.org"):
        assert c.get("/api/v1/status").headers["strict-transport-security"] == "max-age=31536000"


# -- CORS --------------------------------------------------------------------------------------


def test_without_configured_origins_no_answer_carries_cors_headers(client: TestClient) -> None:
    r = client.get("/api/v1/status", headers={"Origin": ORIGIN})
    assert not [h for h in r.headers if h.startswith("access-control-")]
    assert not [h for h in preflight(client, ORIGIN).headers if h.startswith("access-control-")]


def test_a_configured_origin_gets_its_preflight_answered_and_others_do_not(
    cors: TestClient,
) -> None:
    ok = preflight(cors, ORIGIN)
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in ok.headers["access-control-allow-methods"]
    assert "authorization" in ok.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in ok.headers
    other = preflight(cors, "https://evil.example.net")
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers


def test_a_configured_origin_may_read_answers_and_their_etag(cors: TestClient) -> None:
    r = cors.get("/api/v1/status", headers={"Origin": ORIGIN})
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert "etag" in r.headers["access-control-expose-headers"].lower()
    other = cors.get("/api/v1/status", headers={"Origin": "https://evil.example.net"})
    assert "access-control-allow-origin" not in other.headers


def test_origins_come_comma_separated_from_the_environment_and_are_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FACSTAT_CORS_ORIGINS", f"{ORIGIN}, http://localhost:3000")
    assert Settings(_env_file=None).cors_origins == [ORIGIN, "http://localhost:3000"]  # type: ignore[call-arg]
    monkeypatch.setenv("FACSTAT_CORS_ORIGINS", "https://portal.example.org/path")
    with pytest.raises(ConfigError, match="FACSTAT_CORS_ORIGINS"):
        load_settings(_env_file=None)
    assert Settings(_env_file=None, cors_origins=[]).cors_origins == []  # type: ignore[call-arg]


# -- secrets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["collector_token", "operator_token", "session_secret"])
@pytest.mark.parametrize("value", [None, "", "changeme", "secret", "facstat", "short"])
def test_production_refuses_each_secret_missing_or_left_at_a_default(
    name: str, value: str | None
) -> None:
    given = {**STRONG, name: value}
    with pytest.raises(ConfigError, match=name):
        load_settings(_env_file=None, environment="production", **given)


def test_production_accepts_strong_secrets_and_development_needs_none() -> None:
    assert load_settings(_env_file=None, environment="production", **STRONG)
    assert load_settings(_env_file=None, environment="development").operator_token is None


def test_secrets_are_never_shown_in_the_settings_repr() -> None:
    s = load_settings(_env_file=None, environment="production", **STRONG)
    assert "o" * 20 not in repr(s) and "s" * 40 not in repr(s)
