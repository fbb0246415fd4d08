"""Filesystems: space and inodes from statvfs, and a timed I/O probe, one collector per mount.

Options (`collector: {kind: filesystem, options: {...}}`): `path` (the mount point),
`probe_dir` (where the probe writes; default `path`), `capacity_degraded_ratio` (used
fraction, 0.9), `capacity_down_ratio` (0.98), `inodes_degraded_ratio` (0.9),
`probe_timeout` (5 s), `probe_slow_seconds` (0.5 s), `history` (30 probes), `interval` (60 s).

Each cycle runs `collectors/filesystem_probe.py` in a child process (see
`collectors.filesystem_io`): statvfs, then create, write, fsync, read, stat and unlink a
small file. A child that does not finish within `probe_timeout` is killed and the mount is
`down` with reason `io_timeout`; while a killed child is still stuck in the kernel no new one
is started. A probe slower than `probe_slow_seconds` in total is `degraded` (`io_slow`).

"Used" is what df shows: used / (used + available to users), so root-reserved blocks count
as unavailable. The observation's capacity is the *usable* fraction of the service, not the
free-space fraction: 1.0 while the mount answers I/O and is below `capacity_down_ratio`, 0.0
when it is down. Free space is in `values` and in the metrics; reporting it as capacity would
make the engine's `degraded_below` threshold flag every filesystem more than 10 % full.

Exposition, for a resource `home`::

    facstat_filesystem_avail_bytes{resource="home"} 3.2e+12
    facstat_filesystem_probe_latency_seconds{operation="fsync",resource="home"} 0.0042
    facstat_filesystem_probe_latency_percentile_seconds{percentile="90",resource="home"} 0.011
    facstat_filesystem_probe_failures_total{operation="create",resource="home"} 1.0
"""

from __future__ import annotations

import math
import subprocess
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.core import Metric
from pydantic import BaseModel, ConfigDict, Field

from collectors import filesystem_io
from collectors.base import Collector, Cycle, MetricSpec
from collectors.common import Finding, Verdict, parse_options, worst
from collectors.filesystem_io import ProbeReport
from collectors.filesystem_space import Space, space_findings
from facility.config import FacilityConfig, Resource
from facility.model import Observation, ProbeState, Reason

# Reason codes this module emits (see `collectors.reason_codes`).
REASON_CODES: dict[str, str] = {
    "io_timeout": "an I/O probe step (or an earlier probe still blocked in the kernel) did not finish within probe_timeout: the mount hangs",
    "io_error": "an I/O probe step (create, write, fsync, read, stat or unlink) failed with an error",
    "io_slow": "the whole I/O probe took longer than probe_slow_seconds",
    "probe_failed": "the probe process died or reported no statvfs, so nothing is known about the mount",
}

R = ("resource",)
SIZE = MetricSpec("facstat_filesystem_size_bytes", "gauge", "Size of the filesystem.", R)
FREE = MetricSpec(
    "facstat_filesystem_free_bytes", "gauge", "Free space, root-reserved included.", R
)
AVAIL = MetricSpec("facstat_filesystem_avail_bytes", "gauge", "Space available to users.", R)
INODES = MetricSpec("facstat_filesystem_inodes", "gauge", "Inodes of the filesystem.", R)
INODES_FREE = MetricSpec("facstat_filesystem_inodes_free", "gauge", "Free inodes.", R)
LATENCY = MetricSpec(
    "facstat_filesystem_probe_latency_seconds",
    "gauge",
    "Latency of each operation of the last I/O probe (total: the whole probe).",
    ("resource", "operation"),
)
PERCENTILE = MetricSpec(
    "facstat_filesystem_probe_latency_percentile_seconds",
    "gauge",
    "Percentiles (50, 90, 99) of the total latency of the recent successful I/O probes.",
    ("resource", "percentile"),
)
STDDEV = MetricSpec(
    "facstat_filesystem_probe_latency_stddev_seconds",
    "gauge",
    "Standard deviation of the total latency of the recent successful I/O probes.",
    R,
)
PROBES = MetricSpec("facstat_filesystem_probes_total", "counter", "I/O probes run.", R)
FAILURES = MetricSpec(
    "facstat_filesystem_probe_failures_total",
    "counter",
    "I/O probes that failed or timed out, by the operation that failed or hung.",
    ("resource", "operation"),
)
PERCENTILES = (50, 90, 99)


class FilesystemOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(description="mount point to watch")
    probe_dir: str | None = Field(None, description="directory the I/O probe writes in")
    capacity_degraded_ratio: float = Field(0.9, gt=0, le=1, description="used fraction: degraded")
    capacity_down_ratio: float = Field(0.98, gt=0, le=1, description="used fraction: down")
    inodes_degraded_ratio: float = Field(0.9, gt=0, le=1, description="used inodes: degraded")
    probe_timeout: float = Field(5.0, gt=0, description="seconds before the probe is io_timeout")
    probe_slow_seconds: float = Field(0.5, ge=0, description="total probe time that is io_slow")
    history: int = Field(30, ge=1, le=10_000, description="probes kept for quantiles")
    interval: float = Field(60.0, gt=0, description="seconds between cycles")


# --- pure rules -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """One probe as the collector saw it."""

    report: ProbeReport
    timed_out: bool = False
    stuck_seconds: float | None = None  # a previous probe is still stuck in the kernel


def evaluate(o: Outcome, opts: FilesystemOptions) -> Verdict:
    """The observation a probe outcome makes; pure."""
    rep = o.report
    space = Space.from_statvfs(rep.statvfs) if rep.statvfs else None
    values = space.values() if space else {}
    if o.timed_out or rep.error is not None:
        return Verdict(ProbeState.DOWN, 0.0, (_failure_reason(o, opts),), values)
    if not rep.done or space is None:
        said = "; ".join(rep.other[-2:]) or "no output"
        return Verdict(ProbeState.UNKNOWN, None, (Reason("probe_failed", f"probe died: {said}"),))
    total = sum(rep.latencies.values())
    findings = space_findings(space, opts) + _slow_findings(rep.latencies, total, opts)
    state = worst(findings)
    capacity = 0.0 if state == ProbeState.DOWN else 1.0
    return Verdict(
        state, capacity, tuple(r for _, r in findings), {**values, "probe_seconds": total}
    )


def _failure_reason(o: Outcome, opts: FilesystemOptions) -> Reason:
    op, where = o.report.pending or "probe", opts.probe_dir or opts.path
    if o.stuck_seconds is not None:
        return Reason(
            "io_timeout",
            f"an earlier probe of {where} is still blocked in {op} after {o.stuck_seconds:.0f} s",
        )
    if o.timed_out:
        return Reason(
            "io_timeout", f"{op} in {where} did not finish within {opts.probe_timeout:g} s"
        )
    return Reason("io_error", f"{op} in {where} failed: {o.report.error}")


def _slow_findings(
    latencies: dict[str, float], total: float, opts: FilesystemOptions
) -> list[Finding]:
    if total <= opts.probe_slow_seconds:
        return []
    op, slowest = max(latencies.items(), key=lambda kv: kv[1])
    message = f"I/O probe took {total:.3f} s ({op} {slowest:.3f} s); slow above {opts.probe_slow_seconds:g} s"
    return [(ProbeState.DEGRADED, Reason("io_slow", message))]


