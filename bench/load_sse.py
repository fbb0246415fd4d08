"""Delivery time of one status change to every open SSE stream.

The streams (`load_sse_client`) are spread over the API processes. Each change is two
observations of the new state (the facility's hysteresis needs two), posted through
the first process only; the clock starts just before the second POST is sent (its
round trip is reported separately) and stops, per stream, when the `recv` that
completes the event returns. Changes alternate down/up; a stream that has not read
the event after `WAIT` seconds missed it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from bench.load_cpu import CpuShare, MachineMeter
from bench.load_sse_client import SseClients
from bench.server import TOKEN, Server

PATH = "/api/v1/stream?types=status"
STATES = ("down", "up")  # the target starts up (seeded)
WAIT = 15.0  # seconds a change may take to reach every stream
GAP = 1.0  # seconds between changes
CONNECT_TIMEOUT = 120.0


@dataclass(frozen=True)
class Delivery:
    state: str
    ack_ms: float  # round trip of the second POST
    delays: list[tuple[int, float]]  # (process of the stream, seconds after the send)
    missed: int
    event_ids: int  # distinct ids the streams got for this change (1 expected)
    client_busy: float  # share of the delivery window the read loop was busy

    @property
    def last(self) -> float:
        return max((d for _, d in self.delays), default=math.nan)

    def last_on(self, process: int) -> float:
        return max((d for p, d in self.delays if p == process), default=math.nan)


@dataclass(frozen=True)
class SseResult:
    clients: int
    connected: int
    connect_s: float
    deliveries: list[Delivery]
    dropped: int  # streams that ended during the phase
    cpu: CpuShare

    @property
    def delays(self) -> list[float]:
        return sorted(d for dl in self.deliveries for _, d in dl.delays)

    @property
    def missed(self) -> int:
        return sum(d.missed for d in self.deliveries)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of sorted `values` (q in 0..100)."""
    if not values:
        return math.nan
    return values[max(0, math.ceil(q / 100 * len(values)) - 1)]


def _body(resource_id: str, state: str, at: datetime) -> bytes:
    obs = {"resource_id": resource_id, "observed_at": at.isoformat(), "source": "bench"}
    return json.dumps({"observations": [{**obs, "state": state}]}).encode()


def _wait(clients: SseClients, resource_id: str, state: str, since: float) -> None:
    """Until every stream has the event: parsing only once each has read since `since`
    (a cheap check), so the reader thread has the interpreter to itself meanwhile."""
    deadline = since + WAIT
    while time.perf_counter() < deadline:
        time.sleep(0.05)
        if any(st.last_read < since for st in clients.live):
            continue
        for st in clients.streams:
            st.parse()
        if all(st.arrival(resource_id, state, since) for st in clients.live):
            return


def _change(clients: SseClients, http: httpx.Client, resource_id: str, state: str) -> Delivery:
    first = datetime.now(UTC)
    http.post("/api/v1/observations", content=_body(resource_id, state, first)).raise_for_status()
    second = _body(resource_id, state, max(datetime.now(UTC), first + timedelta(milliseconds=1)))
    sent = time.perf_counter()
    http.post("/api/v1/observations", content=second).raise_for_status()
    ack = time.perf_counter() - sent
    _wait(clients, resource_id, state, sent)
    for st in clients.streams:
        st.parse()
    got = [(st, st.arrival(resource_id, state, sent)) for st in clients.streams if st.ready]
    delays = [(st.process, a.at - sent) for st, a in got if a is not None]
    last = sent + max((d for _, d in delays), default=0.0)
    ids = {a.id for _, a in got if a is not None}
    share = clients.busy_share(sent, last)
    return Delivery(state, ack * 1000, delays, len(got) - len(delays), len(ids), share)


def measure(servers: Sequence[Server], count: int, changes: int, resource_id: str) -> SseResult:
    """Open `count` streams over the processes, then `changes` changes through the first."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    pids = [s.proc.pid for s in servers if s.proc is not None]
    with SseClients([s.port for s in servers], count, PATH) as clients:
        connect_s = clients.open(CONNECT_TIMEOUT)
        connected = len(clients.live)
        meter = MachineMeter(pids)
        with httpx.Client(base_url=servers[0].url, headers=headers, timeout=30) as http:
            deliveries = []
            for k in range(changes):
                deliveries.append(_change(clients, http, resource_id, STATES[k % 2]))
                time.sleep(GAP)
        cpu = meter.stop()
        dropped = connected - len(clients.live)
    return SseResult(count, connected, connect_s, deliveries, dropped, cpu)
