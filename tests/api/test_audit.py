"""The audit trail: every write leaves a hash-chained entry (who, which token, from where,
what, before/after, status); tampering and deletion are found by verification; the log
is read by admins only, with filters; appends never fork the chain."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from facility.audit import GENESIS, AuditEntry, link
from facility.audit_store import AuditLog
from facility.store import create_db_engine
from tests.api.helpers import iso, observation, post
from tests.api.test_incidents import report
from tests.api.test_maintenance import create, window
from tests.conftest import (
    AUTH,
    DATA,
    OPERATOR,
    OPERATOR_TOKEN,
    SMALL,
    Clock,
    free_port,
    make_settings,
    start_server,
    stop_server,
)

ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
AUDIT = "/api/v1/audit"


@pytest.fixture
def rt(db_url: str, clock: Clock, tmp_path: Path) -> Iterator[Runtime]:
    facility = tmp_path / "facility.yaml"
    policy = DATA / "incidents" / "incidents.yaml"
    facility.write_text(SMALL.read_text() + f"\noperations:\n  incidents: {policy}\n")
    settings = make_settings(db_url, facility=facility, admin_token=ADMIN_TOKEN)
    runtime = Runtime.build(settings, clock=clock)
    yield runtime
    runtime.store.close()


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=rt, start=False)) as c:
        yield c


def entries(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    r = client.get(AUDIT, params={"limit": 1000, **params}, headers=ADMIN)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def sql(rt: Runtime, statement: str) -> None:
    with rt.store.engine.begin() as conn:
        conn.execute(sa.text(statement))


def three_writes(client: TestClient, clock: Clock) -> None:
    create(client, clock)
    for path in ("extend", "cancel"):
        until = {"until": iso(clock.now + timedelta(hours=6))} if path == "extend" else {}
        r = client.post(f"/api/v1/maintenance/scratch-upgrade/{path}", json=until, headers=OPERATOR)
        assert r.status_code == 200, r.text


# -- what an entry records -----------------------------------------------------------------


def test_a_window_created_then_cancelled_leaves_two_entries_with_before_and_after(
    client: TestClient, clock: Clock
) -> None:
    create(client, clock)
    r = client.post("/api/v1/maintenance/scratch-upgrade/cancel", json={}, headers=OPERATOR)
    assert r.status_code == 200, r.text
    cancel, made = entries(client)  # newest first
    assert made["action"] == "maintenance.create" and made["status"] == 201
    assert made["actor"] == "static:operator" and made["token_id"] is None
    assert made["client"] == "testclient" and made["method"] == "POST"
    assert made["target"] == "scratch-upgrade" and made["before"] is None
    assert made["after"]["title"] == "Scratch upgrade" and made["after"]["cancelled"] is False
    assert cancel["action"] == "maintenance.cancel" and cancel["target"] == "scratch-upgrade"
    assert cancel["path"] == "/api/v1/maintenance/scratch-upgrade/cancel"
    assert cancel["before"]["cancelled"] is False and cancel["after"]["cancelled"] is True
    assert cancel["prev_hash"] == made["hash"] and made["prev_hash"] == GENESIS


def test_a_change_to_a_window_records_the_fields_as_they_were_and_became(
    client: TestClient, clock: Clock
) -> None:
    create(client, clock)
    r = client.patch(
        "/api/v1/maintenance/scratch-upgrade", json={"title": "Scratch v2"}, headers=OPERATOR
    )
    assert r.status_code == 200, r.text
    (change, _) = entries(client)
    assert change["action"] == "maintenance.update" and change["method"] == "PATCH"
    assert (
        change["before"]["title"] == "Scratch upgrade" and change["after"]["title"] == "Scratch v2"
    )
    assert change["before"]["sequence"] + 1 == change["after"]["sequence"]


def test_acknowledging_an_incident_records_its_status_before_and_after(
    client: TestClient, clock: Clock
) -> None:
    report(client, clock, scratch="up", home="up", broker="up", batch="up", gateway="up")
    report(client, clock, scratch="down")
    (inc,) = client.get("/api/v1/incidents", headers=OPERATOR).json()["items"]
    body = {"actor": "Cat Chen", "note": "on it"}
    r = client.post(f"/api/v1/incidents/{inc['id']}/ack", json=body, headers=OPERATOR)
    assert r.status_code == 200, r.text
    (ack,) = entries(client, action="incidents.ack")
    assert ack["target"] == str(inc["id"]) and ack["actor"] == "static:operator"
    assert ack["before"]["status"] == "triggered" and ack["before"]["acknowledged_by"] is None
    assert (
        ack["after"]["status"] == "acknowledged" and ack["after"]["acknowledged_by"] == "Cat Chen"
    )
    assert ack["after"]["by"] == "Cat Chen" and ack["after"]["note"] == "on it"


def test_observation_batches_are_summarised_not_copied(client: TestClient, clock: Clock) -> None:
    post(client, observation("scratch", clock.now), observation("home", clock.now))
    (batch,) = entries(client, action="observations.create")
    assert batch["actor"] == "static:collector" and batch["status"] == 200
    assert batch["after"] == {"observations": 2, "resources": ["home", "scratch"]}


def test_a_write_refused_after_authentication_is_recorded_and_one_without_it_is_not(
    client: TestClient, clock: Clock
) -> None:
    assert client.post("/api/v1/maintenance", json=window(clock)).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert client.post("/api/v1/maintenance", json=window(clock), headers=bad).status_code == 401
    assert client.post("/api/v1/maintenance", json=window(clock), headers=AUTH).status_code == 403
    bad_body = client.post("/api/v1/maintenance", json={"title": ""}, headers=OPERATOR)
    assert bad_body.status_code == 422
    refused, invalid = entries(client)[1], entries(client)[0]
    assert refused["status"] == 403 and refused["actor"] == "static:collector"
    assert refused["after"]["id"] == "scratch-upgrade"  # what was attempted: the body
    assert invalid["status"] == 422 and invalid["actor"] == "static:operator"
    assert len(entries(client)) == 2


def test_a_write_with_an_api_token_names_the_token_and_its_secret_is_nowhere_in_the_log(
    client: TestClient, clock: Clock, rt: Runtime
) -> None:
    body = {"name": "planner", "scopes": ["maintenance:write"], "expires_in": "30d"}
    issued = client.post("/api/v1/tokens", json=body, headers=ADMIN)
    assert issued.status_code == 201, issued.text
    token, token_id = issued.json()["token"], issued.json()["id"]
    r = client.post("/api/v1/maintenance", json=window(clock), headers=_bearer(token))
    assert r.status_code == 201, r.text
    made, minted = entries(client)
    assert minted["action"] == "tokens.create" and minted["actor"] == "static:admin"
    assert made["actor"] == f"token:{token_id}" and made["token_id"] == token_id
    assert token not in _everything_stored(rt) and ADMIN_TOKEN not in _everything_stored(rt)


def test_secrets_in_form_and_json_bodies_and_urls_are_redacted(
    client: TestClient, rt: Runtime
) -> None:
    form = {"token": OPERATOR_TOKEN, "name": "Cat Chen", "next": "/oncall"}
    assert client.post("/signin", data=form, follow_redirects=False).status_code == 303
    hook = {"kind": "webhook", "target": "https://bot:hunter2@hooks.example.org/x"}
    client.post("/api/v1/subscriptions", json=hook, headers=OPERATOR)
    signin = entries(client, action="pages.signin")[0]
    assert signin["actor"] == "anonymous" and signin["status"] == 303
    assert signin["after"] == {"token": "[redacted]", "name": "Cat Chen", "next": "/oncall"}
    (sub,) = entries(client, action="subscriptions.create")
    assert sub["after"]["target"] == "https://[redacted]@hooks.example.org/x"
    stored = _everything_stored(rt)
    assert OPERATOR_TOKEN not in stored and "hunter2" not in stored


def test_a_staff_action_on_the_pages_names_the_signed_in_person(client: TestClient) -> None:
    form = {"token": OPERATOR_TOKEN, "name": "Cat Chen", "next": "/oncall"}
    client.post("/signin", data=form, follow_redirects=False)
    r = client.post("/oncall/incidents/999/notes", data={"text": "x", "csrf_token": "wrong"})
    assert r.status_code == 403
    (refused,) = entries(client, action="pages.oncall.incidents.notes")
    assert refused["actor"] == "session:Cat Chen" and refused["target"] == "999"
    assert refused["after"] == {"text": "x", "csrf_token": "[redacted]"}


# -- reading the log -------------------------------------------------------------------------


def test_the_audit_log_needs_the_admin_scope(client: TestClient) -> None:
    assert client.get(AUDIT).status_code == 401
    assert client.get(AUDIT, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get(AUDIT, headers=OPERATOR).status_code == 403
    assert client.get(AUDIT, headers=AUTH).status_code == 403
    assert client.get(AUDIT, headers=ADMIN).status_code == 200


def test_there_is_no_way_to_change_or_remove_entries_over_http(client: TestClient) -> None:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert client.request(method, AUDIT, headers=ADMIN).status_code == 405
        assert client.request(method, f"{AUDIT}/1", headers=ADMIN).status_code in (404, 405)


def test_filters_by_actor_action_path_and_time_combine(client: TestClient, clock: Clock) -> None:
    start = clock.now
    three_writes(client, clock)
    clock.advance(3600)
    post(client, observation("home", clock.now))
    assert len(entries(client, actor="static:operator")) == 3
    assert [e["action"] for e in entries(client, action="maintenance.extend")] == [
        "maintenance.extend"
    ]
    assert len(entries(client, path="/api/v1/maintenance/scratch-upgrade/")) == 2
    assert len(entries(client, path="/api/v1/mainten_nce")) == 0  # a prefix, not a pattern
    assert len(entries(client, since=iso(start + timedelta(seconds=1)))) == 1
    assert len(entries(client, until=iso(start + timedelta(seconds=1)))) == 3


def test_pages_follow_the_cursor_from_newest_to_oldest(client: TestClient, clock: Clock) -> None:
    three_writes(client, clock)
    first = client.get(AUDIT, params={"limit": 2}, headers=ADMIN).json()
    rest = client.get(AUDIT, params={"limit": 2, "cursor": first["next_cursor"]}, headers=ADMIN)
    ids = [e["id"] for e in first["items"] + rest.json()["items"]]
    assert ids == [3, 2, 1] and rest.json()["next_cursor"] is None


def test_bad_queries_get_a_problem_naming_the_parameter(client: TestClient) -> None:
    for params, field in (
        ({"cursor": "bm9wZQ"}, "query.cursor"),
        ({"since": "2026-11-21T12:00:00"}, "query.since"),  # no offset
        ({"limit": "0"}, "query.limit"),
    ):
        r = client.get(AUDIT, params=params, headers=ADMIN)
        assert r.status_code == 400, (params, r.text)
        assert field in {e["field"] for e in r.json()["errors"]}


def test_every_entry_can_be_checked_from_the_api_answers_alone(
    client: TestClient, clock: Clock
) -> None:
    three_writes(client, clock)
    prev = GENESIS
    for e in reversed(entries(client)):
        fields = {**e, "at": datetime.fromisoformat(e["at"])}
        assert e["prev_hash"] == prev and link(prev, e["id"], fields) == e["hash"]
        prev = e["hash"]


# -- verification --------------------------------------------------------------------------


def test_an_intact_log_verifies_with_its_count_and_head(
    client: TestClient, clock: Clock, rt: Runtime
) -> None:
    three_writes(client, clock)
    verdict = AuditLog(rt.store.engine).verify()
    assert verdict.ok and verdict.count == 3 and verdict.head == entries(client)[0]["hash"]


def test_a_field_changed_with_sql_is_found_at_that_entry(
    client: TestClient, clock: Clock, rt: Runtime
) -> None:
    three_writes(client, clock)
    sql(rt, "UPDATE audit_log SET actor = 'someone-else' WHERE id = 2")
    verdict = AuditLog(rt.store.engine).verify()
    assert not verdict.ok and verdict.broken_id == 2 and "changed" in verdict.reason


def test_a_changed_entry_whose_hash_was_recomputed_breaks_the_next_link(
    client: TestClient, clock: Clock, rt: Runtime
) -> None:
    three_writes(client, clock)
    sql(rt, "UPDATE audit_log SET status = 500, hash = '" + "f" * 64 + "' WHERE id = 2")
    verdict = AuditLog(rt.store.engine).verify()
    assert not verdict.ok and verdict.broken_id == 2  # its own hash no longer fits
    sql(rt, "UPDATE audit_log SET status = 200 WHERE id = 2")
    verdict = AuditLog(rt.store.engine).verify()
    assert verdict.broken_id == 2  # the made-up hash is not the hash of its contents


def test_a_deleted_entry_is_found_at_the_entry_after_it(
    client: TestClient, clock: Clock, rt: Runtime
) -> None:
    three_writes(client, clock)
    sql(rt, "DELETE FROM audit_log WHERE id = 2")
    verdict = AuditLog(rt.store.engine).verify()
    assert not verdict.ok and verdict.broken_id == 3 and "entry 2 missing" in verdict.reason


def test_a_deleted_first_entry_is_found(client: TestClient, clock: Clock, rt: Runtime) -> None:
    three_writes(client, clock)
    sql(rt, "DELETE FROM audit_log WHERE id = 1")
    assert AuditLog(rt.store.engine).verify().broken_id == 2


def test_entries_cut_off_the_end_are_found_with_an_earlier_head_as_anchor(
    client: TestClient, clock: Clock, rt: Runtime
) -> None:
    three_writes(client, clock)
    head = AuditLog(rt.store.engine).verify().head
    sql(rt, "DELETE FROM audit_log WHERE id = 3")
    log = AuditLog(rt.store.engine)
    assert log.verify().ok  # the rest of the chain is consistent by itself …
    verdict = log.verify(anchor=head)  # … but it no longer reaches the recorded head
    assert not verdict.ok and "anchor" in verdict.reason


# -- appends ---------------------------------------------------------------------------------


def test_concurrent_appends_from_two_logs_and_many_threads_never_fork_the_chain(
    rt: Runtime, db_url: str
) -> None:
    """Two AuditLogs on two engines stand for two processes: only the database's lock
    keeps them from reading the same last entry."""
    engines = [rt.store.engine, create_db_engine(db_url)]
    logs = [AuditLog(e) for e in engines]

    def write(n: int) -> None:
        for i in range(10):
            logs[n % 2].append(_entry(rt, f"writer-{n}-{i}"))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engines[1].dispose()
    verdict = logs[0].verify()
    assert verdict.ok and verdict.count == 60, verdict


def test_the_entry_is_stored_before_the_client_gets_its_answer(rt: Runtime, clock: Clock) -> None:
    live = start_server(rt, free_port())
    try:
        for i in range(5):
            body = window(clock, id=f"w{i}")
            r = httpx.post(live.url + "/api/v1/maintenance", json=body, headers=OPERATOR)
            assert r.status_code == 201, r.text
            assert AuditLog(rt.store.engine).verify().count == i + 1
    finally:
        stop_server(live)


def test_a_write_that_crashes_is_recorded_with_status_500(
    rt: Runtime, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(rt.ops, "create", broken)
    with TestClient(create_app(runtime=rt, start=False), raise_server_exceptions=False) as c:
        assert (
            c.post("/api/v1/maintenance", json=window(clock), headers=OPERATOR).status_code == 500
        )
        (crashed,) = entries(c)
    assert crashed["status"] == 500 and crashed["after"]["id"] == "scratch-upgrade"


def test_an_entry_that_cannot_be_stored_is_logged_and_the_answer_still_goes_out(
    client: TestClient,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refuse(*_: Any) -> None:
        raise OSError("audit store gone")

    monkeypatch.setattr(AuditLog, "append", refuse)
    assert (
        client.post("/api/v1/maintenance", json=window(clock), headers=OPERATOR).status_code == 201
    )
    assert "audit entry not stored: POST /api/v1/maintenance" in caplog.text


def _entry(rt: Runtime, actor: str) -> AuditEntry:
    return AuditEntry(rt.clock(), actor, None, "127.0.0.1", "POST", "/x", "x.create", "", 200)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _everything_stored(rt: Runtime) -> str:
    with rt.store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM audit_log")).all()
    return "\n".join(str(tuple(r)) for r in rows)
