"""Read throughput for one facility size: the floor, /status and /resources, 200 and 304.

The server is pre-populated (every resource has a status), then each endpoint is
loaded twice with wrk: plain GETs (200, body served from the render cache) and
GETs carrying the ETag from a first response (304). The floor endpoint is loaded
before the first endpoint and after each one; an endpoint's ratio uses the mean
of the floor runs either side of it, which cancels most drift of a shared machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from bench import server_latency, wrk
from bench.cpu import CpuMeter, CpuUse
from bench.observations import http_bodies
from bench.plan import Plan
from bench.server import TOKEN, Server

FLOOR = "/api/v1/_floor"
ENDPOINTS = ("/api/v1/status", "/api/v1/resources", "/api/v1/resources?limit=1000")


@dataclass(frozen=True)
class Load:
    """One wrk run and the CPU it cost."""

    result: wrk.WrkResult
    cpu: CpuUse
    server_p99: float | None  # seconds, a histogram bucket edge (see server_latency)

    @property
    def per_cpu_second(self) -> float:
        """Requests per second of server CPU: robust to other load on the machine."""
        return self.result.rps / self.cpu.server if self.cpu.server else 0.0


@dataclass(frozen=True)
class ReadFigure:
    size: int
    path: str
    status: int
    load: Load
    floors: tuple[Load, Load]  # the floor runs either side

    @property
    def ratio(self) -> float:
        floor = sum(f.result.rps for f in self.floors) / 2
        return self.load.result.rps / floor if floor else 0.0

    @property
    def cpu_ratio(self) -> float:
        floor = sum(f.per_cpu_second for f in self.floors) / 2
        return self.load.per_cpu_second / floor if floor else 0.0


@dataclass(frozen=True)
class SizeRun:
    figures: list[ReadFigure]
    floors: list[Load]
    stable: bool  # the store version did not move during the runs


def populate(server: Server, ids: Sequence[str]) -> float:
    """POST one observation per resource; returns the seconds it took."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    bodies = http_bodies(ids, datetime.now(UTC))
    start = datetime.now(UTC)
    with httpx.Client(base_url=server.url, headers=headers, timeout=120) as client:
        for body in bodies:
            client.post("/api/v1/observations", content=body).raise_for_status()
    return (datetime.now(UTC) - start).total_seconds()


def etag_of(url: str) -> str:
    """The ETag of a 200, after checking the server answers 304 to it."""
    first = httpx.get(url, timeout=60)
    first.raise_for_status()
    etag = first.headers["etag"]
    again = httpx.get(url, headers={"If-None-Match": etag}, timeout=60)
    if again.status_code != 304:
        raise RuntimeError(f"{url}: If-None-Match gave {again.status_code}, not 304")
    return etag


def _load(server: Server, path: str, plan: Plan, cpus: str | None, etag: str | None = None) -> Load:
    """One timed wrk run, with the server's CPU and its own p99 over the run."""
    assert server.proc is not None
    route = path.split("?", 1)[0]
    before = server_latency.scrape(server.url, route)
    meter = CpuMeter(server.proc.pid)
    result = wrk.run(
        server.url + path, plan.wrk_seconds, plan.connections, plan.threads, etag, cpus
    )
    use = meter.stop()
    if result.errors:
        raise RuntimeError(f"{path}: {result.errors} wrk errors (non-2xx/3xx, timeouts, sockets)")
    p99 = server_latency.p99_bound(before, server_latency.scrape(server.url, route))
    return Load(result, use, p99)


def measure(server: Server, size: int, plan: Plan, cpus: str | None) -> SizeRun:
    """floor, 200, 304, floor, 200, 304, ..., floor: each ratio uses the floors either side."""
    wrk.run(server.url + FLOOR, plan.warmup_seconds, plan.connections, plan.threads, None, cpus)
    etags = {path: etag_of(server.url + path) for path in ENDPOINTS}
    floors = [_load(server, FLOOR, plan, cpus)]
    figures = []
    for path in ENDPOINTS:
        ok = _load(server, path, plan, cpus)
        not_modified = _load(server, path, plan, cpus, etags[path])
        floors.append(_load(server, FLOOR, plan, cpus))
        around = (floors[-2], floors[-1])
        figures += [
            ReadFigure(size, path, 200, ok, around),
            ReadFigure(size, path, 304, not_modified, around),
        ]
    stable = all(etag_of(server.url + p) == etags[p] for p in ENDPOINTS)
    return SizeRun(figures, floors, stable)
