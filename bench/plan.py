"""How long and how hard each part of the benchmark runs (full and --quick)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    wrk_seconds: int  # one wrk run
    warmup_seconds: int  # one untimed wrk run on the floor per server
    ingest_rounds: int  # in-process ingest: steady rounds over every resource
    ingest_budget: float  # ... stopped early after this many seconds
    http_rounds: int  # HTTP ingest rounds over every resource
    sizes: tuple[int, ...] = (1_000, 10_000)
    ingest_size: int = 10_000
    connections: int = 64
    threads: int = 2
    uvicorn: tuple[str, ...] = ()  # extra uvicorn arguments (e.g. --loop asyncio)


FULL = Plan(wrk_seconds=10, warmup_seconds=2, ingest_rounds=5, ingest_budget=60, http_rounds=3)
QUICK = Plan(wrk_seconds=3, warmup_seconds=1, ingest_rounds=2, ingest_budget=20, http_rounds=1)