def quantile(samples: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of `samples` (not empty)."""
    s = sorted(samples)
    pos = q * (len(s) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def stddev(samples: Sequence[float]) -> float:
    mean = sum(samples) / len(samples)
    return math.sqrt(sum((x - mean) ** 2 for x in samples) / len(samples))


# --- the collector ----------------------------------------------------------------------


@dataclass
class _Stuck:
    proc: subprocess.Popen[bytes]
    op: str | None
    since: float


class FilesystemCollector:
    """Probes one mount per cycle; keeps a short latency history and failure counts."""

    kind = "filesystem"

    def __init__(self, resource_id: str, opts: FilesystemOptions) -> None:
        self.name = f"filesystem-{resource_id}"
        self.resource_ids: Sequence[str] = (resource_id,)
        self.interval = opts.interval
        self.timeout = opts.probe_timeout + 2 * filesystem_io.REAP_SECONDS + 5
        self.opts = opts
        self.history: deque[float] = deque(maxlen=opts.history)
        self.probes = 0
        self.failures: Counter[str] = Counter()
        self._stuck: _Stuck | None = None

    def collect(self, now: datetime) -> Cycle:
        outcome = self.probe()
        v = evaluate(outcome, self.opts)
        rid = self.resource_ids[0]
        obs = Observation(rid, now, self.name, v.state, v.capacity, v.values, v.reasons)
        return Cycle([obs], self.families(outcome))

    def probe(self) -> Outcome:
        if self._stuck is not None and self._stuck.proc.poll() is None:
            waited = time.monotonic() - self._stuck.since
            return Outcome(ProbeReport(pending=self._stuck.op), True, waited)
        self._stuck = None
        argv = filesystem_io.render(self.opts.path, self.opts.probe_dir or self.opts.path)
        try:
            run = filesystem_io.run(argv, self.opts.probe_timeout)
        except OSError as exc:  # the probe could not start: says nothing about the mount
            run = filesystem_io.ChildRun(f"cannot start the probe: {exc}", timed_out=False)
        report = filesystem_io.parse(run.output)
        if run.leftover is not None:
            self._stuck = _Stuck(run.leftover, report.pending, time.monotonic())
        self._count(report, run.timed_out)
        return Outcome(report, run.timed_out)

    def _count(self, report: ProbeReport, timed_out: bool) -> None:
        self.probes += 1
        if timed_out or report.error is not None or not report.done:
            self.failures[report.pending or "probe"] += 1
        else:
            self.history.append(sum(report.latencies.values()))

    def families(self, outcome: Outcome) -> list[Metric]:
        rid, rep = self.resource_ids[0], outcome.report
        fams = {spec.name: spec.family() for spec in (SIZE, FREE, AVAIL, INODES, INODES_FREE)}
        if rep.statvfs:
            space = Space.from_statvfs(rep.statvfs)
            for spec, value in zip(
                (SIZE, FREE, AVAIL, INODES, INODES_FREE), _space_numbers(space), strict=True
            ):
                fams[spec.name].add_metric([rid], value)
        return [*fams.values(), *self._probe_families(rid, rep)]

    def _probe_families(self, rid: str, rep: ProbeReport) -> list[Metric]:
        latency, percentiles, spread = LATENCY.family(), PERCENTILE.family(), STDDEV.family()
        for op, seconds in rep.latencies.items():
            latency.add_metric([rid, op], seconds)
        if rep.done:
            latency.add_metric([rid, "total"], sum(rep.latencies.values()))
        if self.history:
            for p in PERCENTILES:
                percentiles.add_metric([rid, str(p)], quantile(self.history, p / 100))
            spread.add_metric([rid], stddev(self.history))
        probes, failures = PROBES.family(), FAILURES.family()
        probes.add_metric([rid], self.probes)
        for op, n in sorted(self.failures.items()):
            failures.add_metric([rid, op], n)
        return [latency, percentiles, spread, probes, failures]


def _space_numbers(s: Space) -> tuple[int, ...]:
    return s.size, s.free, s.avail, s.inodes, s.inodes_free


def build(config: FacilityConfig, resources: list[Resource]) -> list[Collector]:
    """One collector per filesystem resource."""
    return [FilesystemCollector(r.id, parse_options(FilesystemOptions, r)) for r in resources]
