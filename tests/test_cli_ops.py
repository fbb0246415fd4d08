"""`facstat maintenance …` and `facstat ready` against a real server."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from facility.model import Observation, ProbeState
from tests.api.helpers import iso
from tests.conftest import OPERATOR_TOKEN, LiveServer

BIN = Path(sys.executable).parent / "facstat"
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def run(
    live: LiveServer, *args: str, token: str | None = OPERATOR_TOKEN
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FACSTAT_URL": live.url, "COLUMNS": "250"}
    env.pop("FACSTAT_OPERATOR_TOKEN", None)
    if token:
        env["FACSTAT_OPERATOR_TOKEN"] = token
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=60, env=env)


def test_an_operator_plans_lists_extends_and_cancels_a_window(live_server: LiveServer) -> None:
    now = live_server.runtime.clock()
    start, end = iso(now + timedelta(days=10)), iso(now + timedelta(days=10, hours=4))
    out = run(
        live_server,
        "maintenance",
        "create",
        "--id",
        "home-fw",
        "--title",
        "Home firmware",
        "--resources",
        "home",
        "--start",
        start,
        "--end",
        end,
    )
    assert out.returncode == 0, out.stderr
    assert "home-fw" in out.stdout and "pending" in out.stdout
    listed = run(live_server, "maintenance", "list", "--system", "storage")
    assert "home-fw" in listed.stdout and "Home firmware" in listed.stdout
    later = iso(now + timedelta(days=10, hours=6))
    assert run(live_server, "maintenance", "extend", "home-fw", "--until", later).returncode == 0
    cancelled = run(live_server, "maintenance", "cancel", "home-fw")
    assert cancelled.returncode == 0 and "cancelled" in cancelled.stdout


def test_a_refused_window_prints_the_field_and_exits_1(live_server: LiveServer) -> None:
    out = run(
        live_server,
        "maintenance",
        "create",
        "--title",
        "x",
        "--resources",
        "scrach",
        "--start",
        "2026-12-01T00:00:00Z",
        "--end",
        "2026-12-01T04:00:00Z",
    )
    assert out.returncode == 1 and "resources" in out.stderr and "scrach" in out.stderr
    assert "Traceback" not in out.stderr
    no_token = run(live_server, "maintenance", "cancel", "nope", token=None)
    assert no_token.returncode == 1 and "401" in no_token.stderr


def test_importing_a_calendar_file_reports_what_it_imported(
    live_server: LiveServer, tmp_path: Path
) -> None:
    ics = tmp_path / "ops.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        "UID:w1@test\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261201T080000Z\r\n"
        "DTEND:20261201T120000Z\r\nSUMMARY:Scratch check\r\n"
        "X-FACSTAT-RESOURCES:scratch\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    out = run(live_server, "maintenance", "import", str(ics), "--source", "ops")
    assert out.returncode == 0, out.stderr
    assert "1 window(s) as ical:ops" in out.stdout
    bad = run(live_server, "maintenance", "import", str(tmp_path / "missing.ics"), "--source", "x")
    assert bad.returncode == 1 and "cannot read" in bad.stderr


def test_ready_prints_a_verdict_per_resource_and_exits_with_it(live_server: LiveServer) -> None:
    out = run(live_server, "ready", "bl1")
    assert out.returncode == 3, out.stdout + out.stderr  # nothing observed yet: at risk
    assert "at_risk" in out.stdout and "broker" in out.stdout and "unknown" in out.stdout
    assert run(live_server, "ready", "nope").returncode == 1


def test_incidents_lists_open_ones_and_ack_acknowledges(live_server: LiveServer) -> None:
    rt = live_server.runtime
    now = rt.clock()
    for _ in range(2):
        rt.service.ingest([Observation("scratch", now, "t", ProbeState.DOWN)], now)
    listed = run(live_server, "incidents")
    assert listed.returncode == 0, listed.stderr
    assert "Scratch is not working normally" in listed.stdout and "triggered" in listed.stdout
    out = run(live_server, "ack", "1", "--actor", "cat")
    assert out.returncode == 0 and "acknowledged incident 1" in out.stdout
    again = run(live_server, "ack", "1")
    assert again.returncode == 1 and "409" in again.stderr
