"""Entry point: `.venv/bin/python bench/slurm.py [--nodes N] [--jobs M] [--repeat K] [--profile]`.

The Slurm collector at scale. A synthetic cluster (10,000 nodes, 100,000 jobs by
default) is written in the exact format of the recorded 22.05 outputs
(`tests/data/slurm/22.05/`): their records are the templates (squeue's rows have the
recording's fields), scaled up with a realistic mix of node states, drain reasons,
pending reasons, reservations, partitions and QoS.
The texts are replayed through the collector's own seam (`CliBackend`'s runner),
so a cycle is the real one minus the subprocesses: render, failure check, parse,
observations, metric families, and their record for the next scrape. The same
run times the real commands on the test cluster (`scripts/slurm-cluster`), one by
one as the collector runs them and as one whole cycle. Target (collectors issue):
parsing and publishing a 10,000-node cycle in under 2 s and 300 MB.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# `python bench/slurm.py` puts bench/ first on the path, where bench/profile.py hides the
# standard library's `profile` that cProfile imports: the repository goes there instead.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

import cProfile  # noqa: E402
import pstats  # noqa: E402

from prometheus_client import CollectorRegistry, generate_latest  # noqa: E402

from bench import table  # noqa: E402
from collectors.metrics import CycleMetrics  # noqa: E402
from collectors.runner import run_once  # noqa: E402
from collectors.slurm import parse, render  # noqa: E402
from collectors.slurm.backend import CliBackend  # noqa: E402
from collectors.slurm.collector import SlurmCollector, build  # noqa: E402
from collectors.slurm.render import Kind  # noqa: E402
from collectors.slurm.run import Completed, run  # noqa: E402
from facility.config import parse_facility  # noqa: E402
from facility.model import Observation  # noqa: E402

RECORDED = ROOT / "tests" / "data" / "slurm" / "22.05"
SLURM_CONF = Path(os.environ.get("FACSTAT_SLURM_DIR", "/var/lib/facstat-slurm")) / "etc/slurm.conf"
TARGET_S, TARGET_MB, TARGET_NODES = 2.0, 300.0, 10_000
FILES: dict[Kind, str] = {  # kind -> recorded file; the order is the collector's
    "diag": "sdiag",
    "nodes": "sinfo.json",
    "partitions": "scontrol-partition",
    "jobs": "squeue",
    "reservations": "scontrol-reservation",
    "qos": "sacctmgr-qos",
}
PARSERS: dict[Kind, Callable[[str], object]] = {
    "diag": parse.parse_sdiag,
    "nodes": parse.parse_sinfo_json,
    "partitions": parse.parse_partitions,
    "jobs": parse.parse_squeue,
    "reservations": lambda text: parse.parse_reservations(text, UTC),
    "qos": parse.parse_qos,
}


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def recorded(scenario: str, name: str) -> str:
    return (RECORDED / scenario / f"{name}.out").read_text()


# --- the synthetic cluster ----------------------------------------------------------------

# Node mix: (weight, sinfo `state`, `state_flags`, drained reasons or None).
DRAIN_REASONS = ("NHC: gpu", "bad DIMM", "Kill task failed", "NHC: ib0 link down", "epilog error")
NODE_MIX: tuple[tuple[float, str, list[str], tuple[str, ...] | None], ...] = (
    (0.55, "allocated", [], None),
    (0.17, "mixed", [], None),
    (0.13, "idle", [], None),
    (0.04, "idle", ["DRAIN"], DRAIN_REASONS),
    (0.015, "mixed", ["DRAIN"], DRAIN_REASONS),
    (0.012, "down", [], ("PSU failure", "swapped board, burn-in pending")),
    (0.008, "down", ["NOT_RESPONDING"], ("Not responding",)),
    (0.02, "idle", ["POWERED_DOWN"], None),
    (0.005, "idle", ["REBOOT_ISSUED"], None),
)
PARTITIONS = {"batch": 0.55, "gpu": 0.25, "interactive": 0.12, "debug": 0.08}
QOS = {"normal": (10, 0.7), "high": (50, 0.1), "low": (1, 0.1), "urgent": (100, 0.05)}
QOS |= {"debug": (20, 0.04), "standby": (0, 0.01)}
PENDING_REASONS = {"Priority": 0.5, "Resources": 0.1, "Dependency": 0.1, "JobHeldUser": 0.04}
# squeue prints slurmctld's description instead of the code when there is one
PENDING_REASONS |= {"Nodes required for job are DOWN, DRAINED or reserved for jobs in higher "
                    "priority partitions": 0.05}  # fmt: skip
PENDING_REASONS |= {"QOSMaxJobsPerUserLimit": 0.05, "AssocGrpCpuLimit": 0.03, "BeginTime": 0.03}
PENDING_REASONS |= {"ReqNodeNotAvail, UnavailableNodes:": 0.05, "JobArrayTaskLimit": 0.02}
PENDING_REASONS |= {"ReqNodeNotAvail, Reserved for maintenance": 0.03}
FINISHED = ("COMPLETED", "CANCELLED", "FAILED", "TIMEOUT")


@dataclass(frozen=True)
class Layout:
    """Which nodes are where, as ranges of node indices (1-based): the last fifth are GPU
    nodes, a hundredth is in the active MAINT reservation, a fiftieth in a user one."""

    nodes: int

    @property
    def gpu_from(self) -> int:
        return self.nodes - self.nodes // 5 + 1

    @property
    def maint(self) -> range:
        return range(self.nodes // 3, self.nodes // 3 + max(1, self.nodes // 100))

    @property
    def beamtime(self) -> range:
        return range(self.nodes // 2, self.nodes // 2 + max(1, self.nodes // 50))

    def partitions(self) -> dict[str, tuple[int, int]]:
        cpu_end, n = self.gpu_from - 1, self.nodes
        inter = max(1, n // 40)
        return {
            "batch": (1, cpu_end),
            "gpu": (self.gpu_from, n),
            "interactive": (cpu_end - inter + 1, cpu_end),
            "debug": (1, max(1, n // 160)),
        }

    def of(self, i: int) -> list[str]:
        return [p for p, (lo, hi) in self.partitions().items() if lo <= i <= hi]


def name(i: int) -> str:
    return f"nid{i:05d}"


def hostlist(lo: int, hi: int) -> str:
    return name(lo) if lo == hi else f"nid[{lo:05d}-{hi:05d}]"


def slurm_json(doc: dict[str, Any]) -> str:
    """Slurm 22.05's layout: two-space indent, `/` escaped."""
    return json.dumps(doc, indent=2).replace("/", "\\/")


