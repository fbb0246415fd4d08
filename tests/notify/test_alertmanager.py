"""The Alertmanager notifier against Debian's real Alertmanager, and Alertmanager's own
webhook delivered to a real HTTP server and parsed.

FACSTAT_RECORD_ALERTMANAGER=1 saves the webhook bodies Alertmanager sent under
tests/data/alertmanager/ (firing.json, resolved.json) for the daemon-free parser tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from slas.notify import (
    AlertmanagerNotifier,
    Notification,
    NotifierConfigError,
    parse_alertmanager_webhook,
)
from slas.notify_alertmanager import alertmanager_alert
from tests.conftest import free_port
from tests.notify.conftest import (
    Alertmanager,
    Recorded,
    WebhookSink,
    alertmanager_config,
    notification,
    running_webhook_sink,
)

RECORDINGS = Path(__file__).parents[1] / "data" / "alertmanager"


def now_notification(**changes: Any) -> Notification:
    """Alertmanager compares times with its own clock, so these happen now."""
    return notification(at=datetime.now(UTC).replace(microsecond=0), **changes)


def ours(am: Alertmanager) -> list[dict[str, Any]]:
    return [a for a in am.alerts() if a["labels"].get("alertname") == "FacstatIncident"]


def record(name: str, request: Recorded) -> None:
    if os.environ.get("FACSTAT_RECORD_ALERTMANAGER"):
        RECORDINGS.mkdir(parents=True, exist_ok=True)
        (RECORDINGS / name).write_bytes(request.body)


def test_amtool_accepts_the_generated_config(tmp_path: Path) -> None:
    amtool = shutil.which("amtool")
    assert amtool is not None, (
        "amtool is missing: scripts/services installs prometheus-alertmanager"
    )
    path = tmp_path / "alertmanager.yml"
    path.write_text(alertmanager_config("http://127.0.0.1:9/hook"))
    done = subprocess.run(
        [amtool, "check-config", str(path)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_the_alert_carries_our_labels_annotations_and_times() -> None:
    n = notification(priority="P3", resources=(), runbook_url=None)
    alert = alertmanager_alert(n, facility="light-source", ttl=timedelta(hours=2))
    assert alert == {
        "labels": {
            "alertname": "FacstatIncident",
            "incident": "inc-12",
            "priority": "P3",
            "severity": "ticket",
            "facility": "light-source",
        },
        "annotations": {
            "summary": "lustre-home down",
            "description": "lustre-home: 0 of 4 OSTs reachable since 11:58 UTC",
            "explanation": "tier-1 service, 100% capacity lost, beamtime MX-2 active",
        },
        "startsAt": "2026-11-21T12:00:00Z",
        "endsAt": "2026-11-21T14:00:00Z",
        "generatorURL": "https://facstat.example/incidents/inc-12",
    }
    resolved = alertmanager_alert(notification(kind="resolved"))
    assert resolved["endsAt"] == resolved["startsAt"] == "2026-11-21T12:00:00Z"
    assert resolved["labels"]["severity"] == "page"
    assert resolved["labels"]["resource"] == "lustre-home"


def test_an_incident_shows_up_in_alertmanager_with_our_labels(alertmanager: Alertmanager) -> None:
    n = now_notification()
    delivery = AlertmanagerNotifier("am", alertmanager.url, facility="ls1").send(n)
    assert (delivery.ok, delivery.attempts, delivery.detail) == (True, 1, "HTTP 200 OK")
    [alert] = ours(alertmanager)
    assert alert["labels"] == {
        "alertname": "FacstatIncident",
        "incident": "inc-12",
        "priority": "P1",
        "severity": "page",
        "resource": "lustre-home",
        "facility": "ls1",
    }
    assert alert["annotations"]["runbook_url"] == "https://facstat.example/runbooks/lustre-down"
    assert alert["annotations"]["explanation"].startswith("tier-1 service")
    assert alert["generatorURL"] == "https://facstat.example/incidents/inc-12"
    assert alert["status"]["state"] == "active"


def test_follow_ups_update_the_same_alert_and_a_resolved_notification_ends_it(
    alertmanager: Alertmanager,
) -> None:
    am = AlertmanagerNotifier("am", alertmanager.url)
    assert am.send(now_notification()).ok
    assert am.send(now_notification(kind="escalation", key="inc-12:1:0", level=1)).ok
    [alert] = ours(alertmanager)
    assert am.send(now_notification(kind="resolved", key="inc-12:r", status="resolved")).ok
    assert ours(alertmanager) == []
    assert alert["fingerprint"]


def test_alertmanager_delivers_its_webhook_and_the_parser_reads_what_it_sent(
    alertmanager: Alertmanager, webhook_sink: WebhookSink
) -> None:
    am = AlertmanagerNotifier("am", alertmanager.url, facility="ls1")
    assert am.send(now_notification()).ok
    [firing] = webhook_sink.wait_for(1)
    record("firing.json", firing)
    assert firing.headers["content-type"] == "application/json"
    assert firing.headers["user-agent"].startswith("Alertmanager/")
    [alert] = parse_alertmanager_webhook(firing.body)
    assert (alert.status, alert.name, alert.ends_at) == ("firing", "FacstatIncident", None)
    assert alert.labels["incident"] == "inc-12"
    assert alert.annotations["summary"] == "lustre-home down"
    assert alert.generator_url == "https://facstat.example/incidents/inc-12"
    assert alert.fingerprint == ours(alertmanager)[0]["fingerprint"]

    assert am.send(now_notification(kind="resolved", key="inc-12:r", status="resolved")).ok
    resolved = webhook_sink.wait_for(2)[1]
    record("resolved.json", resolved)
    [ended] = parse_alertmanager_webhook(resolved.body)
    assert (ended.status, ended.fingerprint) == ("resolved", alert.fingerprint)
    assert ended.ends_at is not None and ended.ends_at >= alert.starts_at


def test_alertmanager_retries_a_failing_webhook_receiver(
    alertmanager: Alertmanager, webhook_sink: WebhookSink
) -> None:
    webhook_sink.answer(500)
    assert AlertmanagerNotifier("am", alertmanager.url).send(now_notification()).ok
    first, second = webhook_sink.wait_for(2, timeout=30)
    assert first.body == second.body


def test_the_alertmanager_can_be_pointed_at_another_receiver(
    alertmanager: Alertmanager, webhook_sink: WebhookSink
) -> None:
    with running_webhook_sink() as other:
        alertmanager.point_at(other.url)
        assert AlertmanagerNotifier("am", alertmanager.url).send(now_notification()).ok
        other.wait_for(1)
    assert webhook_sink.requests == []


def test_an_unreachable_alertmanager_is_a_failed_delivery_not_an_exception() -> None:
    sleeps: list[float] = []
    am = AlertmanagerNotifier(
        "am", f"http://127.0.0.1:{free_port()}", retries=1, sleep=sleeps.append
    )
    delivery = am.send(now_notification())
    assert (delivery.ok, delivery.attempts, sleeps) == (False, 2, [0.5])
    assert delivery.detail.startswith("ConnectError")


def test_a_5xx_from_alertmanager_is_retried(webhook_sink: WebhookSink) -> None:
    webhook_sink.answer(503)
    base = webhook_sink.url.removesuffix("/hook")
    delivery = AlertmanagerNotifier("am", base, sleep=lambda _s: None).send(now_notification())
    assert (delivery.ok, delivery.attempts) == (True, 2)
    assert [r.path for r in webhook_sink.requests] == ["/api/v2/alerts"] * 2
    assert json.loads(webhook_sink.requests[0].body)[0]["labels"]["incident"] == "inc-12"


def test_a_4xx_from_alertmanager_is_final(webhook_sink: WebhookSink) -> None:
    webhook_sink.answer(400)
    base = webhook_sink.url.removesuffix("/hook")
    delivery = AlertmanagerNotifier("am", base, sleep=lambda _s: None).send(now_notification())
    assert (delivery.ok, delivery.attempts) == (False, 1)
    assert delivery.detail.startswith("HTTP 400 Bad Request")


def test_the_notifier_refuses_a_non_positive_ttl() -> None:
    with pytest.raises(NotifierConfigError, match="ttl"):
        AlertmanagerNotifier("am", "http://127.0.0.1:9093", ttl=timedelta(0))
