"""Queue depth and waits from the job list, in one pass per snapshot: pure, `now` passed in.

A pending job *waits on the system* when it is eligible (its begin time has
passed) and pends for a reason the centre controls (Resources, Priority,
ReqNodeNotAvail…), not for one of its own (a hold, a dependency, a begin time,
an invalid request). The oldest-pending age counts only such jobs, so one job
held for a week does not read as a week-long queue.

Job times are epoch seconds; `now` is taken in microseconds, so an age or a wait is
the float `(now - then).total_seconds()` gives for the same datetimes.
"""

from __future__ import annotations

import functools
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from collectors.slurm.model import FINISHED_STATES, Job

OWN_REASONS = frozenset(
    {"JobHeldUser", "JobHeldAdmin", "BeginTime", "Dependency", "DependencyNeverSatisfied"}
    | {"InvalidAccount", "InvalidQOS", "BadConstraints", "JobArrayTaskLimit"}
)
QueueKey = tuple[str, str, str, str]  # partition, qos, state, reason_code
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = 1_000_000  # microseconds a second


@functools.lru_cache(maxsize=4096)  # pending reasons repeat across thousands of jobs
def reason_code(reason: str) -> str:
    """A bounded label from a pending reason: `ReqNodeNotAvail, UnavailableNodes:n[1-4]`
    → `ReqNodeNotAvail`."""
    code = re.sub(r"[^A-Za-z0-9_]", "", reason.split(",")[0])[:64]
    return code or "None"


@dataclass(frozen=True, slots=True)
class Summary:
    """One snapshot's queue, per partition: what the observations and metrics report."""

    depth: Counter[QueueKey]  # active jobs (array tasks counted one by one)
    oldest_pending: dict[str, float]  # seconds since the longest-waiting job became eligible
    recent_waits: dict[str, list[float]]  # waits of the jobs started in the recent window

    def jobs(self, state: str, partition: str | None = None) -> int:
        """Active jobs (tasks) in `state` (`pending`, `running`…), of one partition or all."""
        return sum(n for k, n in self.depth.items() if k[2] == state and partition in (None, k[0]))

    def oldest_pending_age(self, partition: str | None = None) -> float:
        if partition is not None:
            return self.oldest_pending.get(partition, 0.0)
        return max(self.oldest_pending.values(), default=0.0)

    def waits(self, partition: str | None = None) -> list[float]:
        if partition is not None:
            return self.recent_waits.get(partition, [])
        return [w for ws in self.recent_waits.values() for w in ws]


def summarize(jobs: Iterable[Job], now: datetime, window: float) -> Summary:
    """Depth by partition, QoS, state and reason; per partition, the oldest pending age
    and the start waits (eligible, or submitted, to start) of jobs started within
    `window` seconds."""
    now_us = (now - EPOCH) // timedelta(microseconds=1)
    depth: Counter[QueueKey] = Counter()
    eligible_since: dict[str, int] = {}
    waits: dict[str, list[float]] = defaultdict(list)
    for j in jobs:
        if j.state == "PENDING":
            _pending(j, now_us, depth, eligible_since)
        elif j.state not in FINISHED_STATES:
            depth[(j.partition, j.qos, j.state.lower(), "None")] += j.tasks
        if j.start is not None and (wait := _recent_wait(j, now_us, window)) is not None:
            waits[j.partition].append(wait)
    oldest = {p: (now_us - e * US) / US for p, e in eligible_since.items()}
    return Summary(depth, oldest, dict(waits))


def _pending(j: Job, now_us: int, depth: Counter[QueueKey], since: dict[str, int]) -> None:
    code = reason_code(j.reason)
    depth[(j.partition, j.qos, "pending", code)] += j.tasks
    eligible = j.eligible is not None and j.eligible * US <= now_us
    if eligible and code not in OWN_REASONS and j.eligible is not None:
        since[j.partition] = min(since.get(j.partition, j.eligible), j.eligible)


def _recent_wait(j: Job, now_us: int, window: float) -> float | None:
    """Seconds from eligible (or submitted) to start, for a job started in the window."""
    since = j.eligible or j.submit
    if j.start is None or since is None or not 0 <= (now_us - j.start * US) / US <= window:
        return None
    return max(0.0, float(j.start - since))


def median_waits(waits: dict[str, list[float]]) -> dict[str, float]:
    return {p: statistics.median(w) for p, w in waits.items() if w}
