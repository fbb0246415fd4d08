"""Observation batches for the benchmarks: domain objects and HTTP bodies.

Every DEGRADED_EVERY-th resource reports `degraded` at 80 % capacity, the rest
`up` at full capacity, in every round: after the first round nothing changes
state, which is the steady state of a facility (collectors re-reporting).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from facility.model import Observation, ProbeState, Reason

DEGRADED_EVERY = 37
BATCH = 1000
_SLOW = Reason("nodes_drained", "3 nodes drained")


def _degraded(i: int) -> bool:
    return i % DEGRADED_EVERY == 0


def observation(i: int, rid: str, at: datetime) -> Observation:
    if _degraded(i):
        return Observation(rid, at, "bench", ProbeState.DEGRADED, 0.8, {"load": 0.5}, (_SLOW,))
    return Observation(rid, at, "bench", ProbeState.UP, 1.0, {"load": 0.5})


def observation_json(i: int, rid: str, at: datetime) -> dict[str, Any]:
    o = observation(i, rid, at)
    return {
        "resource_id": rid,
        "observed_at": at.isoformat(),
        "source": o.source,
        "state": o.state.value,
        "capacity": o.capacity,
        "values": o.values,
        "reasons": [r.as_dict() for r in o.reasons],
    }


def chunks(ids: Sequence[str], size: int = BATCH) -> Iterator[list[tuple[int, str]]]:
    numbered = list(enumerate(ids))
    for start in range(0, len(numbered), size):
        yield numbered[start : start + size]


def domain_batches(ids: Sequence[str], at: datetime) -> list[list[Observation]]:
    return [[observation(i, rid, at) for i, rid in chunk] for chunk in chunks(ids)]


def http_bodies(ids: Sequence[str], at: datetime) -> list[bytes]:
    """Pre-encoded `POST /api/v1/observations` bodies, one per batch."""
    return [
        json.dumps({"observations": [observation_json(i, rid, at) for i, rid in chunk]}).encode()
        for chunk in chunks(ids)
    ]
