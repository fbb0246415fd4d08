"""Pollers with ETags: one wrk run whose connections are split over the API processes,
while a writer changes what they poll once a second.

wrk (`load_pollers.lua`) runs one thread per process, each with its share of the
connections, in a closed loop: every connection sends its next request as soon as
the answer to the previous one arrived (a saturation test: p50 ≈ connections / req/s).
Each request carries the ETag of the last 200 its thread read.

The writer posts one observation batch a second (a rotating slice of the facility,
re-reporting states) through the processes in turn, back to back when a POST takes
longer than that; each batch moves the store version, so `/status` gets a new ETag
and the pollers really see 200s. Pollers start with the current ETag (as pollers
that polled before would).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import server_latency, wrk
from bench.load_cpu import CpuShare, MachineMeter
from bench.observations import observation_json
from bench.reads import etag_of
from bench.server import TOKEN, Server

SCRIPT = Path(__file__).with_name("load_pollers.lua")
MARK = "FACSTAT_LOAD "
PATH = "/api/v1/status"
WRITE_SLICE = 100  # resources re-reported per writer batch
WRITE_INTERVAL = 1.0
WRK_THREADS = 2  # one per core; with one process both threads poll it


@dataclass
class WriterStats:
    ok: int = 0
    failed: list[str] = field(default_factory=list)
    worst_ms: float = 0.0

    @property
    def sent(self) -> int:
        return self.ok + len(self.failed)


class Writer(threading.Thread):
    """One `POST /api/v1/observations` a second, through `urls` in turn, until stopped."""

    def __init__(self, urls: Sequence[str], ids: Sequence[str]) -> None:
        super().__init__(name="load-writer", daemon=True)
        self.urls, self.ids = list(urls), list(ids)
        self.stats = WriterStats()
        self._halt = threading.Event()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        clients = [httpx.Client(base_url=u, headers=headers, timeout=30) for u in self.urls]
        next_at = time.monotonic() + WRITE_INTERVAL
        try:
            while not self._halt.wait(max(0.0, next_at - time.monotonic())):
                self._post(clients[self.stats.sent % len(clients)], self.stats.sent)
                next_at = max(next_at + WRITE_INTERVAL, time.monotonic())
        finally:
            for c in clients:
                c.close()

    def _post(self, client: httpx.Client, k: int) -> None:
        start, at = k * WRITE_SLICE % len(self.ids), datetime.now(UTC)
        rows = range(start, min(start + WRITE_SLICE, len(self.ids)))  # the seeded states
        body = json.dumps({"observations": [observation_json(i, self.ids[i], at) for i in rows]})
        t = time.perf_counter()
        try:
            r = client.post("/api/v1/observations", content=body)
            r.raise_for_status()
            self.stats.ok += 1
        except httpx.HTTPError as exc:
            self.stats.failed.append(f"{client.base_url}: {exc!r}")
        self.stats.worst_ms = max(self.stats.worst_ms, (time.perf_counter() - t) * 1000)

    def stop(self) -> WriterStats:
        self._halt.set()
        self.join(timeout=60)
        return self.stats


@dataclass(frozen=True)
class PollResult:
    result: wrk.WrkResult
    max_ms: float
    errors: dict[str, int]  # wrk's: connect, read, write, status (≥400), timeout
    statuses: dict[int, int]
    stale: int  # answers marked X-Facstat-Stale (served while the store was unreadable)
    writes: WriterStats
    cpu: CpuShare
    server_p99: list[float | None]  # per process, seconds (a histogram bucket edge)


def run_wrk(ports: Sequence[int], seconds: int, connections: int, etag: str = "") -> str:
    """One wrk run, its threads spread over the processes at 127.0.0.1:`ports`; its output."""
    env = dict(os.environ, FACSTAT_LOAD_PORTS=",".join(map(str, ports)), FACSTAT_LOAD_PATH=PATH)
    env["FACSTAT_LOAD_ETAG"] = etag
    threads = max(WRK_THREADS, len(ports))
    opts = [f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    cmd = ["wrk", *opts, "-s", str(SCRIPT), f"http://127.0.0.1:{ports[0]}"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {done.returncode}: {done.stderr}")
    return done.stdout


def _lines(stdout: str) -> tuple[dict[str, Any], dict[str, Any]]:
    report = next(ln for ln in stdout.splitlines() if ln.startswith(wrk.MARK))
    extra = next((ln for ln in stdout.splitlines() if ln.startswith(MARK)), None)
    if extra is None:
        raise RuntimeError(f"wrk printed no {MARK.strip()} line:\n{stdout}")
    return json.loads(report[len(wrk.MARK) :]), json.loads(extra[len(MARK) :])


def _timed(
    servers: Sequence[Server], ids: Sequence[str], seconds: int, connections: int, etag: str
) -> tuple[str, CpuShare, WriterStats]:
    """The timed wrk run, the writer going meanwhile; wrk's output, the CPU, the writes."""
    writer = Writer([s.url for s in servers], ids)
    meter = MachineMeter([s.proc.pid for s in servers if s.proc is not None])
    writer.start()
    try:
        out = run_wrk([s.port for s in servers], seconds, connections, etag)
    finally:
        cpu, writes = meter.stop(), writer.stop()
    return out, cpu, writes


def measure(
    servers: Sequence[Server], ids: Sequence[str], seconds: int, connections: int
) -> PollResult:
    """Warm up 2 s, then the timed run, with the server's own p99 over it."""
    run_wrk([s.port for s in servers], 2, connections)
    etag = etag_of(servers[0].url + PATH)
    before = [server_latency.scrape(s.url, PATH) for s in servers]
    out, cpu, writes = _timed(servers, ids, seconds, connections, etag)
    p99 = [
        server_latency.p99_bound(b, server_latency.scrape(s.url, PATH))
        for s, b in zip(servers, before, strict=True)
    ]
    report, extra = _lines(out)
    statuses = {int(k): v for k, v in extra["status"].items()}
    stats = (report["max_us"] / 1000, report["errors"], statuses, extra["stale"])
    return PollResult(wrk._parse(out), *stats, writes, cpu, p99)
