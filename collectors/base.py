"""The collector port: what the runner needs from every source adapter."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from facility.model import Observation


class Collector(Protocol):
    """A source adapter: observes some resources, one call per cycle."""

    name: str
    interval: float
    timeout: float
    resource_ids: Sequence[str]

    def collect(self, now: datetime) -> list[Observation]: ...
