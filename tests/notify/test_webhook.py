"""The webhook notifier against a real HTTP server: body, headers, signature, retries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from slas.notify import (
    InvalidNotification,
    NotifierConfigError,
    WebhookNotifier,
    sign,
    verify_signature,
    webhook_body,
)
from tests.conftest import free_port
from tests.notify.conftest import AT, NOBODY, WebhookSink, notification

SECRET = b"s3cret-shared-with-the-receiver"


def notifier(url: str, sleeps: list[float] | None = None, **options: Any) -> WebhookNotifier:
    record = sleeps.append if sleeps is not None else (lambda _s: None)
    return WebhookNotifier("ops-hook", url, SECRET, sleep=record, **options)


def test_the_body_carries_every_notification_field_with_iso_utc_times() -> None:
    n = notification(at=datetime(2026, 11, 21, 13, 0, tzinfo=UTC))
    doc = json.loads(webhook_body(n))
    assert doc == {
        "version": "1",
        "key": "inc-12:0:0",
        "incident_id": "inc-12",
        "kind": "trigger",
        "priority": "P1",
        "title": "lustre-home down",
        "summary": "lustre-home: 0 of 4 OSTs reachable since 11:58 UTC",
        "explanation": "tier-1 service, 100% capacity lost, beamtime MX-2 active",
        "status": "open",
        "resources": ["lustre-home", "beamline-mx2"],
        "url": "https://facstat.example/incidents/inc-12",
        "runbook_url": "https://facstat.example/runbooks/lustre-down",
        "recipients": [
            {"id": "ada", "name": "Ada Lovelace", "email": "ada@example.org"},
            {"id": "grace", "name": "Grace Hopper", "email": "grace@example.org"},
        ],
        "level": 0,
        "at": "2026-11-21T13:00:00+00:00",
    }


def test_the_body_is_byte_for_byte_stable_and_keeps_non_ascii_text() -> None:
    n = notification(title="Überlauf on /gpfs", recipients=(NOBODY,), runbook_url=None)
    body = webhook_body(n)
    assert body == webhook_body(
        notification(title="Überlauf on /gpfs", recipients=(NOBODY,), runbook_url=None)
    )
    assert "Überlauf".encode() in body
    assert json.loads(body)["recipients"] == [{"id": "ops-bot", "name": "Ops bot", "email": None}]
    assert json.loads(body)["runbook_url"] is None


def test_times_in_other_zones_are_sent_in_utc() -> None:
    cet = datetime(2026, 11, 21, 14, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert json.loads(webhook_body(notification(at=cet)))["at"] == "2026-11-21T13:00:00+00:00"


def test_a_signed_delivery_arrives_with_headers_that_verify(webhook_sink: WebhookSink) -> None:
    n = notification(kind="escalation", key="inc-12:1:0", level=1)
    delivery = notifier(webhook_sink.url).send(n)
    assert (delivery.ok, delivery.attempts, delivery.detail) == (True, 1, "HTTP 200 OK")
    assert (delivery.receiver_id, delivery.key) == ("ops-hook", "inc-12:1:0")
    [request] = webhook_sink.requests
    h = request.headers
    assert (request.method, request.path) == ("POST", "/hook")
    assert h["content-type"] == "application/json"
    assert h["x-facstat-event"] == "escalation"
    assert h["x-facstat-delivery"] == "inc-12:1:0"
    assert request.body == webhook_body(n)
    now = datetime.now(UTC)
    assert abs(now.timestamp() - int(h["x-facstat-timestamp"])) < 60
    assert h["x-facstat-signature"].startswith("sha256=")
    assert verify_signature(
        SECRET, h["x-facstat-timestamp"], request.body, h["x-facstat-signature"], now
    )


def test_a_tampered_body_or_a_wrong_secret_fails_verification(webhook_sink: WebhookSink) -> None:
    notifier(webhook_sink.url).send(notification())
    [request] = webhook_sink.requests
    ts, sig, now = (
        request.headers["x-facstat-timestamp"],
        request.headers["x-facstat-signature"],
        datetime.now(UTC),
    )
    tampered = request.body.replace(b'"P1"', b'"P4"')
    assert tampered != request.body
    assert not verify_signature(SECRET, ts, tampered, sig, now)
    assert not verify_signature(b"another secret", ts, request.body, sig, now)
    assert not verify_signature(SECRET, str(int(ts) + 1), request.body, sig, now)


def test_a_signature_outside_the_tolerance_is_refused_as_a_replay() -> None:
    body, ts = b'{"a":1}', str(int(AT.timestamp()))
    header = sign(SECRET, ts, body)
    assert verify_signature(SECRET, ts, body, header, AT + timedelta(seconds=299))
    assert verify_signature(SECRET, ts, body, header, AT - timedelta(seconds=299))
    assert not verify_signature(SECRET, ts, body, header, AT + timedelta(seconds=301))
    assert verify_signature(
        SECRET, ts, body, header, AT + timedelta(hours=1), tolerance=timedelta(hours=2)
    )


@pytest.mark.parametrize(
    ("timestamp", "header"),
    [
        ("", None),
        ("12a", None),
        ("-5", None),
        ("１２３", None),
        ("9" * 40, None),
        (None, ""),
        (None, "sha256="),
        (None, "sha256=ZZ"),
        (None, "é" * 70),
    ],
)
def test_garbage_timestamps_and_headers_are_refused_without_raising(
    timestamp: str | None, header: str | None
) -> None:
    body, ts = b"{}", str(int(AT.timestamp()))
    good = sign(SECRET, ts, body)
    assert not verify_signature(
        SECRET,
        timestamp if timestamp is not None else ts,
        body,
        header if header is not None else good,
        AT,
    )


def test_an_unsigned_notifier_sends_no_signature_header(webhook_sink: WebhookSink) -> None:
    WebhookNotifier("plain", webhook_sink.url, None).send(notification())
    [request] = webhook_sink.requests
    assert "x-facstat-signature" not in request.headers
    assert request.headers["x-facstat-delivery"] == "inc-12:0:0"


def test_two_500s_are_retried_with_backoff_and_the_third_attempt_succeeds(
    webhook_sink: WebhookSink,
) -> None:
    webhook_sink.answer(500, 500)
    sleeps: list[float] = []
    delivery = notifier(webhook_sink.url, sleeps, backoff=0.5).send(notification())
    assert (delivery.ok, delivery.attempts, delivery.detail) == (True, 3, "HTTP 200 OK")
    assert sleeps == [0.5, 1.0]
    assert len(webhook_sink.requests) == 3
    assert {r.headers["x-facstat-delivery"] for r in webhook_sink.requests} == {"inc-12:0:0"}
    assert len({r.body for r in webhook_sink.requests}) == 1
    for r in webhook_sink.requests:  # every attempt is signed afresh and verifies
        h = r.headers
        assert verify_signature(
            SECRET, h["x-facstat-timestamp"], r.body, h["x-facstat-signature"], datetime.now(UTC)
        )


def test_retries_stop_after_the_policy_and_report_the_last_answer(
    webhook_sink: WebhookSink,
) -> None:
    webhook_sink.answer(503, 502, 500, 500, 500)
    sleeps: list[float] = []
    delivery = notifier(webhook_sink.url, sleeps, retries=3, backoff=0.25).send(notification())
    assert (delivery.ok, delivery.attempts) == (False, 4)
    assert delivery.detail.startswith("HTTP 500 Internal Server Error")
    assert "the sink was told to fail" in delivery.detail
    assert sleeps == [0.25, 0.5, 1.0]
    assert len(webhook_sink.requests) == 4


def test_a_429_is_retried(webhook_sink: WebhookSink) -> None:
    webhook_sink.answer(429)
    delivery = notifier(webhook_sink.url).send(notification())
    assert (delivery.ok, delivery.attempts) == (True, 2)


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
def test_a_4xx_other_than_429_is_final_at_once(webhook_sink: WebhookSink, status: int) -> None:
    webhook_sink.answer(status, status)
    sleeps: list[float] = []
    delivery = notifier(webhook_sink.url, sleeps).send(notification())
    assert (delivery.ok, delivery.attempts, sleeps) == (False, 1, [])
    assert delivery.detail.startswith(f"HTTP {status} ")
    assert len(webhook_sink.requests) == 1


def test_an_unreachable_port_is_a_failed_delivery_not_an_exception() -> None:
    sleeps: list[float] = []
    delivery = notifier(f"http://127.0.0.1:{free_port()}/hook", sleeps, retries=2).send(
        notification()
    )
    assert (delivery.ok, delivery.attempts, sleeps) == (False, 3, [0.5, 1.0])
    assert delivery.detail.startswith("ConnectError: ")


def test_a_receiver_slower_than_the_timeout_is_a_failed_delivery(webhook_sink: WebhookSink) -> None:
    webhook_sink.stall(1.0)
    delivery = notifier(webhook_sink.url, retries=0, timeout=0.2).send(notification())
    assert (delivery.ok, delivery.attempts) == (False, 1)
    assert delivery.detail.startswith("ReadTimeout")


def test_the_delivery_is_stamped_by_the_injected_clock(webhook_sink: WebhookSink) -> None:
    at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    delivery = WebhookNotifier("h", webhook_sink.url, SECRET, clock=lambda: at).send(notification())
    assert delivery.at == at
    assert webhook_sink.requests[0].headers["x-facstat-timestamp"] == str(int(at.timestamp()))


@pytest.mark.parametrize("url", ["ftp://example.org/x", "not a url", "http://", "/relative/path"])
def test_a_url_that_is_not_http_is_refused_when_the_notifier_is_built(url: str) -> None:
    with pytest.raises(NotifierConfigError) as err:
        WebhookNotifier("h", url, None)
    assert err.value.field == "url"


def test_an_empty_secret_and_negative_retries_are_refused() -> None:
    with pytest.raises(NotifierConfigError, match="secret"):
        WebhookNotifier("h", "http://127.0.0.1:1/x", b"")
    with pytest.raises(NotifierConfigError, match="retries"):
        WebhookNotifier("h", "http://127.0.0.1:1/x", None, retries=-1)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "page"}, "kind"),
        ({"priority": "P0"}, "priority"),
        ({"level": -1}, "level"),
        ({"at": datetime(2026, 11, 21, 12, 0)}, "at"),
        ({"key": ""}, "key"),
        ({"key": "inc 12\r\nX-Evil: 1"}, "key"),
        ({"incident_id": ""}, "incident_id"),
    ],
)
def test_a_notification_that_breaks_a_rule_is_refused_naming_the_field(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidNotification) as err:
        notification(**changes)
    assert err.value.field == field
