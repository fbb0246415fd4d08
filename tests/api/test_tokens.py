"""API tokens: issued by admins and shown once, stored hashed, scoped, bound to
resources, always expiring, revocable; through the API and the `facstat tokens` CLI."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from api.tokens import TokenStore, parse_lifetime
from facility.settings import Settings
from tests.api.helpers import OBSERVATIONS, PROBLEM, observation
from tests.conftest import AUTH, OPERATOR, SMALL, Clock, make_settings

ADMIN_TOKEN = "test-admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TOKENS = "/api/v1/tokens"
FACSTAT = Path(sys.executable).parent / "facstat"


@pytest.fixture
def rt(db_url: str, clock: Clock) -> Iterator[Runtime]:
    runtime = Runtime.build(make_settings(db_url, admin_token=ADMIN_TOKEN), clock=clock)
    yield runtime
    runtime.store.close()


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=rt, start=False)) as c:
        yield c


def issue(client: TestClient, **fields: Any) -> dict[str, Any]:
    body = {"name": "beamline collector", "scopes": ["observations:write"], "expires_in": "30d"}
    r = client.post(TOKENS, json=body | fields, headers=ADMIN)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def report(client: TestClient, token: str, clock: Clock, *resources: str) -> Any:
    batch = {"observations": [observation(r, clock.now) for r in resources]}
    return client.post(OBSERVATIONS, json=batch, headers=bearer(token))


def rejected(client: TestClient, **fields: Any) -> list[str]:
    body = {"name": "x", "scopes": ["observations:write"], "expires_in": "30d"} | fields
    r = client.post(TOKENS, json=body, headers=ADMIN)
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM, r.text
    return [e["field"] for e in r.json()["errors"]]


def test_an_issued_token_is_shown_once_and_listed_without_its_secret(
    client: TestClient, clock: Clock
) -> None:
    t = issue(client)
    token_id, secret = t["token"].removeprefix("fst_").split("_", 1)
    assert t["id"] == token_id and len(secret) >= 40
    assert t["status"] == "active" and t["created_by"] == "static:admin"
    assert t["expires_at"] == (clock.now + timedelta(days=30)).isoformat().replace("+00:00", "Z")
    listed = client.get(TOKENS, headers=ADMIN)
    assert listed.status_code == 200
    (item,) = listed.json()["items"]
    assert item["id"] == token_id and "token" not in item and secret not in listed.text


def test_only_a_hash_of_the_secret_is_stored(client: TestClient, rt: Runtime) -> None:
    t = issue(client)
    secret = t["token"].split("_", 2)[2]
    with rt.store.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM api_token")).mappings().one()
    assert row["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert not any(secret in str(value) for value in row.values())


def test_an_issued_token_works_for_its_scope_only(client: TestClient, clock: Clock) -> None:
    token = issue(client)["token"]
    assert report(client, token, clock, "scratch").status_code == 200
    r = client.post("/api/v1/incidents/1/ack", json={}, headers=bearer(token))
    assert r.status_code == 403 and "incidents:write" in r.json()["detail"]


def test_a_lifetime_over_the_maximum_is_refused_naming_expires_in(client: TestClient) -> None:
    assert rejected(client, expires_in="91d") == ["expires_in"]
    assert rejected(client, expires_in="P91D") == ["expires_in"]
    for bad in ("0d", "soon", "30", "-P1D", "P99999999999D", "999999999w"):
        assert rejected(client, expires_in=bad) == ["expires_in"], bad
    assert issue(client, expires_in="P90D")["status"] == "active"
    assert issue(client, expires_in="PT12H")["status"] == "active"


def test_the_maximum_lifetime_is_a_setting(db_url: str, clock: Clock) -> None:
    settings = make_settings(db_url, admin_token=ADMIN_TOKEN, token_max_lifetime=timedelta(days=7))
    rt = Runtime.build(settings, clock=clock)
    with TestClient(create_app(runtime=rt, start=False)) as client:
        r = client.post(
            TOKENS, json={"name": "x", "scopes": ["admin"], "expires_in": "8d"}, headers=ADMIN
        )
        assert r.status_code == 422 and "7 days" in r.json()["detail"]
        assert issue(client, expires_in="1w")["status"] == "active"
    rt.store.close()


def test_only_the_five_known_scopes_are_accepted(client: TestClient) -> None:
    assert rejected(client, scopes=["observations:write", "root"]) == ["scopes[1]"]
    assert rejected(client, scopes=[]) == ["scopes"]
    t = issue(client, scopes=["status:read-internal", "maintenance:write", "incidents:write"])
    assert t["scopes"] == ["status:read-internal", "maintenance:write", "incidents:write"]


def test_a_resource_binding_is_checked_against_the_facility(client: TestClient) -> None:
    assert rejected(client, resources=["scratch", "scrach"]) == ["resources[1]"]
    assert rejected(client, scopes=["maintenance:write"], resources=["scratch"]) == ["resources"]
    assert issue(client, resources=["scratch", "hpc"])["resources"] == ["hpc", "scratch"]


def test_a_bound_token_reports_on_its_resources_and_systems_only(
    client: TestClient, clock: Clock, rt: Runtime
) -> None:
    token = issue(client, resources=["storage"])["token"]  # the system: scratch and home
    assert report(client, token, clock, "scratch", "home").status_code == 200
    clock.advance(5)
    r = report(client, token, clock, "home", "broker")
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "observations[1].resource_id"
    assert len(rt.store.observations("home")) == 1 and rt.store.observations("broker") == []


def test_a_revoked_token_is_refused_and_stays_listed(
    client: TestClient, clock: Clock, rt: Runtime
) -> None:
    t = issue(client)
    clock.advance(60)
    r = client.delete(f"{TOKENS}/{t['id']}", headers=ADMIN)
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    again = report(client, t["token"], clock, "scratch")
    assert again.status_code == 401 and again.json()["detail"] == "token revoked"
    assert 'error="invalid_token"' in again.headers["www-authenticate"]
    (item,) = client.get(TOKENS, headers=ADMIN).json()["items"]
    assert item["status"] == "revoked" and item["revoked_at"] == r.json()["revoked_at"]
    assert client.delete(f"{TOKENS}/{t['id']}", headers=ADMIN).json() == r.json()
    assert client.delete(f"{TOKENS}/0123abcd", headers=ADMIN).status_code == 404


def test_an_expired_token_is_refused(client: TestClient, clock: Clock) -> None:
    t = issue(client, expires_in="1h")
    clock.advance(3600)
    r = report(client, t["token"], clock, "scratch")
    assert r.status_code == 401 and r.json()["detail"] == "token expired"
    assert client.get(TOKENS, headers=ADMIN).json()["items"][0]["status"] == "expired"


def test_a_forged_or_malformed_token_is_unknown(client: TestClient, clock: Clock) -> None:
    t = issue(client)
    forged = t["token"][:-4] + ("AAAA" if not t["token"].endswith("AAAA") else "BBBB")
    for token in (forged, f"fst_{t['id']}", "fst_", "fst_ffff_secret", "fst__x"):
        r = report(client, token, clock, "scratch")
        assert r.status_code == 401 and r.json()["detail"] == "unknown or invalid token", token


def test_last_use_is_recorded_at_most_once_a_minute(client: TestClient, clock: Clock) -> None:
    t = issue(client)

    def last_used() -> str | None:
        items = client.get(TOKENS, headers=ADMIN).json()["items"]
        return next(i["last_used_at"] for i in items if i["id"] == t["id"])

    assert last_used() is None
    first = clock.now
    assert report(client, t["token"], clock, "scratch").status_code == 200
    assert last_used() == first.isoformat().replace("+00:00", "Z")
    clock.advance(30)
    report(client, t["token"], clock, "scratch")
    assert last_used() == first.isoformat().replace("+00:00", "Z")
    clock.advance(31)
    report(client, t["token"], clock, "scratch")
    assert last_used() == clock.now.isoformat().replace("+00:00", "Z")


def test_tokens_are_managed_by_admins_only(client: TestClient) -> None:
    body = {"name": "x", "scopes": ["admin"], "expires_in": "1d"}
    assert client.post(TOKENS, json=body).status_code == 401
    for headers in (AUTH, OPERATOR):
        assert client.post(TOKENS, json=body, headers=headers).status_code == 403
        assert client.get(TOKENS, headers=headers).status_code == 403
    admin = issue(client, scopes=["admin"])["token"]
    made = client.post(TOKENS, json=body, headers=bearer(admin))
    assert made.status_code == 201 and made.json()["created_by"] == f"token:{admin.split('_')[1]}"


def test_production_refuses_a_short_admin_token() -> None:
    strong = {
        "collector_token": "c" * 20,
        "operator_token": "o" * 20,
        "session_secret": "s" * 40,
    }
    with pytest.raises(ValueError, match="admin_token"):
        Settings(environment="production", admin_token="changeme", **strong)  # type: ignore[arg-type]
    Settings(environment="production", admin_token="a" * 20, **strong)  # type: ignore[arg-type]
    Settings(environment="production", **strong)  # type: ignore[arg-type]


def test_lifetimes_read_as_iso_8601_or_a_number_and_unit() -> None:
    assert parse_lifetime("30d") == timedelta(days=30)
    assert parse_lifetime("12h") == timedelta(hours=12)
    assert parse_lifetime("2w") == timedelta(weeks=2)
    assert parse_lifetime("P1DT2H") == timedelta(days=1, hours=2)
    assert parse_lifetime("30 days") is None


# -- the CLI, against a temporary SQLite store -------------------------------------


def facstat(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "FACSTAT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "FACSTAT_FACILITY_FILE": str(SMALL),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [str(FACSTAT), "tokens", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )


def test_the_cli_creates_lists_and_revokes_tokens(tmp_path: Path, clock: Clock) -> None:
    made = facstat(
        tmp_path, "create", "--name", "tomo collector", "--scope", "observations:write",
        "--expires-in", "30d", "--resource", "scratch", "--resource", "streaming",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    token_id = token.split("_")[1]
    assert token.startswith("fst_") and "not shown again" in made.stderr
    store = TokenStore(sa.create_engine(f"sqlite:///{tmp_path / 'cli.db'}"))
    info = store.verify(token, clock.now)
    assert info.scopes == ("observations:write",) and info.resources == ("scratch", "streaming")
    assert info.created_by.startswith("cli")
    listed = facstat(tmp_path, "list")
    assert listed.returncode == 0 and token_id in listed.stdout and "active" in listed.stdout
    assert token.split("_", 2)[2] not in listed.stdout
    revoked = facstat(tmp_path, "revoke", token_id)
    assert revoked.returncode == 0 and f"revoked {token_id}" in revoked.stdout
    assert "revoked" in facstat(tmp_path, "list").stdout
    store.engine.dispose()


def test_the_cli_names_bad_input_and_exits_2_without_a_traceback(tmp_path: Path) -> None:
    bad = facstat(
        tmp_path, "create", "--name", "x", "--scope", "root", "--scope", "admin",
        "--expires-in", "P1Y", "--resource", "scratch",
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stdout == ""
    assert "--scope #1: unknown scope 'root'" in bad.stderr
    assert "--expires-in: longer than the maximum token lifetime (90 days)" in bad.stderr
    assert "--resource: a resource binding applies to observations:write only" in bad.stderr
    unknown = facstat(
        tmp_path, "create", "--name", "x", "--scope", "observations:write",
        "--expires-in", "1d", "--resource", "scrach",
    )  # fmt: skip
    assert unknown.returncode == 2 and "--resource #1: unknown resource or system" in unknown.stderr
    missing = facstat(tmp_path, "revoke", "abcdef")
    assert missing.returncode == 2 and "no token with id 'abcdef'" in missing.stderr
    for run in (bad, unknown, missing):
        assert "Traceback" not in run.stderr


def test_the_api_offers_exactly_the_five_scopes() -> None:
    from typing import get_args

    from api.auth import SCOPES
    from api.routes.tokens import Scope

    assert get_args(Scope) == SCOPES
