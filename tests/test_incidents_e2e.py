"""The incidents issue's end-to-end test, with real components only: a Redis server
(Debian's redis-server, its own instance on a free port, so the machine's shared one is
untouched) watched by the real Redis collector as a data streaming node that an active
beamtime needs; a real uvicorn server running facstat with its collectors, engine and
pager; receivers that are a real HTTP server, a real SMTP server (aiosmtpd) and the real
Alertmanager (Debian's prometheus-alertmanager).

Redis stops → the resource goes down → one P1 incident → webhook, e-mail and
Alertmanager each get exactly one page → nobody acknowledges → the page escalates →
acknowledged through the API → Redis restarts → the incident resolves itself → the
timeline shows every step. Redis is stopped at the end whatever happens."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from api.runtime import Runtime
from tests.conftest import OPERATOR, LiveServer, free_port, make_settings, start_server, stop_server
from tests.notify.conftest import (  # noqa: F401  (fixtures)
    Alertmanager,
    SmtpSink,
    WebhookSink,
    alertmanager_factory,
    running_webhook_sink,
    smtp_sink,
    webhook_sink,
)

T = TypeVar("T")
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


class RedisServer:
    """A redis-server of our own on `port`; `stop()` and `start()` as often as needed."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port, self.workdir, self.proc = port, workdir, None  # type: ignore[var-annotated]

    def start(self) -> None:
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.workdir)]  # fmt: skip
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for("redis to answer", lambda: _pong(self.port), 15)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def _pong(port: int) -> bool:
    out = subprocess.run(
        ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, timeout=5
    )
    return out.stdout.strip() == "PONG"


def wait_for(what: str, check: Callable[[], T | None], timeout: float) -> T:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.3)
    return value


def facility(redis_port: int) -> str:
    return f"""
facility: {{id: e2e, name: Incident test facility, timezone: UTC}}
defaults: {{stale_after: 5m, hysteresis: {{consecutive: 1}}}}
systems:
  - {{id: streaming, name: Data streaming, kind: service}}
resources:
  - id: dsn-redis
    name: Detector stream (Redis)
    type: "urn:facstat:dsn"
    system: streaming
    tier: 24x7
    time_sensitive: true
    collector: {{kind: redis, options: {{url: "redis://127.0.0.1:{redis_port}/0", interval: 1}}}}
experiment_facilities:
  - id: ls
    name: Light source
    beamlines:
      - id: xpcs
        name: XPCS beamline
        bundle: [{{resource: dsn-redis}}]
operations:
  beamtime_schedules: [beamtimes.yaml]
  incidents: incidents.yaml
"""


def beamtimes(now: Any) -> str:
    start, end = now - timedelta(hours=1), now + timedelta(hours=8)
    return f"""
beamtimes:
  - {{id: xpcs-now, beamline: xpcs, title: XPCS gels, start: {start.isoformat()}, end: {end.isoformat()}}}
"""


def incidents(hook: str, smtp_port: int, am: str) -> str:
    return f"""
people:
  - {{id: ann, name: Ann Archer, email: ann@example.org}}
  - {{id: ben, name: Ben Brook, email: ben@example.org}}
teams:
  - id: streaming-ops
    name: Streaming operations
    systems: [streaming]
    rotation: {{members: [ann, ben], start: 2026-01-05T09:00, length: 7d}}
    secondary: true
receivers:
  - {{id: hook, kind: webhook, url: "{hook}", secret_env: FACSTAT_E2E_HOOK_SECRET}}
  - {{id: mail, kind: email, smtp_host: 127.0.0.1, smtp_port: {smtp_port}, sender: facstat@example.org}}
  - {{id: am, kind: alertmanager, url: "{am}"}}
routes:
  - {{match: {{priorities: [P1]}}, receivers: [hook, mail, am]}}
escalation:
  P1: {{ack_within: 6s, repeat_every: 1h, max_repeats: 0}}
"""


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def served(
    db_url: str,
    tmp_path: Path,
    redis_server: RedisServer,
    webhook_sink: WebhookSink,  # noqa: F811
    smtp_sink: SmtpSink,  # noqa: F811
    alertmanager_factory: Callable[..., Alertmanager],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[LiveServer, Alertmanager]]:
    with running_webhook_sink() as am_sink:
        am = alertmanager_factory(am_sink.url)
        monkeypatch.setenv("FACSTAT_E2E_HOOK_SECRET", "e2e-secret")
        from facility.service import utcnow

        (tmp_path / "facility.yaml").write_text(facility(redis_server.port))
        (tmp_path / "beamtimes.yaml").write_text(beamtimes(utcnow()))
        (tmp_path / "incidents.yaml").write_text(
            incidents(webhook_sink.url, smtp_sink.port, am.url)
        )
        settings = make_settings(
            db_url, facility=tmp_path / "facility.yaml", run_collectors=True,
            tick_interval=0.3, page_interval=0.3,
        )  # fmt: skip
        rt = Runtime.build(settings)
        rt.start()
        live = start_server(rt, free_port())
        try:
            yield live, am
        finally:
            stop_server(live)
            rt.stop()


