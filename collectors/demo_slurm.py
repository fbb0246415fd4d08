"""The demo's Slurm clusters, as Slurm 22.05's commands print them.

`DemoSlurm` is a `CliBackend` runner (the seam the collector tests use to replay
`tests/data/slurm/22.05/`): it answers `sdiag`, `sinfo --json`, `squeue -O` (the
fields of `collectors.slurm.render.JOB_FIELDS`), `scontrol --all -o show partition`,
`scontrol -o show reservation` and `sacctmgr -P show qos` with text in the format of
those recordings, generated from the scenario's clock. Everything after the command
(parsing, states, capacity, reasons, `facstat_slurm_*` families) is the real Slurm
collector's.

Clusters: `borealis` (400 GPU nodes bor0001–bor0400: batch 368, interactive 24 with an
active beamtime reservation, debug 8) and `tern` (16 nodes, batch). Any other cluster
gets 16 nodes per partition its resources name. Jobs run in lanes of nodes that turn
over every 30 min to 4 h; a few jobs pend (Resources, Priority, a hold, an array).
From 0:30 to 3:00 of every cycle 44 batch nodes of borealis are drained for 'bad DIMM'
and 16 for 'NHC: gpu' (still draining), ramping up over 90 s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

from collectors.base import Collector
from collectors.demo_timeline import CYCLE, DRAIN_RAMP, DRAIN_WAVE, SLURM_INTERVAL, Timeline, wobble
from collectors.slurm.backend import CliBackend
from collectors.slurm.collector import SlurmCollector, build
from collectors.slurm.render import COMMANDS, Kind
from collectors.slurm.run import Completed
from facility.config import FacilityConfig, Resource

# --- the clusters --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartitionShape:
    name: str
    nodes: int
    busy: float = 0.87  # share of the nodes that running jobs hold
    max_time: str = "UNLIMITED"
    priority_tier: int = 1
    qos: str = "normal"


@dataclass(frozen=True, slots=True)
class ClusterShape:
    prefix: str
    digits: int
    cpus: int
    memory_mb: int
    gpus: int
    partitions: tuple[PartitionShape, ...]
    os: str = "Linux 5.14.0-362.8.1.el9_3.x86_64 #1 SMP PREEMPT_DYNAMIC Tue Nov 7 14:54:22 EST 2023"
    features: str = ""
    reservation: tuple[str, str, int] | None = None  # name, partition, last nodes reserved
    drain_wave: str | None = None  # the partition the scenario drains


CLUSTERS: dict[str, ClusterShape] = {
    "borealis": ClusterShape(
        prefix="bor",
        digits=4,
        cpus=64,
        memory_mb=512000,
        gpus=4,
        partitions=(
            PartitionShape("batch", 368, max_time="2-00:00:00"),
            PartitionShape("interactive", 24, 0.6, "04:00:00", priority_tier=10, qos="urgent"),
            PartitionShape("debug", 8, 0.5, "01:00:00", priority_tier=5, qos="debug"),
        ),
        features="gpu,nvme",
        reservation=("xpcs-beamtime", "interactive", 8),
        drain_wave="batch",
    ),
    "tern": ClusterShape(
        prefix="tern",
        digits=2,
        cpus=32,
        memory_mb=256000,
        gpus=2,
        partitions=(PartitionShape("batch", 16, 0.7, "1-00:00:00"),),
        os="Linux 6.6.15-2.el9.x86_64 #1 SMP PREEMPT_DYNAMIC Mon Feb 12 10:13:28 UTC 2024",
        features="gpu",
    ),
}

WAVE = {"bad DIMM": 44, "NHC: gpu": 16}
LANE_SIZES = (32, 16, 64, 8, 4, 16, 2, 1, 8, 1, 4, 2, 1, 32, 1)
ACCOUNTS = ("lightsource", "fusion", "climate", "materials")
NAMES = ("xpcs-corr", "tomo-recon", "efit", "gyro-sim", "md-run", "cfd-les", "qmc", "train")
MIN_JOB_AGE = 300  # seconds a finished job stays in squeue


def shape_for(cluster: str, partitions: Iterable[str | None]) -> ClusterShape:
    """The cluster as the demo knows it, or 16 nodes per partition its resources name."""
    if cluster in CLUSTERS:
        return CLUSTERS[cluster]
    names = sorted({p for p in partitions if p}) or ["batch"]
    prefix = "".join(ch for ch in cluster.lower() if ch.isalnum())[:8] or "node"
    return ClusterShape(prefix, 3, 32, 192000, 0, tuple(PartitionShape(n, 16) for n in names))


def hostlist(prefix: str, digits: int, lo: int, hi: int) -> str:
    """`bor[0001-0368]` (Slurm's compressed form of a contiguous range)."""
    if lo == hi:
        return f"{prefix}{lo:0{digits}d}"
    return f"{prefix}[{lo:0{digits}d}-{hi:0{digits}d}]"


def lanes(n: int, busy: float) -> list[int]:
    """Node counts of the running jobs of a partition of `n` nodes."""
    target, out = round(n * busy), list[int]()
    sizes = [s for s in LANE_SIZES if s <= max(1, n // 4)]
    while sum(out) < target:
        out.append(min(sizes[len(out) % len(sizes)], target - sum(out)))
    return out


# --- one moment of a cluster ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Job:
    job_id: int
    partition: str
    qos: str
    state: str
    reason: str
    submit: int
    eligible: int
    start: int
    end: int
    nodes: tuple[int, ...] = ()
    node_count: int = 1
    tasks: str = ""  # array spec of a pending array record
    lane: int = 0
    flags: tuple[str, ...] = ()


def pending(
    job_id: int,
    partition: str,
    qos: str,
    reason: str,
    eligible: int,
    nodes: int = 1,
    tasks: str = "",
    lane: int = 0,
    submit: int | None = None,
) -> Job:
    submitted = eligible if submit is None else submit
    return Job(job_id, partition, qos, "PENDING", reason, submitted, eligible, 0, 0, (), nodes,
               tasks, lane)  # fmt: skip


@dataclass
class Node:
    index: int
    partition: str
    state: str = "idle"
    flags: list[str] = field(default_factory=list)
    cpus_alloc: int = 0
    memory_alloc: int = 0
    gpus_alloc: int = 0
    reason: str = ""
    reason_at: int = 0
    busy_since: int = 0


@dataclass
class Moment:
    now: int
    nodes: list[Node]
    jobs: list[Job]
    since: int  # when slurmctld last reset its statistics: midnight
    started_since_reset: int
    drained: int


class SimulatedCluster:
    """Nodes, jobs and the controller's statistics of one cluster, as a function of time."""

    def __init__(self, name: str, shape: ClusterShape, timeline: Timeline) -> None:
        self.name, self.shape, self.timeline = name, shape, timeline
        self.t0 = int(timeline.start.timestamp())
        self.ranges: dict[str, tuple[int, int]] = {}
        first = 1
        for p in shape.partitions:
            self.ranges[p.name] = (first, first + p.nodes - 1)
            first += p.nodes
        self.total = first - 1
        self.lanes: list[tuple[str, int, int]] = []  # partition, first node, node count
        for p in shape.partitions:
            lo = self.ranges[p.name][0]
            for size in lanes(p.nodes, p.busy):
                self.lanes.append((p.name, lo, size))
                lo += size
        self.wave = self._wave_nodes()
        self._memo: tuple[int, Moment] | None = None
        self._texts: dict[str, dict[int, tuple[str, Raw]]] = {}

    def name_of(self, index: int) -> str:
        return f"{self.shape.prefix}{index:0{self.shape.digits}d}"

    def hostlist(self, lo: int, hi: int) -> str:
        return hostlist(self.shape.prefix, self.shape.digits, lo, hi)

    def partition_of(self, name: str) -> PartitionShape:
        return next(p for p in self.shape.partitions if p.name == name)

    def _wave_nodes(self) -> dict[str, list[int]]:
        """The nodes the drain wave takes, per reason, in the order they drain."""
        if self.shape.drain_wave is None:
            return {}
        lo, hi = self.ranges[self.shape.drain_wave]
        dimm = [lo + 4 + 8 * k for k in range(WAVE["bad DIMM"])]
        gpu = [lo + 1 + 8 * k for k in range(0, 3 * WAVE["NHC: gpu"], 3)]
        assert max(dimm + gpu) <= hi and not set(dimm) & set(gpu)
        return {
            "bad DIMM": [dimm[(k * 17) % len(dimm)] for k in range(len(dimm))],
            "NHC: gpu": [gpu[(k * 5) % len(gpu)] for k in range(len(gpu))],
        }

    def serialized(self, kind: str, records: Iterable[tuple[int, dict[str, Any]]]) -> list[Raw]:
        """The records of a `--json` list as Slurm prints them, each re-serialized only
        when it changed since the last answer (most nodes do not, between two cycles)."""
        old, new = self._texts.get(kind, {}), {}
        for slot, record in records:
            key, hit = repr(record), old.get(slot)
            new[slot] = hit if hit and hit[0] == key else (key, Raw(slurm_json(record, 2)))
        self._texts[kind] = new
        return [text for _, text in new.values()]

    def moment(self, now: datetime) -> Moment:
        key = int(now.timestamp())
        if self._memo is None or self._memo[0] != key:
            self._memo = (key, self._moment(now))
        return self._memo[1]

    # --- jobs --------------------------------------------------------------------------

    def _lane_timing(self, j: int) -> tuple[int, int]:
        duration = 1800 + (j * 733) % 12600
        return duration, (j * 1237) % duration

    def _generation(self, j: int, at: int) -> int:
        duration, offset = self._lane_timing(j)
        return (at - self.t0 + offset) // duration

    def _lane_jobs(self, now: int) -> list[Job]:
        """Each lane's running job, and its previous one while squeue still lists it."""
        out = []
        for j, (part, lo, size) in enumerate(self.lanes):
            duration, offset = self._lane_timing(j)
            g = self._generation(j, now)
            for gen, state in ((g - 1, "COMPLETED"), (g, "RUNNING")):
                start = self.t0 - offset + gen * duration
                if state == "COMPLETED" and now - (start + duration) > MIN_JOB_AGE:
                    continue
                submit = start - 20 - (j * 97 + gen * 13) % 900
                qos = self.partition_of(part).qos if (j + gen) % 3 else "normal"
                job = Job(1_000_000 + gen * 500 + j, part, qos, state, "None", submit, submit,
                          start, start + duration, tuple(range(lo, lo + size)), size, lane=j + gen,
                          flags=("JOB_ACCRUE_OVER", "JOB_WAS_RUNNING"))  # fmt: skip
                out.append(job)
        return out

    def _pending_jobs(self, when: datetime, drained: int) -> list[Job]:
        """A few jobs waiting per partition (their ages saw-tooth as they start), a held
        job, an array, and during the drain wave the jobs its nodes would have run."""
        now, out = int(when.timestamp()), []
        for pi, p in enumerate(self.shape.partitions):
            waiting = max(1, round(sum(ln[0] == p.name for ln in self.lanes) / 6))
            for k in range(waiting):
                g, age = divmod(now - self.t0 + k * 421 + pi * 97, 2400 + 300 * k)
                size = max(1, min(p.nodes // 3, LANE_SIZES[(k + pi) % len(LANE_SIZES)]))
                reason = "Resources" if k % 2 == 0 else "Priority"
                job_id = 5_000_000 + g * 100 + pi * 20 + k
                out.append(pending(job_id, p.name, p.qos, reason, now - age - 60, size, lane=k))
        batch = self.shape.partitions[0].name
        out.append(pending(4_000_000, batch, "normal", "JobHeldUser", 0, submit=self.t0 - 86400))
        g, age = divmod(now - self.t0 + 2000, 5400)
        out.append(pending(4_000_001 + g, batch, "normal", "Resources", now - age, tasks="1-40%8"))
        cycle_no = int(self.timeline.elapsed(when) // CYCLE)
        wave_start = int(self.timeline.cycle_start(when) + DRAIN_WAVE[0])
        for k in range(drained // 8):
            job_id = 7_000_000 + cycle_no * 20 + k
            out.append(pending(job_id, batch, "normal", "Resources", wave_start, 16, lane=k))
        return out

    # --- nodes -------------------------------------------------------------------------

    def _moment(self, when: datetime) -> Moment:
        now = int(when.timestamp())
        s = self.shape
        nodes = {
            i: Node(i, part) for part, (lo, hi) in self.ranges.items() for i in range(lo, hi + 1)
        }
        lane_jobs = self._lane_jobs(now)
        for job in lane_jobs:
            if job.state != "RUNNING":
                continue
            for i in job.nodes:
                n = nodes[i]
                whole = job.node_count > 1 or job.job_id % 2 == 0
                n.state = "allocated" if whole else "mixed"
                n.cpus_alloc = s.cpus if whole else s.cpus // 2
                n.memory_alloc = int(s.memory_mb * (0.8 if whole else 0.35))
                n.gpus_alloc = s.gpus if whole else s.gpus // 2
                n.busy_since = job.start
        if s.reservation is not None:
            _, part, count = s.reservation
            hi = self.ranges[part][1]
            for i in range(hi - count + 1, hi + 1):
                if nodes[i].state == "idle":
                    nodes[i].flags.append("RESERVED")
        drained = self._drain(nodes, when)
        waiting = self._pending_jobs(when, drained)
        since = now - now % 86400
        started = sum(
            self._generation(j, now) - self._generation(j, since) for j in range(len(self.lanes))
        )
        return Moment(now, list(nodes.values()), lane_jobs + waiting, since, started, drained)

    def _drain(self, nodes: dict[int, Node], when: datetime) -> int:
        """Apply the drain wave; the number of nodes it drains now."""
        t = self.timeline.phase(when)
        if not self.wave or not DRAIN_WAVE[0] <= t < DRAIN_WAVE[1]:
            return 0
        cycle_start = self.timeline.cycle_start(when)
        drained = 0
        for reason, members in self.wave.items():
            for k, i in enumerate(members):
                at = DRAIN_WAVE[0] + DRAIN_RAMP * (k + 0.5) / len(members)
                if t < at:
                    break
                n = nodes[i]
                n.flags.append("DRAIN")
                n.reason, n.reason_at = reason, int(cycle_start + at)
                if reason == "bad DIMM":  # drained once its job ended
                    n.state, n.cpus_alloc, n.memory_alloc, n.gpus_alloc = "idle", 0, 0, 0
                drained += 1
        return drained


# --- the commands' output ---------------------------------------------------------------------

QOS_HEADER = (
    "Name|Priority|GraceTime|Preempt|PreemptExemptTime|PreemptMode|Flags|UsageThres|UsageFactor|"
    "GrpTRES|GrpTRESMins|GrpTRESRunMins|GrpJobs|GrpSubmit|GrpWall|MaxTRES|MaxTRESPerNode|"
    "MaxTRESMins|MaxWall|MaxTRESPU|MaxJobsPU|MaxSubmitPU|MaxTRESPA|MaxJobsPA|MaxSubmitPA|MinTRES"
)  # the header line as sacctmgr prints it
META = {
    "plugin": {"type": "openapi/v0.0.38", "name": "Slurm OpenAPI v0.0.38"},
    "Slurm": {"version": {"major": 22, "micro": 8, "minor": 5}, "release": "22.05.8"},
}


class Raw(str):
    """Text already serialized by `slurm_json`, at the level it is put in."""


def slurm_json(value: Any, level: int = 0) -> str:
    """JSON as Slurm 22.05's `--json` prints it: two-space indent, empty lists on two
    lines, `/` escaped."""
    if isinstance(value, Raw):
        return value
    if isinstance(value, dict | list | tuple):
        pad, inner = "  " * level, "  " * (level + 1)
        if isinstance(value, dict):
            items = (f"{inner}{_str(k)}: {slurm_json(v, level + 1)}" for k, v in value.items())
            opening, closing = "{", "}"
        else:
            items = (inner + slurm_json(v, level + 1) for v in value)
            opening, closing = "[", "]"
        body = ",\n".join(items)
        return f"{opening}\n{body}\n{pad}{closing}" if body else f"{opening}\n{pad}{closing}"
    if isinstance(value, str):
        return _str(value)
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    return repr(value)  # int, float: what json.dumps prints for finite numbers


def _str(text: str) -> str:
    return encode_basestring_ascii(text).replace("/", "\\/")


def ctime(epoch: int) -> str:
    """`Sat Nov 21 12:44:12 2026`, as sdiag prints times."""
    t = datetime.fromtimestamp(epoch, UTC)
    return f"{t:%a %b} {t.day:2d} {t:%H:%M:%S %Y}"


def scontrol_time(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def duration(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hms = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days}-{hms}" if days else hms


class Output:
    """What each command prints for one moment of a cluster."""

    def __init__(self, c: SimulatedCluster, m: Moment) -> None:
        self.c, self.m, self.s = c, m, c.shape

    def sinfo(self) -> str:
        nodes = self.c.serialized("nodes", ((n.index, self._node(n)) for n in self.m.nodes))
        doc = {"meta": META, "errors": [], "nodes": nodes}
        return slurm_json(doc)

    def _node(self, n: Node) -> dict[str, Any]:
        s, now, name = self.s, self.m.now, self.c.name_of(n.index)
        gres = f"gpu:{s.gpus}" if s.gpus else ""
        tres = f"cpu={s.cpus},mem={s.memory_mb}M,billing={s.cpus}"
        used = f"cpu={n.cpus_alloc},mem={n.memory_alloc}M" if n.cpus_alloc else None
        if used and n.gpus_alloc:
            used += f",gres/gpu={n.gpus_alloc}"
        noise = wobble(name, now)
        load = n.cpus_alloc * 96 + int(noise * 300) if n.cpus_alloc else int(noise * 20)
        boot = self.c.t0 - 9 * 86400 - n.index * 37
        return {
            "architecture": "x86_64",
            "burstbuffer_network_address": "",
            "boards": 1,
            "boot_time": boot,
            "comment": "",
            "cores": s.cpus // 2,
            "cpu_binding": 0,
            "cpu_load": load,
            "extra": "",
            "free_memory": int((s.memory_mb - n.memory_alloc) * (0.9 + 0.05 * noise)),
            "cpus": s.cpus,
            "last_busy": now - now % 30 if n.cpus_alloc else max(boot, n.busy_since),
            "features": s.features,
            "active_features": s.features,
            "gres": gres,
            "gres_drained": "N/A",
            "gres_used": f"gpu:{n.gpus_alloc}",
            "mcs_label": "",
            "name": name,
            "next_state_after_reboot": "invalid",
            "address": name,
            "hostname": name,
            "state": n.state,
            "state_flags": n.flags,
            "next_state_after_reboot_flags": [],
            "operating_system": s.os,
            "owner": None,
            "partitions": [n.partition],
            "port": 6818,
            "real_memory": s.memory_mb,
            "reason": n.reason,
            "reason_changed_at": n.reason_at,
            "reason_set_by_user": "root" if n.reason else None,
            "slurmd_start_time": boot + 95,
            "sockets": 2,
            "threads": 1,
            "temporary_disk": 0,
            "weight": 1,
            "tres": tres + (f",gres/gpu={s.gpus}" if s.gpus else ""),
            "slurmd_version": "22.05.8",
            "alloc_memory": n.memory_alloc,
            "alloc_cpus": n.cpus_alloc,
            "idle_cpus": s.cpus - n.cpus_alloc,
            "tres_used": used,
            "tres_weighted": float(n.cpus_alloc),
        }

    def squeue(self) -> str:
        """`squeue -O` rows of `render.JOB_FIELDS`, epoch times, N/A where there is none."""
        return "".join(self._job(j) for j in self.m.jobs)

    def _job(self, j: Job) -> str:
        times = [str(t) if t > 0 else "N/A" for t in (j.submit, j.eligible, j.start, j.end)]
        fields = [str(j.job_id), j.partition, j.qos, j.state, j.reason, *times]
        fields += [j.tasks or "N/A", NAMES[j.lane % len(NAMES)]]
        return "|".join(fields) + "\n"

    def partitions(self) -> str:
        lines = []
        for i, p in enumerate(self.s.partitions):
            lo, hi = self.c.ranges[p.name]
            n, s = p.nodes, self.s
            tres = f"cpu={n * s.cpus},mem={n * s.memory_mb}M,node={n},billing={n * s.cpus}"
            tres += f",gres/gpu={n * s.gpus}" if s.gpus else ""
            lines.append(
                f"PartitionName={p.name} AllowGroups=ALL AllowAccounts=ALL AllowQos=ALL "
                f"AllocNodes=ALL Default={'YES' if i == 0 else 'NO'} QoS=N/A DefaultTime=NONE "
                "DisableRootJobs=NO ExclusiveUser=NO GraceTime=0 Hidden=NO MaxNodes=UNLIMITED "
                f"MaxTime={p.max_time} MinNodes=0 LLN=NO MaxCPUsPerNode=UNLIMITED "
                f"Nodes={self.c.hostlist(lo, hi)} PriorityJobFactor=1 "
                f"PriorityTier={p.priority_tier} RootOnly=NO ReqResv=NO OverSubscribe=NO "
                "OverTimeLimit=NONE PreemptMode=REQUEUE State=UP "
                f"TotalCPUs={n * s.cpus} TotalNodes={n} SelectTypeParameters=NONE "
                "JobDefaults=(null) DefMemPerNode=UNLIMITED MaxMemPerNode=UNLIMITED "
                f"TRES={tres}"
            )
        return "\n".join(lines) + "\n"

    def reservations(self) -> str:
        s, c = self.s, self.c
        if s.reservation is None:
            return "No reservations in the system\n"
        name, part, count = s.reservation
        hi = c.ranges[part][1]
        start, end = c.t0 - 2 * 3600, c.t0 + 3 * 86400
        maint = (c.t0 // 86400 + 21) * 86400 + 8 * 3600
        rows = [
            (name, start, end, c.hostlist(hi - count + 1, hi), count, part, "IGNORE_JOBS,SPEC_NODES",
             "ACTIVE", f"Users=(null) Groups=(null) Accounts={ACCOUNTS[0]}"),
            ("quarterly-maint", maint, maint + 12 * 3600, c.hostlist(1, c.total), c.total, "(null)",
             "MAINT,IGNORE_JOBS,SPEC_NODES,ALL_NODES", "INACTIVE",
             "Users=root Groups=(null) Accounts=(null)"),
        ]  # fmt: skip
        return "".join(
            f"ReservationName={n} StartTime={scontrol_time(a)} EndTime={scontrol_time(b)} "
            f"Duration={duration(b - a)} Nodes={nodes} NodeCnt={k} CoreCnt={k * s.cpus} "
            f"Features=(null) PartitionName={p} Flags={flags} TRES=cpu={k * s.cpus} {who} "
            f"Licenses=(null) State={state} BurstBuffer=(null) Watts=n/a MaxStartDelay=(null)\n"
            for n, a, b, nodes, k, p, flags, state, who in rows
        )

    def qos(self) -> str:
        header = QOS_HEADER.split("|")
        rows: Sequence[Mapping[str, str]] = (
            {"Name": "normal", "Priority": "10", "PreemptMode": "cluster"},
            {"Name": "urgent", "Priority": "100", "Preempt": "normal", "PreemptMode": "requeue",
             "MaxWall": "04:00:00", "MaxJobsPU": "4"},
            {"Name": "debug", "Priority": "50", "PreemptMode": "cluster", "MaxWall": "01:00:00",
             "MaxJobsPU": "2", "MaxTRESPU": "node=4"},
        )  # fmt: skip
        defaults = {"GraceTime": "00:00:00", "UsageFactor": "1.000000"}
        lines = ["|".join(header)]
        lines += ["|".join({**defaults, **row}.get(h, "") for h in header) for row in rows]
        return "\n".join(lines) + "\n"

    def sdiag(self) -> str:
        c, m = self.c, self.m
        now, since, up = m.now, m.since, m.now - m.since
        running = sum(j.state == "RUNNING" for j in m.jobs)
        pending = sum(j.state == "PENDING" for j in m.jobs)
        started = m.started_since_reset
        canceled, failed = started // 9, started // 23
        completed = max(0, started - failed - 8)  # never decreasing, like the counter
        submitted = started + canceled + 30 + up // 900
        noise = wobble(c.name + "-sdiag", now, 5)
        main_last = int(1800 + 40 * c.total**0.5 + 2500 * noise)
        bf_last = int(3000 * c.total * (1 + 0.6 * noise) + 4000 * m.drained)
        main_cycles, bf_cycles = up // 3 + 5, up // 30 + 1
        depth = running + pending
        rpcs = {
            "REQUEST_JOB_INFO": (2003, up * 1.4, 410),
            "REQUEST_PARTITION_INFO": (2009, up * 0.9, 240),
            "REQUEST_NODE_INFO": (2007, up * 0.9, 35 * c.total // 4 + 200),
            "REQUEST_STATS_INFO": (2035, up * 0.25, 310),
            "REQUEST_FED_INFO": (2049, up * 0.3, 190),
            "REQUEST_RESERVATION_INFO": (2024, up * 0.2, 220),
            "MESSAGE_NODE_REGISTRATION_STATUS": (1002, c.total * (up // 300 + 1), 820),
            "REQUEST_PING": (1008, c.total * (up // 100 + 1) // 10, 180),
            "REQUEST_SUBMIT_BATCH_JOB": (4003, submitted, 1900),
            "REQUEST_COMPLETE_BATCH_SCRIPT": (5018, completed, 950),
            "MESSAGE_EPILOG_COMPLETE": (6012, completed, 190),
            "REQUEST_KILL_JOB": (5032, canceled, 2500),
            "REQUEST_UPDATE_NODE": (3002, 2 * sum(len(v) for v in c.wave.values()) * (up // 360), 380),
            "ACCOUNTING_REGISTER_CTLD": (10003, 1, 87736),
        }  # fmt: skip
        ordered = sorted(
            ((int(n), t, name, ave) for name, (t, n, ave) in rpcs.items()), reverse=True
        )
        rpc_lines = [
            f"\t{name:<40}({t:5d}) count:{n:<6d} ave_time:{ave:<6d} total_time:{n * ave}"
            for n, t, name, ave in ordered
            if n
        ]
        total_rpcs = sum(n for n, *_ in ordered)
        return "\n".join(
            [
                "*******************************************************",
                f"sdiag output at {ctime(now)} ({now})",
                f"Data since      {ctime(since)} ({since})",
                "*******************************************************",
                f"Server thread count:  {3 + int(5 * noise)}",
                "Agent queue size:     0",
                "Agent count:          0",
                "Agent thread count:   0",
                "DBD Agent queue size: 0",
                "",
                f"Jobs submitted: {submitted}",
                f"Jobs started:   {started}",
                f"Jobs completed: {completed}",
                f"Jobs canceled:  {canceled}",
                f"Jobs failed:    {failed}",
                "",
                f"Job states ts:  {ctime(now - 3)} ({now - 3})",
                f"Jobs pending:   {pending}",
                f"Jobs running:   {running}",
                "",
                "Main schedule statistics (microseconds):",
                f"\tLast cycle:   {main_last}",
                f"\tMax cycle:    {int(main_last * 2.7)}",
                f"\tTotal cycles: {main_cycles}",
                f"\tMean cycle:   {int(1800 + 40 * c.total**0.5 + 1250)}",
                f"\tMean depth cycle:  {min(depth, 100)}",
                "\tCycles per minute: 20",
                f"\tLast queue length: {pending}",
                "",
                "Backfilling stats",
                f"\tTotal backfilled jobs (since last slurm start): {started // 4}",
                f"\tTotal backfilled jobs (since last stats cycle start): {started // 4}",
                "\tTotal backfilled heterogeneous job components: 0",
                f"\tTotal cycles: {bf_cycles}",
                f"\tLast cycle when: {ctime(now - up % 30)} ({now - up % 30})",
                f"\tLast cycle: {bf_last}",
                f"\tMax cycle:  {int(bf_last * 1.9)}",
                f"\tMean cycle: {int(3000 * c.total * 1.3)}",
                f"\tLast depth cycle: {depth}",
                f"\tLast depth cycle (try sched): {pending}",
                f"\tDepth Mean: {depth}",
                f"\tDepth Mean (try depth): {pending}",
                f"\tLast queue length: {pending}",
                f"\tQueue length mean: {pending}",
                f"\tLast table size: {min(running, 40) + 2}",
                f"\tMean table size: {min(running, 40) + 2}",
                "",
                "Latency for 1000 calls to gettimeofday(): 24 microseconds",
                "",
                "Remote Procedure Call statistics by message type",
                *rpc_lines,
                "",
                "Remote Procedure Call statistics by user",
                f"\t{'root':<16}({0:8d}) count:{total_rpcs - 1:<6d} ave_time:{420:<6d} "
                f"total_time:{(total_rpcs - 1) * 420}",
                f"\t{'slurm':<16}({64030:8d}) count:{1:<6d} ave_time:{87736:<6d} total_time:87736",
                "",
                "Pending RPC statistics",
                "\tNo pending RPCs",
                "",
            ]
        )


# --- the runner the CLI backend calls -------------------------------------------------------


class DemoSlurm:
    """A `CliBackend` runner answering Slurm's commands for one simulated cluster."""

    def __init__(self, cluster: SimulatedCluster) -> None:
        self.cluster = cluster

    def __call__(
        self, argv: Sequence[str], timeout: float, env: Mapping[str, str] | None = None
    ) -> Completed:
        words = (Path(argv[0]).name, *argv[1:])
        kind = next((k for k, command in COMMANDS.items() if command == words), None)
        if kind is None:
            return Completed(tuple(argv), 127, "", f"cannot run: {argv[0]}: not simulated")
        out = Output(self.cluster, self.cluster.moment(self.cluster.timeline.now()))
        return Completed(tuple(argv), 0, self.print(out, kind), "")

    @staticmethod
    def print(out: Output, kind: Kind) -> str:
        match kind:
            case "diag":
                return out.sdiag()
            case "nodes":
                return out.sinfo()
            case "partitions":
                return out.partitions()
            case "jobs":
                return out.squeue()
            case "reservations":
                return out.reservations()
            case "qos":
                return out.qos()


def collectors(
    config: FacilityConfig, resources: list[Resource], timeline: Timeline
) -> list[Collector]:
    """The real Slurm collectors of these resources (one per cluster), reading the
    simulated clusters through the CLI backend."""
    out: list[Collector] = []
    for c in build(config, resources):
        assert isinstance(c, SlurmCollector)
        shape = shape_for(c.cluster, (t.partition for t in c.targets))
        c.backend = CliBackend(
            runner=DemoSlurm(SimulatedCluster(c.cluster, shape, timeline)), tz=UTC
        )
        c.interval = SLURM_INTERVAL
        out.append(c)
    return out
