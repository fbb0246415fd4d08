"""The README's main job, end to end: `facstat demo` in its own process, read by
`facstat status` and plain HTTP, with a state that moves."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

BIN = Path(sys.executable).parent / "facstat"


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "FACSTAT_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    proc = subprocess.Popen(
        [str(BIN), "demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, proc)
        yield url
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
        assert b"Traceback" not in out, out.decode()


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"facstat demo exited: {proc.stdout.read().decode() if proc.stdout else ''}"
            )
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("facstat demo did not start")


def _observed_everything(url: str) -> dict:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        page = httpx.get(url + "/api/v1/resources", params={"limit": 1000}).json()
        if all(r["observed_at"] for r in page["items"]):
            return page
        time.sleep(0.5)
    raise AssertionError("the demo collectors never observed every resource")


def test_the_demo_serves_a_living_facility_and_the_status_command_prints_it(
    demo_server: str,
) -> None:
    page = _observed_everything(demo_server)
    assert len(page["items"]) == 17
    assert {r["source"] for r in page["items"]} == {
        "demo",
        "rabbitmq-dsn-rabbitmq",
        "redis-dsn-redis",
        "slurm-borealis",
        "slurm-tern",
        "lustre-scratch",
        "filesystem-home",
        "filesystem-project",
        "link-link-lightsource",
        "link-link-tokamak",
    }
    first = httpx.get(demo_server + "/api/v1/status")
    assert first.json()["state"] in {"up", "degraded"}
    time.sleep(6)  # one more demo collection cycle
    again = httpx.get(
        demo_server + "/api/v1/status", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 200, "observations keep arriving, so the representation changes"
    out = subprocess.run(
        [str(BIN), "status", "--url", demo_server], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    assert "borealis-batch" in out.stdout and "facility:" in out.stdout


def test_the_status_command_explains_an_unreachable_server() -> None:
    out = subprocess.run(
        [str(BIN), "status", "--url", f"http://127.0.0.1:{free_port()}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 1
    assert "cannot read status" in out.stderr and "Traceback" not in out.stderr


def test_serve_refuses_an_invalid_facility_file_with_a_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("facility: {id: x, name: X}\nsystems: []\nresources: [{id: a}]\n")
    out = subprocess.run(
        [str(BIN), "serve", "--facility", str(bad), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )
    assert out.returncode == 2
    assert "resources[0].name" in out.stderr and "Traceback" not in out.stderr


def test_production_refuses_to_start_without_a_real_collector_token(tmp_path: Path) -> None:
    env = {**os.environ, "FACSTAT_ENVIRONMENT": "production", "FACSTAT_COLLECTOR_TOKEN": "changeme"}
    out = subprocess.run(
        [str(BIN), "serve", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        cwd=tmp_path,
    )
    assert out.returncode == 2
    assert "collector_token" in out.stderr and "Traceback" not in out.stderr


def test_collect_without_a_destination_or_with_nothing_to_run_says_why() -> None:
    facility = str(Path(__file__).parent / "data" / "small-facility.yaml")
    out = subprocess.run(
        [str(BIN), "collect", "--facility", facility], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 2 and "--push URL" in out.stderr
    out = subprocess.run(
        [str(BIN), "collect", "--facility", facility, "--push", "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "FACSTAT_PUSH_TOKEN": ""},
    )
    assert out.returncode == 2 and "--token" in out.stderr
    out = subprocess.run(
        [str(BIN), "collect", "--facility", facility, "--listen", "nonsense"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 2
    assert "no collector to run" in out.stderr and "Traceback" not in out.stderr
