"""Subscriptions to status changes, delivered to a real HTTP server and a real SMTP server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from slas.notify import verify_signature
from tests.api.helpers import PROBLEM, observation, post
from tests.conftest import OPERATOR, Clock, make_settings
from tests.notify.conftest import SmtpSink, WebhookSink, smtp_sink, webhook_sink  # noqa: F401

URL = "/api/v1/subscriptions"


@pytest.fixture
def client(db_url: str, clock: Clock, smtp_sink: SmtpSink) -> Iterator[TestClient]:  # noqa: F811
    settings = make_settings(db_url, smtp_host="127.0.0.1", smtp_port=smtp_sink.port)
    rt = Runtime.build(settings, clock=clock)
    with TestClient(create_app(runtime=rt, start=False)) as c:
        yield c
    rt.subscriptions.stop()
    rt.store.close()


def flip(client: TestClient, clock: Clock, rid: str, state: str) -> None:
    for _ in range(2):
        post(client, observation(rid, clock.now, state))
        clock.advance(5)


def test_a_webhook_subscriber_gets_signed_changes_of_its_resources_only(
    client: TestClient,
    clock: Clock,
    webhook_sink: WebhookSink,  # noqa: F811
) -> None:
    body = {"kind": "webhook", "target": webhook_sink.url, "resources": ["scratch"]}
    r = client.post(URL, json=body, headers=OPERATOR)
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    assert "secret" not in client.get(URL, headers=OPERATOR).json()["items"][0]
    flip(client, clock, "home", "up")
    flip(client, clock, "scratch", "down")
    client.app.state.runtime.subscriptions.drain()
    changes = [json.loads(x.body) for x in webhook_sink.requests]
    assert [(c["resource_id"], c["from"], c["to"]) for c in changes] == [
        ("scratch", "unknown", "down")
    ]
    last = webhook_sink.requests[-1]
    headers = last.headers
    assert verify_signature(
        secret.encode(),
        headers["x-facstat-timestamp"],
        last.body,
        headers["x-facstat-signature"],
        clock.now,
    )


def test_failed_deliveries_are_kept_as_dead_letters(
    client: TestClient,
    clock: Clock,
    webhook_sink: WebhookSink,  # noqa: F811
) -> None:
    webhook_sink.answer(400)
    client.post(URL, json={"kind": "webhook", "target": webhook_sink.url}, headers=OPERATOR)
    flip(client, clock, "scratch", "down")
    client.app.state.runtime.subscriptions.drain()
    dead = client.get(f"{URL}/deliveries", params={"failed": "true"}, headers=OPERATOR).json()[
        "items"
    ]
    assert dead and dead[-1]["detail"].startswith("HTTP 400") and dead[-1]["attempts"] == 1


def test_an_email_subscriber_gets_a_mail_per_change(
    client: TestClient,
    clock: Clock,
    smtp_sink: SmtpSink,  # noqa: F811
) -> None:
    client.post(
        URL,
        json={"kind": "email", "target": "ops@example.org", "resources": ["home"]},
        headers=OPERATOR,
    )
    flip(client, clock, "home", "down")
    client.app.state.runtime.subscriptions.drain()
    subjects = [m.message["Subject"] for m in smtp_sink.messages]
    assert "facstat: home is down" in subjects


def test_bad_subscriptions_are_refused_and_need_the_operator_token(client: TestClient) -> None:
    assert (
        client.post(URL, json={"kind": "webhook", "target": "http://127.0.0.1:9/x"}).status_code
        == 401
    )
    for body, status in [
        ({"kind": "pager", "target": "x"}, 422),
        ({"kind": "webhook", "target": "ftp://example.org/x"}, 422),
        ({"kind": "email", "target": "nobody"}, 422),
        ({"kind": "email", "target": "a@example.org", "resources": ["scrach"]}, 404),
    ]:
        r = client.post(URL, json=body, headers=OPERATOR)
        assert r.status_code == status and r.headers["content-type"] == PROBLEM, (body, r.text)
    assert client.get(URL, headers=OPERATOR).json()["items"] == []
    assert client.delete(f"{URL}/99", headers=OPERATOR).status_code == 404


def test_a_subscription_id_beyond_what_a_store_holds_is_a_400_naming_it_not_a_500(
    client: TestClient,
) -> None:
    # found by schemathesis in CI: 2**63 reached SQLite as a parameter it cannot bind
    for query in (f"subscription={2**63}", f"subscription={2**31}", "subscription=0"):
        r = client.get(f"{URL}/deliveries?{query}", headers=OPERATOR)
        assert r.status_code == 400 and r.headers["content-type"] == PROBLEM, r.text
        assert "subscription" in r.text
    r = client.get(f"{URL}/deliveries?subscription={2**31 - 1}", headers=OPERATOR)
    assert r.status_code == 200 and r.json()["items"] == []