def sinfo_json(lay: Layout, rng: random.Random, now: int) -> tuple[str, list[dict[str, Any]]]:
    doc = json.loads(recorded("jobs", "sinfo.json"))
    gpu_tpl = next(n for n in doc["nodes"] if n["gres"])  # the recording's GPU and CPU nodes
    cpu_tpl = next(n for n in doc["nodes"] if not n["gres"])
    weights = [w for w, *_ in NODE_MIX]
    parts: dict[tuple[str, ...], list[str]] = {}
    nodes = []
    for i in range(1, lay.nodes + 1):
        gpu = i >= lay.gpu_from
        r = dict(gpu_tpl if gpu else cpu_tpl, name=name(i), hostname=name(i), port=6818)
        state, flags, reasons = rng.choices(NODE_MIX, weights)[0][1:]
        if i in lay.maint:
            state, flags, reasons = "idle", ["MAINTENANCE", "RESERVED"], None
        elif i in lay.beamtime:
            state, flags, reasons = "idle", ["RESERVED"], None
        member = lay.of(i)
        r["partitions"] = parts.setdefault(tuple(member), member)
        nodes.append(_node(r, gpu, state, flags, reasons, rng, now))
    doc["nodes"] = nodes
    return slurm_json(doc), nodes


def _node(
    r: dict[str, Any],
    gpu: bool,
    state: str,
    flags: list[str],
    reasons: tuple[str, ...] | None,
    rng: random.Random,
    now: int,
) -> dict[str, Any]:
    cpus, mem, gpus = (64, 256_000, 4) if gpu else (128, 512_000, 0)
    busy = {"allocated": 1.0, "mixed": rng.uniform(0.2, 0.9)}.get(state, 0.0)
    alloc, galloc = round(cpus * busy), round(gpus * busy)
    r |= {"state": state, "state_flags": flags, "cpus": cpus, "sockets": 2, "cores": cpus // 2}
    r |= {"real_memory": mem, "alloc_cpus": alloc, "idle_cpus": cpus - alloc}
    r |= {"alloc_memory": round(mem * busy), "free_memory": mem - round(mem * busy)}
    r["gres"] = f"gpu:a100:{gpus}(S:0-1)" if gpu else ""
    r["gres_used"] = f"gpu:a100:{galloc}(IDX:0-{galloc - 1})" if galloc else "gpu:0"
    r["tres"] = f"cpu={cpus},mem={mem}M,billing={cpus}" + (f",gres/gpu={gpus}" if gpu else "")
    why = rng.choice(reasons) if reasons else ""
    if why == "bad DIMM":
        why = f"bad DIMM, ticket {rng.randrange(4000, 4100)}"
    r["reason"] = why
    r["reason_changed_at"] = now - rng.randrange(60, 30 * 86400) if why else 0
    r["reason_set_by_user"] = ("slurm" if why == "Not responding" else "root") if why else None
    return r


def squeue_text(
    lay: Layout, nodes: list[dict[str, Any]], jobs: int, rng: random.Random, now: int
) -> str:
    """`squeue -O` rows in the recording's layout: `render.JOB_FIELDS`, `|` after each
    but the name, epoch times, N/A where Slurm has none."""
    recorded_fields = recorded("jobs", "squeue").splitlines()[0].split("|")
    assert len(recorded_fields) == len(render.JOB_FIELDS), "the recording's fields changed"
    rows = list(_running(nodes, jobs, rng, now))
    finished_n = jobs // 20
    for k in range(jobs - len(rows) - finished_n):
        rows.append(_pending(lay, rng, now, array=k % 40 == 0))
    rows += [_finished(rng, now) for _ in range(finished_n)]
    return "".join(_line(job_id, r) for job_id, r in enumerate(rows, start=1_000_000))


def _line(job_id: int, row: dict[str, object]) -> str:
    row = {"JobID": job_id, **row}
    return "|".join(str(row.get(f, "N/A")) for f in render.JOB_FIELDS) + "\n"


def _common(part: str, rng: random.Random, now: int) -> dict[str, Any]:
    qos = "debug" if part == "debug" else rng.choices(list(QOS), [w for _, w in QOS.values()])[0]
    submit = now - rng.randrange(60, 3 * 86400)
    name = rng.choice(("sim", "analysis", "recon", "train", "xfer", "postproc"))
    limit = rng.choice((30, 60, 240, 720, 1440)) * 60
    return {"Partition": part, "QOS": qos, "Reason": "None", "SubmitTime": submit,
            "EligibleTime": submit, "Name": name, "limit": limit}  # fmt: skip


def _running(
    nodes: list[dict[str, Any]], jobs: int, rng: random.Random, now: int
) -> Iterator[dict[str, Any]]:
    """Running jobs that use exactly the allocated CPUs of the nodes (≤ 40 % of `jobs`)."""
    budget = jobs * 2 // 5
    for n in nodes:
        left = n["alloc_cpus"]
        while left > 0 and budget > 0:
            cores = left if n["state"] == "allocated" else min(left, rng.choice((1, 4, 8, 16)))
            left, budget = left - cores, budget - 1
            part = n["partitions"][0] if len(n["partitions"]) == 1 else rng.choice(n["partitions"])
            j = _common(part, rng, now)
            start = min(j["SubmitTime"] + rng.randrange(0, 7200), now - 1)
            yield j | {"State": "RUNNING", "StartTime": start, "EndTime": start + j["limit"]}


def _pending(lay: Layout, rng: random.Random, now: int, array: bool) -> dict[str, Any]:
    part = rng.choices(list(PARTITIONS), list(PARTITIONS.values()))[0]
    j = _common(part, rng, now)
    reason = rng.choices(list(PENDING_REASONS), list(PENDING_REASONS.values()))[0]
    if reason.endswith(":"):
        lo = rng.randrange(1, lay.nodes - 3)
        reason += hostlist(lo, lo + 3)
    eligible = now + 3600 if reason == "BeginTime" else j["SubmitTime"]
    j |= {"State": "PENDING", "Reason": reason, "EligibleTime": eligible}
    j |= {"StartTime": now + 600, "EndTime": now + 600 + j["limit"]}  # squeue's estimate
    if array:
        j["ArrayTaskID"] = f"1-{rng.choice((4, 10, 50))}%{rng.choice((5, 20))}"
    return j


def _finished(rng: random.Random, now: int) -> dict[str, Any]:
    part = rng.choices(list(PARTITIONS), list(PARTITIONS.values()))[0]
    j = _common(part, rng, now)
    end = now - rng.randrange(1, 300)
    return j | {"State": rng.choice(FINISHED), "StartTime": end - 600, "EndTime": end}


def set_key(line: str, key: str, value: object) -> str:
    """`scontrol -o`'s `Key=value` replaced in one record."""
    return re.sub(rf"(^| ){re.escape(key)}=\S*", lambda m: f"{m[1]}{key}={value}", line, count=1)


def partitions_text(lay: Layout) -> str:
    batch = recorded("drained", "scontrol-partition").splitlines()[0]
    lines = []
    for part, (lo, hi) in lay.partitions().items():
        n = hi - lo + 1
        cpus = n * (64 if part == "gpu" else 128)
        line = batch
        for key, value in {
            "PartitionName": part, "Default": "YES" if part == "batch" else "NO",
            "Nodes": hostlist(lo, hi), "TotalCPUs": cpus, "TotalNodes": n,
            "MaxTime": "UNLIMITED" if part in ("batch", "gpu") else "04:00:00",
            "TRES": f"cpu={cpus},mem={n * 512000}M,node={n},billing={cpus}",
        }.items():  # fmt: skip
            line = set_key(line, key, value)
        lines.append(line)
    return "\n".join(lines) + "\n"


def reservations_text(lay: Layout, now: int) -> str:
    tpl = recorded("drained", "scontrol-reservation").splitlines()[0]

    def at(offset: int) -> str:
        return datetime.fromtimestamp(now + offset, UTC).strftime("%Y-%m-%dT%H:%M:%S")

    rows = (
        ("maint_now", lay.maint, "MAINT,IGNORE_JOBS,SPEC_NODES", "ACTIVE", -600),
        ("beamtime", lay.beamtime, "IGNORE_JOBS,SPEC_NODES", "ACTIVE", -3600),
        ("maint_next", range(1, lay.nodes + 1), "MAINT,IGNORE_JOBS,ALL_NODES", "INACTIVE", 86400),
        ("training", range(1, 33), "SPEC_NODES", "INACTIVE", 7200),
    )
    lines = []
    for rname, nodes, flags, state, start in rows:
        line = tpl
        for key, value in {
            "ReservationName": rname, "StartTime": at(start), "EndTime": at(start + 7200),
            "Duration": "02:00:00", "Nodes": hostlist(nodes[0], nodes[-1]),
            "NodeCnt": len(nodes), "CoreCnt": 128 * len(nodes), "Flags": flags,
            "TRES": f"cpu={128 * len(nodes)}", "State": state,
        }.items():  # fmt: skip
            line = set_key(line, key, value)
        lines.append(line)
    return "\n".join(lines) + "\n"


def sdiag_text(jobs: int) -> str:
    """The recorded report with its counters scaled to a day of a busy cluster."""
    factor = max(1, jobs // 20)
    scale = lambda m: f"{m[1]}{int(m[2]) * factor}"  # noqa: E731
    text = re.sub(
        r"(Jobs \w+:\s+|count:|Total cycles:\s+)(\d+)", scale, recorded("drained", "sdiag")
    )
    return re.sub(r"((?:Last|Max|Mean) cycle:\s+)(\d+)", lambda m: f"{m[1]}{int(m[2]) * 400}", text)


def qos_text() -> str:
    header, normal, _ = recorded("drained", "sacctmgr-qos").split("\n", 2)
    cols = header.split("|")
    rows = [header]
    for q, (prio, _) in QOS.items():
        row = dict(zip(cols, normal.split("|"), strict=True)) | {"Name": q, "Priority": str(prio)}
        if q == "urgent":
            row |= {"Preempt": "normal,low,standby", "PreemptMode": "requeue"}
        if q == "debug":
            row["MaxWall"] = "00:30:00"
        rows.append("|".join(row[c] for c in cols))
    return "\n".join(rows) + "\n"


def write_cluster(out: Path, nodes: int, jobs: int, now: int, seed: int = 2026) -> None:
    """Every command's text for a cluster of `nodes` and `jobs`, as `<file>.out` in `out`."""
    rng, lay = random.Random(seed), Layout(nodes)
    sinfo, node_records = sinfo_json(lay, rng, now)
    texts = {
        "sdiag": sdiag_text(jobs),
        "sinfo.json": sinfo,
        "scontrol-partition": partitions_text(lay),
        "squeue": squeue_text(lay, node_records, jobs, rng, now),
        "scontrol-reservation": reservations_text(lay, now),
        "sacctmgr-qos": qos_text(),
    }
    for file, text in texts.items():
        (out / f"{file}.out").write_text(text)


# --- the collector on replayed and on real output -----------------------------------------

KIND_OF = {tuple(render.argv(k)): k for k in FILES}


@dataclass
class Replay:
    """A `CliBackend` runner: each command answered with its stored text, at once."""

    texts: Mapping[str, str]

    def __call__(
        self, argv: Sequence[str], timeout: float, env: Mapping[str, str] | None
    ) -> Completed:
        return Completed(tuple(argv), 0, self.texts[FILES[KIND_OF[tuple(argv)]]], "")


@dataclass
class Timed:
    """A `CliBackend` runner: the real `run`, each call timed."""

    calls: list[tuple[Kind, float, int]] = field(default_factory=list)

    def __call__(
        self, argv: Sequence[str], timeout: float, env: Mapping[str, str] | None
    ) -> Completed:
        t0 = time.perf_counter()
        done = run(argv, timeout, env)
        self.calls.append((KIND_OF[tuple(argv)], time.perf_counter() - t0, len(done.stdout)))
        return done


def facility_yaml(cluster: str, partitions: Sequence[str], slurm_conf: Path | None) -> str:
    conf = f', slurm_conf: "{slurm_conf}"' if slurm_conf else ""
    opts = f"cluster: {cluster}{conf}"
    lines = [
        "facility: {id: bench, name: Bench, timezone: UTC}",
        f"systems: [{{id: {cluster}, name: {cluster}}}]",
        "resources:",
        f"  - {{id: {cluster}-slurmctld, name: Scheduler, type: 'urn:facstat:scheduler',"
        f" system: {cluster}, collector: {{kind: slurm, options: {{{opts}}}}}}}",
        f"  - {{id: {cluster}, name: Compute, type: 'compute:system', system: {cluster},"
        f" collector: {{kind: slurm, options: {{cluster: {cluster}}}}}}}",
    ]
    lines += [
        f"  - {{id: {cluster}-{p}, name: {p}, type: 'urn:facstat:partition', system: {cluster},"
        f" collector: {{kind: slurm, options: {{cluster: {cluster}, partition: {p}}}}}}}"
        for p in partitions
    ]
    return "\n".join(lines) + "\n"


def collector(
    cluster: str, partitions: Sequence[str], runner: Any, slurm_conf: Path | None = None
) -> SlurmCollector:
    """The cluster's collector as `build` makes it, its commands run by `runner`."""
    config = parse_facility(facility_yaml(cluster, partitions, slurm_conf), "bench")
    (c,) = build(config, [r for r in config.resources if r.collector])
    assert isinstance(c, SlurmCollector)
    c.backend = CliBackend(
        slurm_conf=str(slurm_conf) if slurm_conf else None, tz=UTC, runner=runner
    )
    return c


@dataclass
class Publisher:
    """One collector's cycles as the server runs them: `run_once` into `CycleMetrics`, and
    the scrape of `/metrics` (`generate_latest` over a registry holding them)."""

    c: SlurmCollector
    metrics: CycleMetrics = field(default_factory=CycleMetrics)
    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1))

    def __post_init__(self) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(self.metrics)

    def cycle(self) -> list[Observation]:
        observations = run_once(self.c, datetime.now(UTC), self.pool, self.metrics)
        failed = [r.message for o in observations for r in o.reasons if "collector" in r.code]
        failed += [f"{o.resource_id}: {o.state}" for o in observations if o.state == "unknown"]
        assert not failed, f"the cycle failed: {failed}"
        return observations

    def scrape(self) -> int:
        return len(generate_latest(self.registry))


