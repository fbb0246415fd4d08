"""Where the machine's CPU went during one load phase: servers, PostgreSQL, the clients.

On a 2-core machine the load generator, the API processes and PostgreSQL share the
cores, so every phase reports how many cores each took. `wrk` is counted when it has
exited (it is a waited-for child); this Python process (the writer thread and the SSE
client) through its own rusage; PostgreSQL as the `postgres` processes alive at the end
(a backend that exited during the phase is missed, so that figure is a lower bound).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.cpu import busy_seconds, children_seconds, process_seconds


def _self_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def postgres_seconds() -> dict[int, float]:
    """CPU seconds of every running `postgres` process, by pid."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/comm"):
        try:
            if stat.read_text().strip() == "postgres":
                pid = int(stat.parent.name)
                out[pid] = process_seconds(pid)
        except (OSError, ValueError):  # it exited meanwhile
            continue
    return out


@dataclass(frozen=True)
class CpuShare:
    """Cores used over a phase (1.0 = one full core)."""

    servers: float
    postgres: float
    wrk: float
    driver: float  # this process: writer thread, SSE client
    other: float

    @property
    def client(self) -> float:
        return self.wrk + self.driver


class MachineMeter:
    """`m = MachineMeter(server_pids)` before a phase, `m.stop()` after it."""

    def __init__(self, servers: Sequence[int]) -> None:
        self.servers = list(servers)
        self._t, self._busy = time.monotonic(), busy_seconds()
        self._srv = self._server_seconds()
        self._pg, self._kids, self._self = postgres_seconds(), children_seconds(), _self_seconds()

    def _server_seconds(self) -> float:
        return sum(process_seconds(pid) for pid in self.servers)

    def stop(self) -> CpuShare:
        wall = time.monotonic() - self._t
        srv = self._server_seconds() - self._srv
        pg = sum(s - self._pg.get(pid, 0.0) for pid, s in postgres_seconds().items())
        kids = children_seconds() - self._kids
        own = _self_seconds() - self._self
        other = busy_seconds() - self._busy - srv - pg - kids - own
        return CpuShare(srv / wall, pg / wall, kids / wall, own / wall, max(0.0, other) / wall)