def get(live: LiveServer, path: str, **kw: Any) -> Any:
    r = httpx.get(live.url + path, timeout=10, **kw)
    r.raise_for_status()
    return r.json()


def state(live: LiveServer) -> str:
    return str(get(live, "/api/v1/resources/dsn-redis")["state"])


def open_incidents(live: LiveServer) -> list[dict[str, Any]]:
    return list(get(live, "/api/v1/incidents", params={"open": "true"}, headers=OPERATOR)["items"])


def test_redis_down_during_beamtime_pages_once_escalates_is_acknowledged_and_resolves(
    served: tuple[LiveServer, Alertmanager],
    redis_server: RedisServer,
    webhook_sink: WebhookSink,  # noqa: F811
    smtp_sink: SmtpSink,  # noqa: F811
) -> None:
    live, am = served
    wait_for("dsn-redis up", lambda: state(live) == "up", 30)
    assert open_incidents(live) == []

    redis_server.stop()
    wait_for("dsn-redis down", lambda: state(live) == "down", 30)
    (inc,) = wait_for("one open incident", lambda: open_incidents(live), 30)
    assert inc["priority"] == "P1" and inc["kind"] == "outage" and inc["subject"] == "dsn-redis"
    factors = {f["name"] for f in inc["priority_explanation"]["factors"]}
    assert "beamtime" in factors, inc["priority_explanation"]

    wait_for("the webhook page", lambda: len(webhook_sink.requests) >= 1, 30)
    wait_for("the e-mail page", lambda: len(smtp_sink.messages) >= 1, 30)
    wait_for("the Alertmanager alert", lambda: am.alerts(), 30)
    time.sleep(1.0)  # nothing more may arrive before the escalation is due
    assert len(webhook_sink.requests) == 1 and len(smtp_sink.messages) == 1
    (alert,) = am.alerts()
    assert alert["labels"]["incident"] == str(inc["id"]) and alert["labels"]["priority"] == "P1"
    first = webhook_sink.requests[0]
    assert first.headers["x-facstat-event"] == "trigger"
    (team,) = get(live, "/api/v1/oncall", headers=OPERATOR)["items"]
    primary = team["primary"]
    assert primary["name"] in smtp_sink.messages[0].message.get_content()
    assert smtp_sink.messages[0].rcpt_tos == [primary["email"]]

    wait_for("the escalation page", lambda: len(webhook_sink.requests) >= 2, 30)
    assert webhook_sink.requests[1].headers["x-facstat-event"] == "escalation"
    ack = httpx.post(
        f"{live.url}/api/v1/incidents/{inc['id']}/ack",
        json={"actor": "ben", "note": "looking at the stream host"},
        headers=OPERATOR, timeout=10,
    )  # fmt: skip
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    pages_after_ack = len(webhook_sink.requests)

    redis_server.start()
    wait_for("dsn-redis up again", lambda: state(live) == "up", 30)
    wait_for("the incident resolved by itself", lambda: not open_incidents(live), 30)
    detail = get(live, f"/api/v1/incidents/{inc['id']}", headers=OPERATOR)
    assert detail["status"] == "resolved" and detail["resolved_by"] == "facstat"
    wait_for("the resolved notice", lambda: len(webhook_sink.requests) > pages_after_ack, 30)
    assert webhook_sink.requests[-1].headers["x-facstat-event"] == "resolved"
    assert all(r.headers["x-facstat-event"] != "repeat" for r in webhook_sink.requests)

    kinds = [
        e["kind"] for e in get(live, f"/api/v1/incidents/{inc['id']}", headers=OPERATOR)["timeline"]
    ]
    for step in (
        "opened",
        "priority",
        "notification",
        "escalation",
        "acknowledged",
        "recovered",
        "resolved",
    ):
        assert step in kinds, kinds
    assert kinds.index("escalation") < kinds.index("acknowledged") < kinds.index("resolved")
    public = get(live, f"/api/v1/incidents/{inc['id']}")["timeline"]
    assert {e["kind"] for e in public} <= {
        "opened",
        "resolved",
        "reopened",
        "public_note",
        "cancelled",
    }