# --- measuring ----------------------------------------------------------------------------


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return 0


def _reset_hwm() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current VmRSS
    except OSError:
        return False
    return True


@dataclass
class Figure:
    what: str
    seconds: list[float]
    traced_mb: float  # tracemalloc peak of a separate traced run
    rss_mb: float | None  # VmHWM rise over the first untraced run (None: cannot reset HWM)
    input_mb: float = 0.0


def _untraced(step: Callable[[], object]) -> tuple[float, float | None]:
    """Seconds of one run, and the peak RSS rise over it (None: VmHWM cannot be reset)."""
    gc.collect()
    reset, rss0 = _reset_hwm(), _status_kb("VmRSS")
    t0 = time.perf_counter()
    step()
    seconds = time.perf_counter() - t0
    return seconds, (_status_kb("VmHWM") - rss0) / 1024 if reset else None


def measure(what: str, step: Callable[[], object], repeat: int, input_mb: float = 0.0) -> Figure:
    """`repeat` untraced runs (the first also gives the peak RSS rise), then one traced run."""
    first, rss = _untraced(step)
    seconds = [first, *(_untraced(step)[0] for _ in range(repeat - 1))]
    gc.collect()
    tracemalloc.start()
    step()
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return Figure(what, seconds, traced, rss, input_mb)


