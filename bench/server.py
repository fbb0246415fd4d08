"""A facstat API server as a separate uvicorn process on loopback, for load tests.

Settings come from the environment (`FACSTAT_*`), exactly as in production; the
process runs in an empty working directory so no stray `.env` is read, and imports
the tree this `bench/` belongs to.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import httpx

ROOT = Path(__file__).resolve().parent.parent  # the tree under test
TOKEN = "bench-collector-token-0123456789"
READY_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pinned(cmd: list[str], cpus: str | None) -> list[str]:
    """`cmd` run under `taskset -c cpus` when pinning is asked for and possible."""
    if cpus is None or shutil.which("taskset") is None:
        return cmd
    return ["taskset", "-c", cpus, *cmd]


def read_memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB, from /proc/<pid>/status."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


class Server:
    """`with Server(...) as srv:` starts uvicorn, waits for /healthz, stops it on exit."""

    def __init__(
        self,
        facility: Path,
        db_url: str,
        workdir: Path,
        cpus: str | None,
        extra: Sequence[str] = (),
    ) -> None:
        self.facility, self.db_url, self.workdir, self.cpus = facility, db_url, workdir, cpus
        self.extra = list(extra)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FACSTAT_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env.update(
            FACSTAT_DATABASE_URL=self.db_url,
            FACSTAT_FACILITY_FILE=str(self.facility),
            FACSTAT_COLLECTOR_TOKEN=TOKEN,
            FACSTAT_RUN_COLLECTORS="false",
            FACSTAT_BENCH_FLOOR="true",
            FACSTAT_RATE_LIMIT_PER_MINUTE="0",  # load generators would measure 429s
        )
        return env

    def _command(self) -> list[str]:
        uvicorn = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"]
        uvicorn += ["--host", "127.0.0.1", "--port", str(self.port)]
        uvicorn += ["--no-access-log", "--log-level", "warning", *self.extra]
        return pinned(uvicorn, self.cpus)

    def __enter__(self) -> Server:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / "server.log").open("wb")
        self.proc = subprocess.Popen(
            self._command(), env=self._env(), cwd=self.workdir, stdout=log, stderr=log
        )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited; see {self.workdir / 'server.log'}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError(f"server not ready after {READY_TIMEOUT:.0f}s")

    def memory(self) -> dict[str, int]:
        assert self.proc is not None
        return read_memory(self.proc.pid)

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
