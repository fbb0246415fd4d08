"""Real receivers for notifier tests, reusable by any test (e.g. the incident engine's):

    webhook_sink          a threaded HTTP server on a free loopback port recording every request
                          (`running_webhook_sink()` starts more, as a context manager)
    smtp_sink             an aiosmtpd SMTP server on a free loopback port recording every message
    alertmanager          Debian's real Alertmanager, routing every alert to `webhook_sink`
    alertmanager_factory  start(webhook_url, ...) -> Alertmanager, for other targets

`notification(**changes)` builds a valid Notification to change field by field.
"""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from slas.notify import Notification, Person
from tests.conftest import free_port

AT = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ADA = Person("ada", "Ada Lovelace", "ada@example.org")
GRACE = Person("grace", "Grace Hopper", "grace@example.org")
NOBODY = Person("ops-bot", "Ops bot", None)


def notification(**changes: Any) -> Notification:
    """A valid trigger notification for incident inc-12; pass fields to change."""
    base = Notification(
        key="inc-12:0:0",
        incident_id="inc-12",
        kind="trigger",
        priority="P1",
        title="lustre-home down",
        summary="lustre-home: 0 of 4 OSTs reachable since 11:58 UTC",
        explanation="tier-1 service, 100% capacity lost, beamtime MX-2 active",
        status="open",
        resources=("lustre-home", "beamline-mx2"),
        url="https://facstat.example/incidents/inc-12",
        runbook_url="https://facstat.example/runbooks/lustre-down",
        recipients=(ADA, GRACE),
        level=0,
        at=AT,
    )
    return replace(base, **changes)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


# --- webhook sink ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """One request the sink received; header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookSink:
    """Records every request; answers 200 unless told otherwise by `answer` or `stall`."""

    url: str
    requests: list[Recorded] = field(default_factory=list)
    _statuses: list[int] = field(default_factory=list)
    _stall: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, in order (then 200 again)."""
        with self._lock:
            self._statuses.extend(statuses)

    def stall(self, seconds: float) -> None:
        """Wait this long before answering each request from now on (to provoke timeouts)."""
        self._stall = seconds

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Recorded]:
        wait_until(
            lambda: len(self.requests) >= count, timeout, f"{count} request(s) at {self.url}"
        )
        return list(self.requests)

    def _record(self, request: Recorded) -> int:
        time.sleep(self._stall)
        with self._lock:
            self.requests.append(request)
            return self._statuses.pop(0) if self._statuses else 200


class _SinkHandler(BaseHTTPRequestHandler):
    MAX_BODY = 10 << 20
    server: _SinkServer

    def do_POST(self) -> None:
        length = min(int(self.headers.get("Content-Length") or 0), self.MAX_BODY)
        headers = {k.lower(): v for k, v in self.headers.items()}
        recorded = Recorded(self.command, self.path, headers, self.rfile.read(length))
        status = self.server.sink._record(recorded)
        body = b'{"ok": true}' if status < 300 else b'{"error": "the sink was told to fail"}'
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except ConnectionError:  # the client gave up first (a timeout test): nothing to tell
            pass

    do_PUT = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _SinkServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _SinkHandler)
        self.sink = WebhookSink(f"http://127.0.0.1:{self.server_address[1]}/hook")


@contextmanager
def running_webhook_sink() -> Iterator[WebhookSink]:
    """A WebhookSink serving in a thread until the block ends (the fixture uses this)."""
    server = _SinkServer(0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.sink
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def webhook_sink() -> Iterator[WebhookSink]:
    """A real HTTP server on a free loopback port; `.url` accepts POST/PUT on any path."""
    with running_webhook_sink() as sink:
        yield sink


# --- SMTP sink -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: str | None


@dataclass
class SmtpSink:
    """Records every message; `refuse` holds recipients it answers 550 to; accepts any login."""

    host: str
    port: int
    messages: list[ReceivedMail] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = email.message_from_bytes(
            cast(bytes, envelope.original_content), policy=email.policy.default
        )
        login = session.auth_data.login.decode() if session.authenticated else None
        self.messages.append(
            ReceivedMail(
                str(envelope.mail_from), list(envelope.rcpt_tos), cast(EmailMessage, message), login
            )
        )
        return f"250 OK queued as sink-{len(self.messages)}"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=True, auth_data=data)


def start_smtp_sink(**smtp_options: Any) -> tuple[SmtpSink, Controller]:
    sink = SmtpSink("127.0.0.1", free_port())
    controller = Controller(
        sink,
        hostname=sink.host,
        port=sink.port,
        authenticator=sink.authenticate,
        auth_require_tls=False,
        **smtp_options,
    )
    controller.start()
    return sink, controller


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on a free loopback port; AUTH LOGIN/PLAIN without TLS."""
    sink, controller = start_smtp_sink()
    yield sink
    controller.stop()