def per_command(texts: Mapping[str, str], repeat: int) -> list[Figure]:
    """Each parser alone on its text (what the cycle spends per command)."""
    out = []
    for kind, file in FILES.items():
        text, parser = texts[file], PARSERS[kind]
        out.append(measure(kind, lambda: parser(text), repeat, len(text) / 2**20))  # noqa: B023
    return out


def cluster_running() -> bool:
    script = str(ROOT / "scripts" / "slurm-cluster")
    if subprocess.run([script, "status"], capture_output=True, timeout=60).returncode == 0:
        return True
    log("starting the test cluster: scripts/slurm-cluster start")
    done = subprocess.run([script, "start"], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        log(f"cannot start the test cluster: {done.stdout}{done.stderr}")
    return done.returncode == 0


@dataclass
class Real:
    """The real collector's cycles on the test cluster: whole cycles and each command."""

    cycles: list[float]
    calls: list[tuple[Kind, float, int]]

    def command_s(self, kind: Kind) -> float:
        return statistics.median(s for k, s, _ in self.calls if k == kind)

    def command_kb(self, kind: Kind) -> float:
        return max(n for k, _, n in self.calls if k == kind) / 1024

    def commands_s(self) -> float:
        return sum(self.command_s(k) for k in FILES)


def real_cycles(repeat: int) -> Real | None:
    log("real cycles on the test cluster")
    if not cluster_running():
        return None
    timed = Timed()
    pub = Publisher(collector("facstat", ("batch", "interactive"), timed, SLURM_CONF))
    pub.cycle()  # warm: imports, first connection to munge
    timed.calls.clear()
    cycles = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        pub.cycle()
        cycles.append(time.perf_counter() - t0)
    return Real(cycles, timed.calls)


def generate(nodes: int, jobs: int, tmp: Path) -> tuple[dict[str, str], float]:
    """The cluster's texts, written by a child process (its garbage stays out of our RSS)."""
    t0 = time.perf_counter()
    child = multiprocessing.get_context("fork").Process(
        target=write_cluster, args=(tmp, nodes, jobs, int(time.time()))
    )
    child.start()
    child.join()
    assert child.exitcode == 0, f"generating the cluster failed (exit {child.exitcode})"
    texts = {file: (tmp / f"{file}.out").read_text() for file in FILES.values()}
    return texts, time.perf_counter() - t0


def hotspots(c: SlurmCollector, top: int = 12) -> str:
    """One replayed `collect` under cProfile (in this thread): own and inclusive time."""
    prof = cProfile.Profile()
    prof.enable()
    c.collect(datetime.now(UTC))
    prof.disable()
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    total = sum(tt for _, _, tt, _, _ in stats.values())

    def row(key: tuple[str, int, str], v: tuple[Any, ...]) -> list[str]:
        where = re.sub(rf"^{re.escape(str(ROOT))}/|^.*/lib/python3[.\d]*/", "", key[0])
        func = f"{key[2]} ({where}:{key[1]})" if key[1] else key[2]
        return [f"{v[2]:.2f}", f"{v[2] / total:.0%}", f"{v[3]:.2f}", f"{v[1]:,}", func]

    head = ["own s", "own %", "incl s", "calls", "function (file:line)"]
    own = sorted(stats.items(), key=lambda kv: -kv[1][2])[:top]
    ours = [kv for kv in stats.items() if kv[0][0].startswith(str(ROOT / "collectors"))]
    incl = sorted(ours, key=lambda kv: -kv[1][3])[:top]
    return (
        f"HOT SPOTS (cProfile, one replayed collect, {total:.2f} s profiled)\n"
        + table._table(head, [row(k, v) for k, v in own])
        + "\n\ninclusive, collectors/ only\n"
        + table._table(head, [row(k, v) for k, v in incl])
    )


# --- the report ---------------------------------------------------------------------------


def _s(xs: Sequence[float]) -> str:
    return f"{min(xs):.3f} / {statistics.median(xs):.3f}"


def _cycle_verdict(f: Figure, judged: bool) -> tuple[str, str]:
    if not judged:
        return "(info)", ""
    misses = [w for w, bad in (("time", statistics.median(f.seconds) > TARGET_S),) if bad]
    misses += ["memory"] if f.input_mb + f.traced_mb > TARGET_MB else []
    verdict = f"MISS ({', '.join(misses)})" if misses else "PASS"
    return f"<{TARGET_S:g} s, <{TARGET_MB:g} MB", verdict


def _mb(x: float | None) -> str:
    return "?" if x is None else f"{x:,.1f}"


def _command(kind: Kind) -> str:
    """The command, a long list of fields shortened: `--Format=JobID:|,…,Name:`."""
    words = []
    for word in render.argv(kind):
        key, eq, value = word.partition("=")
        items = value.split(",")
        words.append(f"{key}={items[0]},…,{items[-1]}" if eq and len(items) > 3 else word)
    return " ".join(words)


def commands_table(figs: Sequence[Figure], real: Real | None) -> str:
    head = ["command", "text MB", "parse s best/median", "traced peak MB", "RSS rise MB"]
    head += ["real s (4 nodes)", "real KB"]
    rows = []
    for f in figs:
        kind: Kind = f.what  # type: ignore[assignment]
        cells = [_command(kind), f"{f.input_mb:,.2f}", _s(f.seconds)]
        cells += [_mb(f.traced_mb), _mb(f.rss_mb)]
        cells += (
            [f"{real.command_s(kind):.3f}", f"{real.command_kb(kind):,.1f}"] if real else ["-"] * 2
        )
        rows.append(cells)
    return table._table(head, rows)


def cycle_table(cycle: Figure, scrape: Figure, real: Real | None, judged: bool) -> str:
    head = ["step", "s best/median", "input MB", "traced peak MB", "RSS rise MB", "input+peak MB"]
    head += ["target", "verdict"]
    rows = []
    for f, what, (target, verdict) in (
        (cycle, "replayed cycle: parse + observations + families", _cycle_verdict(cycle, judged)),
        (scrape, "scrape: /metrics exposition of that cycle", ("(info)", "")),
    ):
        cells = [what, _s(f.seconds), f"{f.input_mb:,.1f}", _mb(f.traced_mb), _mb(f.rss_mb)]
        rows.append([*cells, f"{f.input_mb + f.traced_mb:,.1f}", target, verdict])
    if real:
        rows.append(
            ["real cycle, test cluster (4 nodes)", _s(real.cycles), *["-"] * 4, "(info)", ""]
        )
    return table._table(head, rows)


def overhead(cycle: Figure, real: Real | None) -> str:
    if real is None:
        return "real cluster: not measured (--no-real, or scripts/slurm-cluster could not start)"
    whole, cmds = statistics.median(real.cycles), real.commands_s()
    own = max(whole - cmds, 0.0)
    replay = statistics.median(cycle.seconds)
    return (
        f"real cycle (4 nodes): {whole:.3f} s = commands {cmds:.3f} s + collector {own:.3f} s"
        f" → collector own share {own / whole:.1%}\n"
        f"replayed cycle (this cluster): collector {replay:.3f} s"
        f" = {replay / cmds:.1f} × the commands' time on the 4-node cluster"
    )


def seen(observations: Sequence[Observation]) -> str:
    """What the collector reported for the synthetic cluster, one line per resource."""
    lines = []
    for o in observations:
        v = o.values
        jobs = f"jobs {v['jobs_running']:,.0f} running, {v['jobs_pending']:,.0f} pending"
        nodes = (
            f"nodes {v['nodes_usable']:,.0f}/{v['nodes_total']:,.0f} usable, " if o.capacity else ""
        )
        cap = "" if o.capacity is None else f"{o.capacity:.1%}"
        why = o.reasons[0].message[:80] + "…" if o.reasons else ""
        lines.append(f"  {o.resource_id:<18} {o.state:<9} {cap:<6} {nodes}{jobs}  {why}")
    return "\n".join(lines)


def _header(args: argparse.Namespace, gen_s: float) -> str:
    rev = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True
    ).stdout.strip()
    return (
        f"facstat slurm bench @ {rev or '?'} ({ROOT})  python {platform.python_version()}"
        f"  cpus={os.cpu_count()}  load {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n"
        f"synthetic cluster: {args.nodes:,} nodes, {args.jobs:,} jobs, partitions "
        f"{', '.join(PARTITIONS)}, QoS {', '.join(QOS)}; generated in {gen_s:.1f} s; "
        f"{args.repeat} runs per figure"
    )


