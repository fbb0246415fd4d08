"""Recorded Slurm 22.05 outputs (tests/data/slurm/22.05), a facility with one cluster,
and the real single-host test cluster (scripts/slurm-cluster) for the live tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from collectors.base import Cycle
from collectors.metrics import CycleMetrics
from collectors.slurm.backend import CliBackend
from collectors.slurm.collector import SlurmCollector, build
from collectors.slurm.render import COMMANDS
from collectors.slurm.run import Completed
from facility.config import FacilityConfig, parse_facility

ROOT = Path(__file__).resolve().parents[3]
RECORDED = ROOT / "tests" / "data" / "slurm" / "22.05"
SCENARIOS = ("idle", "jobs", "drained", "down", "controller-down", "slurmdbd-down")
SLURM_DIR = Path(os.environ.get("FACSTAT_SLURM_DIR", "/var/lib/facstat-slurm"))
SLURM_CONF = SLURM_DIR / "etc" / "slurm.conf"
# recorded file name -> the command (what render.py asks for, and two second sources)
FILES = {
    "sdiag": ("sdiag",),
    "sinfo.json": ("sinfo", "--json"),
    "squeue": COMMANDS["jobs"],
    "squeue.json": ("squeue", "--json"),
    "scontrol-partition": ("scontrol", "--all", "-o", "show", "partition"),
    "scontrol-node": ("scontrol", "-o", "show", "node"),
    "scontrol-reservation": ("scontrol", "-o", "show", "reservation"),
    "sacctmgr-qos": ("sacctmgr", "-P", "show", "qos"),
}

FACILITY = f"""
facility: {{id: testfac, name: Test Facility, timezone: UTC}}
defaults: {{thresholds: {{degraded_below: 0.9, down_below: 0.1}}}}
systems:
  - {{id: facstat, name: facstat test cluster}}
resources:
  - id: facstat-slurmctld
    name: Scheduler
    type: urn:facstat:scheduler
    system: facstat
    collector: {{kind: slurm, options: {{cluster: facstat, slurm_conf: "{SLURM_CONF}"}}}}
  - id: facstat-batch
    name: Batch partition
    type: urn:facstat:partition
    system: facstat
    collector: {{kind: slurm, options: {{cluster: facstat, partition: batch}}}}
  - id: facstat-interactive
    name: Interactive partition
    type: urn:facstat:partition
    system: facstat
    thresholds: {{degraded_below: 0.75, down_below: 0.1}}
    collector: {{kind: slurm, options: {{cluster: facstat, partition: interactive}}}}
  - id: facstat
    name: Compute system
    type: compute:system
    system: facstat
    collector: {{kind: slurm, options: {{cluster: facstat}}}}
"""


def recorded(scenario: str, name: str, suffix: str = "out") -> str:
    path = RECORDED / scenario / f"{name}.{suffix}"
    return path.read_text() if path.exists() else ""


def exit_code(scenario: str, name: str) -> int:
    return int(recorded(scenario, name, "rc") or 0)


class Replay:
    """A `CliBackend` runner that answers each command with what the real cluster printed
    in one recorded scenario, and remembers the commands it was asked to run."""

    def __init__(self, scenario: str) -> None:
        self.scenario = scenario
        self.calls: list[tuple[str, ...]] = []

    def __call__(
        self, argv: Sequence[str], timeout: float, env: Mapping[str, str] | None
    ) -> Completed:
        self.calls.append(tuple(argv))
        name = next(n for n, words in FILES.items() if tuple(argv) == words)
        s = self.scenario
        return Completed(
            tuple(argv), exit_code(s, name), recorded(s, name), recorded(s, name, "err")
        )


@pytest.fixture(scope="session")
def facility() -> FacilityConfig:
    return parse_facility(FACILITY, "slurm-test-facility")


def replay_collector(config: FacilityConfig, scenario: str) -> tuple[SlurmCollector, Replay]:
    (collector,) = build(config, [r for r in config.resources if r.collector])
    assert isinstance(collector, SlurmCollector)
    replay = Replay(scenario)
    collector.backend = CliBackend(runner=replay)
    return collector, replay


def exposition(cycle: Cycle, now: datetime) -> str:
    """The cycle's families as a scrape shows them (with the runner's self-metrics)."""
    metrics = CycleMetrics()
    metrics.record("slurm-facstat", "slurm", 0.1, True, now.timestamp(), cycle.metrics)
    registry = CollectorRegistry()
    registry.register(metrics)
    return generate_latest(registry).decode()


def slurm(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """A Slurm command against the test cluster."""
    env = {**os.environ, "SLURM_CONF": str(SLURM_CONF)}
    return subprocess.run(argv, env=env, capture_output=True, text=True, check=check, timeout=60)


def cluster_script(action: str) -> str:
    done = subprocess.run(
        [str(ROOT / "scripts" / "slurm-cluster"), action],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[Path]:
    """The real test cluster, started (or found running) once per session."""
    cluster_script("start")
    yield SLURM_CONF
