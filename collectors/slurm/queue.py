"""Queue depth and waits from the job list: pure, `now` passed in.

A pending job *waits on the system* when it is eligible (its begin time has
passed) and pends for a reason the centre controls (Resources, Priority,
ReqNodeNotAvail…), not for one of its own (a hold, a dependency, a begin time,
an invalid request). The oldest-pending age counts only such jobs, so one job
held for a week does not read as a week-long queue.
"""

from __future__ import annotations

import functools
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime

from collectors.slurm.model import FINISHED_STATES, Job

OWN_REASONS = frozenset(
    {"JobHeldUser", "JobHeldAdmin", "BeginTime", "Dependency", "DependencyNeverSatisfied"}
    | {"InvalidAccount", "InvalidQOS", "BadConstraints", "JobArrayTaskLimit"}
)
QueueKey = tuple[str, str, str, str]  # partition, qos, state, reason_code


@functools.lru_cache(maxsize=4096)  # pending reasons repeat across thousands of jobs
def reason_code(reason: str) -> str:
    """A bounded label from a pending reason: `ReqNodeNotAvail, UnavailableNodes:n[1-4]`
    → `ReqNodeNotAvail`."""
    code = re.sub(r"[^A-Za-z0-9_]", "", reason.split(",")[0])[:64]
    return code or "None"


def active(jobs: Iterable[Job]) -> list[Job]:
    return [j for j in jobs if j.state not in FINISHED_STATES]


def depth(jobs: Iterable[Job]) -> Counter[QueueKey]:
    """Active jobs (array tasks counted one by one) by partition, QoS, state, reason."""
    out: Counter[QueueKey] = Counter()
    for j in active(jobs):
        reason = reason_code(j.reason) if j.state == "PENDING" else "None"
        out[(j.partition, j.qos, j.state.lower(), reason)] += j.tasks
    return out


def waits_on_system(job: Job, now: datetime) -> bool:
    eligible = job.eligible is not None and job.eligible <= now
    return job.state == "PENDING" and eligible and reason_code(job.reason) not in OWN_REASONS


def oldest_pending_age(jobs: Iterable[Job], now: datetime) -> dict[str, float]:
    """Per partition: seconds since the longest-waiting job became eligible."""
    out: dict[str, float] = {}
    for j in jobs:
        if waits_on_system(j, now) and j.eligible is not None:
            age = (now - j.eligible).total_seconds()
            out[j.partition] = max(out.get(j.partition, 0.0), age)
    return out


def start_wait(job: Job) -> float | None:
    """Seconds from eligible (or submitted) to start, for a job that started."""
    since = job.eligible or job.submit
    if job.start is None or since is None:
        return None
    return max(0.0, (job.start - since).total_seconds())


def recent_start_waits(jobs: Iterable[Job], now: datetime, window: float) -> dict[str, list[float]]:
    """Per partition: the waits of jobs that started in the last `window` seconds."""
    out: dict[str, list[float]] = defaultdict(list)
    for j in jobs:
        wait = start_wait(j)
        if wait is not None and j.start and 0 <= (now - j.start).total_seconds() <= window:
            out[j.partition].append(wait)
    return dict(out)


def median_waits(waits: dict[str, list[float]]) -> dict[str, float]:
    return {p: statistics.median(w) for p, w in waits.items() if w}
