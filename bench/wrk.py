"""One bounded wrk run against a loopback URL, parsed into a `WrkResult`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.server import pinned

SCRIPT = Path(__file__).with_name("wrk_report.lua")
MARK = "FACSTAT_WRK "


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    bytes: int
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def bytes_per_response(self) -> float:
        return self.bytes / self.requests if self.requests else 0.0


def available() -> bool:
    return shutil.which("wrk") is not None


def _parse(stdout: str) -> WrkResult:
    line = next((ln for ln in stdout.splitlines() if ln.startswith(MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no report:\n{stdout}")
    d = json.loads(line[len(MARK) :])
    return WrkResult(
        requests=d["requests"],
        seconds=d["duration_us"] / 1e6,
        bytes=d["bytes"],
        errors=sum(d["errors"].values()),
        p50_ms=d["p50_us"] / 1000,
        p99_ms=d["p99_us"] / 1000,
    )


def run(
    url: str,
    seconds: int,
    connections: int = 64,
    threads: int = 2,
    etag: str | None = None,
    cpus: str | None = None,
) -> WrkResult:
    """`wrk -t -c -d` with the report script; refuses anything but loopback."""
    if urlsplit(url).hostname != "127.0.0.1":
        raise ValueError(f"benchmarks only target 127.0.0.1, not {url}")
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    cmd += ["-s", str(SCRIPT), url]
    env = dict(os.environ, FACSTAT_BENCH_ETAG=etag or "")
    done = subprocess.run(
        pinned(cmd, cpus), env=env, capture_output=True, text=True, timeout=seconds + 60
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr}")
    return _parse(done.stdout)
