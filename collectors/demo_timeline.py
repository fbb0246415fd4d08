"""The demo scenario's clock: one loop of `CYCLE` seconds from the moment the demo starts,
and the windows in which its simulated sources misbehave (see `collectors.demo`)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

CYCLE = 360.0
INTERVAL = 5.0  # seconds between the cycles of every demo collector…
SLURM_INTERVAL = 15.0  # …but Slurm's, which reads 400 nodes (a real site: 30 s)

# (start, end) in seconds of the cycle
DRAIN_WAVE = (30.0, 180.0)  # borealis batch: up to 60 of 368 nodes drained
DRAIN_RAMP = 90.0  # seconds until every node of the wave is drained
BROKER_SLOW = (120.0, 240.0)  # the RabbitMQ broker answers in 850 ms
PACKET_LOSS = (200.0, 300.0)  # 4 % packet loss on the tokamak link
OSTS_INACTIVE = (300.0, 345.0)  # 6 of 40 OSTs of scratch inactive


def phase(start: datetime, now: datetime) -> float:
    return (now - start).total_seconds() % CYCLE


def between(t: float, lo: float, hi: float) -> bool:
    return lo <= t < hi


def wobble(seed: str, at: float, period: float = 30.0) -> float:
    """A number in [0, 1) that stays put for `period` seconds: measured noise."""
    return random.Random(f"{seed}:{int(at // period)}").random()


@dataclass(frozen=True, slots=True)
class Timeline:
    """Where a simulated source is in the scenario: read when the source is asked."""

    start: datetime
    clock: Callable[[], datetime]

    def now(self) -> datetime:
        return self.clock()

    def phase(self, now: datetime | None = None) -> float:
        return phase(self.start, now or self.clock())

    def elapsed(self, now: datetime | None = None) -> float:
        return max(0.0, ((now or self.clock()) - self.start).total_seconds())

    def cycle_start(self, now: datetime | None = None) -> float:
        """Unix time at which the current loop of the scenario began."""
        now = now or self.clock()
        return now.timestamp() - self.phase(now)

    def within(self, window: tuple[float, float], now: datetime | None = None) -> bool:
        return between(self.phase(now), *window)
