"""Real `facstat serve` processes for the tests that need more than one, or that kill one.

Each process is started with its settings in the environment (as a deployment would),
logs to a file under the test's directory, and is stopped (or killed) by the test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import OPERATOR_TOKEN, SMALL, TOKEN

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class ApiProcess:
    url: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def kill9(self) -> None:
        """`kill -9`: no shutdown handler runs."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        end(self.proc)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def end(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """SIGTERM, and SIGKILL if it has not exited within `timeout` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def api_env(db_url: str, facility: Path = SMALL, **extra: str) -> dict[str, str]:
    """The environment of one API process: tokens of the test suite, no collectors."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACSTAT_")}
    env |= {
        "FACSTAT_DATABASE_URL": db_url,
        "FACSTAT_FACILITY_FILE": str(facility),
        "FACSTAT_COLLECTOR_TOKEN": TOKEN,
        "FACSTAT_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "FACSTAT_RUN_COLLECTORS": "false",
        "FACSTAT_RATE_LIMIT_PER_MINUTE": "0",
    }
    env |= {f"FACSTAT_{k.upper()}": v for k, v in extra.items()}
    return env


def spawn_api(
    port: int, env: dict[str, str], log: Path, wait: bool = True, timeout: float = 60
) -> ApiProcess:
    """`facstat serve` on 127.0.0.1:`port`; with `wait`, once `/healthz` answers."""
    out = log.open("ab")
    cmd = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    api = ApiProcess(f"http://127.0.0.1:{port}", port, proc, log)
    if wait:
        wait_ready(api, timeout)
    return api


def wait_ready(api: ApiProcess, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api.proc.poll() is not None:
            raise RuntimeError(f"facstat serve exited {api.proc.returncode}:\n{api.output()}")
        try:
            if httpx.get(api.url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    api.stop()
    raise RuntimeError(f"facstat serve did not answer in {timeout} s:\n{api.output()}")