LEGEND = """\
s best/median: wall time of the untraced runs. traced peak: tracemalloc peak of one more run
(allocations made by the step; the input texts were already in memory). RSS rise: VmHWM
after the first run minus VmRSS before it (HWM reset through /proc/self/clear_refs).
input+peak: what the cycle needs with its input; a real run also holds the command's bytes
while they are decoded (about +1x the text). The replay runner hands CliBackend the texts
(render, failure check, parse, status, metrics and CycleMetrics.record run for real)."""


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--nodes", type=int, default=TARGET_NODES, help="nodes of the cluster")
    p.add_argument("--jobs", type=int, default=100_000, help="jobs in squeue")
    p.add_argument("--repeat", type=int, default=3, help="untraced runs per figure")
    p.add_argument("--no-real", action="store_true", help="skip the real test cluster")
    p.add_argument("--profile", action="store_true", help="print hot spots even on PASS")
    args = p.parse_args(argv)
    if args.nodes < 64 or args.jobs < 100 or args.repeat < 1:
        p.error("need --nodes ≥ 64, --jobs ≥ 100, --repeat ≥ 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    log(f"generating {args.nodes:,} nodes and {args.jobs:,} jobs")
    with tempfile.TemporaryDirectory(prefix="facstat-bench-slurm-") as tmp:
        texts, gen_s = generate(args.nodes, args.jobs, Path(tmp))
    pub = Publisher(collector("bench", list(PARTITIONS), Replay(texts)))
    observations = pub.cycle()
    log("parsers one by one")
    commands = per_command(texts, args.repeat)
    log("whole cycles and scrapes")
    input_mb = sum(len(t) for t in texts.values()) / 2**20
    cycle = measure("cycle", pub.cycle, args.repeat, input_mb)
    scrape = measure("scrape", pub.scrape, args.repeat)
    real = None if args.no_real else real_cycles(args.repeat)
    cycles = cycle_table(cycle, scrape, real, args.nodes >= TARGET_NODES)
    print(_header(args, gen_s), "", "WHAT THE COLLECTOR SAW", seen(observations), sep="\n")
    print("", "PER COMMAND", commands_table(commands, real), sep="\n")
    print("", "CYCLE", cycles, "", overhead(cycle, real), "", LEGEND, sep="\n")
    print("", table.tally(cycles))
    if "MISS" in cycles or args.profile:
        log("profiling one replayed cycle")
        print("", hotspots(pub.c), sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