# --- Alertmanager ----------------------------------------------------------------------------

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


def alertmanager_config(
    webhook_url: str, group_wait: str = "200ms", group_interval: str = "1s"
) -> str:
    """One route, grouped per incident, to one webhook receiver; short waits for tests."""
    config = {
        "route": {
            "receiver": "facstat",
            "group_by": ["alertname", "incident"],
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": "1h",
        },
        "receivers": [
            {"name": "facstat", "webhook_configs": [{"url": webhook_url, "send_resolved": True}]}
        ],
    }
    return yaml.safe_dump(config, sort_keys=False)


@dataclass
class Alertmanager:
    url: str
    config_path: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def alerts(self) -> list[dict[str, Any]]:
        """GET /api/v2/alerts: the active (not resolved) alerts."""
        response = httpx.get(f"{self.url}/api/v2/alerts", timeout=5)
        response.raise_for_status()
        return cast(list[dict[str, Any]], response.json())

    def point_at(self, webhook_url: str, **config: str) -> None:
        """Rewrite the config to deliver to `webhook_url`, and reload it."""
        self.config_path.write_text(alertmanager_config(webhook_url, **config))
        httpx.post(f"{self.url}/-/reload", timeout=10).raise_for_status()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_alertmanager(workdir: Path, webhook_url: str, **config: str) -> Alertmanager:
    if not Path(ALERTMANAGER).exists() and shutil.which("prometheus-alertmanager") is None:
        pytest.fail("prometheus-alertmanager is missing: scripts/services installs it")
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "alertmanager.yml"
    config_path.write_text(alertmanager_config(webhook_url, **config))
    port, log_path = free_port(), workdir / "alertmanager.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                ALERTMANAGER,
                f"--config.file={config_path}",
                f"--storage.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=debug",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    am = Alertmanager(f"http://127.0.0.1:{port}", config_path, process, log_path)
    _wait_ready(am)
    return am


def _wait_ready(am: Alertmanager, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and am.process.poll() is None:
        try:
            if httpx.get(f"{am.url}/-/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop_alertmanager(am)
    raise RuntimeError(f"Alertmanager did not become ready:\n{am.log()}")


def stop_alertmanager(am: Alertmanager) -> None:
    if am.process.poll() is None:
        am.process.terminate()
        try:
            am.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            am.process.kill()
            am.process.wait(timeout=10)


@pytest.fixture
def alertmanager_factory(tmp_path: Path) -> Iterator[Callable[..., Alertmanager]]:
    """`start(webhook_url, group_wait=..., group_interval=...)`: a real Alertmanager each
    call (stopped after the test), delivering every alert to `webhook_url`."""
    started: list[Alertmanager] = []

    def start(webhook_url: str, **config: str) -> Alertmanager:
        started.append(start_alertmanager(tmp_path / f"am{len(started)}", webhook_url, **config))
        return started[-1]

    yield start
    for am in started:
        stop_alertmanager(am)


@pytest.fixture
def alertmanager(
    alertmanager_factory: Callable[..., Alertmanager], webhook_sink: WebhookSink
) -> Alertmanager:
    """A real Alertmanager (Debian's package) whose one receiver is `webhook_sink`."""
    return alertmanager_factory(webhook_sink.url)
