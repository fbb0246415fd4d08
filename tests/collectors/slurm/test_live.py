"""The collector against the real single-host Slurm 22.05 cluster (scripts/slurm-cluster):
jobs really pend, nodes really drain and die, slurmctld really stops. Every test leaves
the cluster idle: no jobs, no reservations, every node resumed and every daemon running."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from collectors.base import Cycle
from collectors.slurm import parse
from collectors.slurm.collector import SlurmCollector, build
from facility.config import FacilityConfig
from facility.model import Observation, ProbeState
from tests.collectors.slurm.conftest import SLURM_DIR, cluster_script, exposition, slurm
from tests.conftest import assert_promtool_accepts

pytestmark = pytest.mark.usefixtures("slurm_cluster")
NODES = ("node1", "node2", "node3", "node4")


def wait_until(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def active_jobs(states: str = "PD,R,CG,S,CF") -> list[str]:
    return slurm("squeue", "-h", "-t", states, "-o", "%i").stdout.split()


def node_states() -> dict[str, str]:
    out = slurm("sinfo", "-h", "-N", "-p", "batch", "-o", "%N %T").stdout
    return dict(line.split() for line in out.splitlines())


def restore() -> None:
    """Back to an idle cluster: daemons up, jobs gone, reservations deleted, nodes resumed."""
    cluster_script("start")
    slurm("scancel", "--full", "-u", "root", check=False)
    for r in parse.parse_reservations(slurm("scontrol", "-o", "show", "reservation").stdout):
        slurm("scontrol", "delete", f"reservationname={r.name}")
    for name, state in node_states().items():
        if state != "idle":
            slurm("scontrol", "update", f"nodename={name}", "state=resume", check=False)
    wait_until("no jobs", lambda: not active_jobs())
    wait_until("idle nodes", lambda: set(node_states().values()) == {"idle"})


@pytest.fixture(autouse=True)
def clean_cluster() -> Iterator[None]:
    restore()
    yield
    restore()


@pytest.fixture
def collector(facility: FacilityConfig) -> SlurmCollector:
    (c,) = build(facility, [r for r in facility.resources if r.collector])
    assert isinstance(c, SlurmCollector)
    return c


def collect(c: SlurmCollector) -> tuple[Cycle, dict[str, Observation], str]:
    now = datetime.now(UTC)
    cycle = c.collect(now)
    text = exposition(cycle, now)
    assert_promtool_accepts(text)
    return cycle, {o.resource_id: o for o in cycle.observations}, text


def sample(text: str, name: str, **labels: str) -> list[float]:
    return [
        s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
        if s.name == name and labels.items() <= s.labels.items()
    ]


def submit(*args: str) -> str:
    out = slurm("sbatch", "--parsable", "-o", "/dev/null", "-t", "5", *args, "--wrap", "sleep 300")
    return out.stdout.strip()


def pidfile_kill(name: str) -> int:
    pid = int((SLURM_DIR / "run" / f"{name}.pid").read_text())
    os.kill(pid, signal.SIGTERM)
    return pid


def gone(pid: int) -> bool:
    """The process has exited (a zombie that no one reaped yet counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def test_the_idle_cluster_is_up_everywhere(collector: SlurmCollector) -> None:
    _, obs, text = collect(collector)
    assert {o.state for o in obs.values()} == {ProbeState.UP}
    assert obs["facstat-batch"].capacity == 1.0
    assert obs["facstat-slurmctld"].values["server_threads"] >= 1
    assert sample(text, "facstat_slurm_controller_up") == [1.0]
    assert sample(text, "facstat_slurm_nodes", state="idle") == [4.0]
    assert sample(text, "facstat_slurm_gpus", state="idle") == [4.0]


def test_more_jobs_than_nodes_pend_and_show_in_queue_depth_and_oldest_pending_age(
    collector: SlurmCollector,
) -> None:
    submit("-p", "batch", "-n", "1", "-H")  # held: pending, but not waiting on the system
    time.sleep(2)
    first = time.time()
    for _ in range(6):
        submit("-p", "batch", "-n", "4")
    submit("-p", "batch", "-n", "4", "--array=1-3")
    wait_until("four running jobs", lambda: len(active_jobs("R")) == 4)
    time.sleep(2)
    _, obs, text = collect(collector)
    pending = sum(sample(text, "facstat_slurm_jobs", partition="batch", state="pending"))
    assert pending == 2 + 3 + 1  # two jobs, three array tasks, the held job
    assert sample(text, "facstat_slurm_jobs", state="pending", reason_code="JobHeldUser") == [1.0]
    assert sum(sample(text, "facstat_slurm_jobs", partition="batch", state="running")) == 4
    (age,) = sample(text, "facstat_slurm_oldest_pending_job_age_seconds", partition="batch")
    assert 1 <= age <= time.time() - first + 1  # the held job, older, does not count
    assert obs["facstat-batch"].values["jobs_pending"] == 6
    assert obs["facstat-batch"].values["oldest_pending_age_seconds"] == age
    assert obs["facstat-batch"].state is ProbeState.UP  # busy is not degraded
    (started,) = sample(text, "facstat_slurm_recent_started_jobs", partition="batch")
    assert started >= 4  # and earlier tests' jobs, listed until MinJobAge
    assert sample(text, "facstat_slurm_nodes", state="allocated") == [4.0]


def test_a_drained_node_degrades_the_partition_with_its_reason_and_three_quarters_capacity(
    collector: SlurmCollector,
) -> None:
    slurm("scontrol", "update", "nodename=node2", "state=drain", "reason=bad DIMM")
    _, obs, text = collect(collector)
    batch = obs["facstat-batch"]
    assert batch.state is ProbeState.DEGRADED and batch.capacity == 0.75
    (reason,) = batch.reasons
    assert reason.code == "nodes_drained"
    assert reason.message.startswith("1 of 4 nodes drained: 1 'bad DIMM' since ")
    assert "(node2)" in reason.message
    assert obs["facstat-interactive"].state is ProbeState.UP  # node2 is not in it
    assert obs["facstat"].capacity == 0.75
    assert sample(text, "facstat_slurm_partition_nodes", partition="batch", state="drained") == [
        1.0
    ]


def test_a_maint_reservation_is_reported_with_its_flag_and_its_nodes_in_maintenance(
    collector: SlurmCollector,
) -> None:
    slurm(
        "scontrol", "create", "reservation", "reservationname=facstat_maint", "starttime=now",
        "duration=30", "nodes=node4", "flags=MAINT,IGNORE_JOBS", "users=root",
    )  # fmt: skip
    wait_until("node4 in maintenance", lambda: node_states()["node4"] == "maint", 30)
    cycle, obs, text = collect(collector)
    (fact,) = [f for f in cycle.reservations or () if f.name.startswith("facstat_maint")]
    assert fact.maintenance and fact.partial and fact.nodes == 1
    assert fact.name == "facstat_maint~partial" and "facstat-interactive" in fact.resources
    assert (fact.end - fact.start).total_seconds() == 30 * 60
    assert sample(text, "facstat_slurm_reservations", state="active", maint="true") == [1.0]
    assert sample(text, "facstat_slurm_reservation_nodes", state="active", maint="true") == [1.0]
    interactive = obs["facstat-interactive"]
    assert interactive.capacity == 0.5 and interactive.state is ProbeState.DEGRADED
    assert [r.message for r in interactive.reasons] == [
        "1 of 2 nodes in maintenance: 1 'reservation facstat_maint' (node4)"
    ]


def test_a_node_whose_slurmd_died_is_reported_down_after_the_slurmd_timeout(
    collector: SlurmCollector,
) -> None:
    pid = pidfile_kill("slurmd-node4")
    wait_until("slurmd of node4 to exit", lambda: gone(pid), 15)

    # SlurmdTimeout=10 plus a ping interval
    wait_until("node4 down", lambda: node_states()["node4"].startswith("down"), 60)
    _, obs, text = collect(collector)
    interactive = obs["facstat-interactive"]
    assert interactive.state is ProbeState.DEGRADED and interactive.capacity == 0.5
    (reason,) = interactive.reasons
    assert reason.code == "nodes_down"
    assert reason.message.startswith("1 of 2 nodes down: 1 'Not responding' since ")
    assert reason.message.endswith("(node4)")
    assert sample(text, "facstat_slurm_nodes", state="down") == [1.0]


def test_with_slurmctld_stopped_every_resource_is_unknown_with_slurmctld_unreachable(
    collector: SlurmCollector,
) -> None:
    pid = pidfile_kill("slurmctld")
    wait_until("slurmctld to exit", lambda: gone(pid), 30)
    _, obs, text = collect(collector)
    assert len(obs) == 4
    for o in obs.values():
        assert o.state is ProbeState.UNKNOWN, o
        assert [r.code for r in o.reasons] == ["slurmctld_unreachable"]
    assert sample(text, "facstat_slurm_controller_up") == [0.0]
    assert sample(text, "facstat_slurm_nodes") == []
    cluster_script("start")
    _, obs, _ = collect(collector)
    assert obs["facstat-slurmctld"].state is ProbeState.UP


def rpc_total() -> int:
    return sum(parse.parse_sdiag(slurm("sdiag").stdout).rpcs.values())


def test_one_collection_cycle_costs_slurmctld_seven_rpcs(collector: SlurmCollector) -> None:
    """sdiag before and after one cycle; the second sdiag's own request is counted once.
    squeue asks for the partitions too whenever it prints text (not for --json)."""
    before = rpc_total()
    collect(collector)
    after = rpc_total()
    per_cycle = after - before - 1
    print(f"RPCs per collection cycle: {per_cycle}")
    assert per_cycle == 7  # sdiag 1, sinfo 2 (nodes, partitions), scontrol 1+1, squeue 2
