"""CPU accounting around one load run, to tell a slow server from a busy machine.

On a shared machine other processes take CPU from the server; `CpuUse` shows
how much of a core the server got, what wrk used, and what everything else used,
so requests per server-CPU-second can be compared when wall-clock rates cannot.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def process_seconds(pid: int) -> float:
    """utime + stime of every thread of `pid`."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def busy_seconds() -> float:
    """CPU seconds spent not idle, over all CPUs, since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / _TICK


def children_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


@dataclass(frozen=True)
class CpuUse:
    server: float  # cores used by the server (1.0 = one full core)
    load_gen: float  # cores used by wrk
    foreign: float  # cores used by everything else on the machine


class CpuMeter:
    """`m = CpuMeter(pid)` before a run, `m.stop()` after it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._t = time.monotonic()
        self._srv, self._all, self._kids = process_seconds(pid), busy_seconds(), children_seconds()

    def stop(self) -> CpuUse:
        wall = time.monotonic() - self._t
        srv = process_seconds(self.pid) - self._srv
        kids = children_seconds() - self._kids
        other = busy_seconds() - self._all - srv - kids
        return CpuUse(srv / wall, kids / wall, max(0.0, other) / wall)
