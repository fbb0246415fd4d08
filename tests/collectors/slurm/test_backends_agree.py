"""Every backend reads the same cluster into the same observations and metric samples:
(a) each recorded scenario through the commands (replayed), slurmrestd (a real server on
a unix socket answering what the real slurmrestd answered at the same moment) and pyslurm
(`fake_pyslurm`, fed from that recording); (b) the live test cluster through the commands
and its slurmrestd, with a node drained.

Two things may differ, by design: sdiag's gauges (server threads, agent queues) move
between two reads a moment apart, and /diag, read right after sdiag, counts that sdiag's
REQUEST_STATS_INFO (test_restd checks both); and an error reason names the call that failed
(`sdiag: …`, `GET /slurm/v0.0.38/diag: …`, `pyslurm.slurmctld.diag(): …`) in Slurm's words
for that call, so for errors the code and the resource's context are compared.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from collectors.base import Cycle
from collectors.slurm import parse
from collectors.slurm.backend import BACKENDS, AutoBackend, Backend, CliBackend
from collectors.slurm.collector import SlurmCollector, build
from collectors.slurm.options import SlurmOptions
from collectors.slurm.pyslurm_backend import PyslurmBackend
from collectors.slurm.restd import RestdBackend
from facility.config import FacilityConfig
from facility.model import Observation, ProbeState
from tests.collectors.slurm.conftest import RECORDED, SCENARIOS, SLURM_DIR, Replay, slurm
from tests.collectors.slurm.fake_pyslurm import module
from tests.collectors.slurm.restd_server import serving
from tests.collectors.slurm.test_restd import taken_at

MOVING_VALUES = {"server_threads", "agent_queue_size", "dbd_agent_queue_size"}
MOVING_FAMILIES = {
    "facstat_slurm_server_threads",
    "facstat_slurm_agent_queue_requests",
    "facstat_slurm_dbd_agent_queue_messages",
}
DIAG_FAMILIES = MOVING_FAMILIES | {
    "facstat_slurm_rpcs_total",
    "facstat_slurm_scheduler_cycle_last_seconds",
    "facstat_slurm_scheduler_cycle_mean_seconds",
    "facstat_slurm_scheduler_cycles_total",
    "facstat_slurm_scheduler_jobs_total",
}
DIAG_VALUES = MOVING_VALUES | {
    "main_cycle_last_seconds",
    "main_cycle_mean_seconds",
    "backfill_cycle_last_seconds",
    "backfill_cycle_mean_seconds",
}
ERROR_CODES = {"slurmctld_unreachable", "slurmdbd_unreachable", "slurm_command_failed"}
REST_SOCKET = SLURM_DIR / "run" / "slurmrestd.socket"


def collector(facility: FacilityConfig, backend: Backend) -> SlurmCollector:
    (c,) = build(facility, [r for r in facility.resources if r.collector])
    assert isinstance(c, SlurmCollector)
    c.backend = backend
    return c


def observation(o: Observation, skip: set[str]) -> tuple[Any, ...]:
    reasons = tuple(
        (r.code, r.message.split(": ", 1)[0] if r.code in ERROR_CODES else r.message)
        for r in o.reasons
    )
    values = {k: v for k, v in o.values.items() if k not in skip}
    return (o.resource_id, o.state, o.capacity, values, reasons)


def samples(cycle: Cycle, skip: set[str]) -> dict[tuple[Any, ...], float]:
    return {
        (s.name, *sorted(s.labels.items())): s.value
        for fam in cycle.metrics
        for s in fam.samples
        if fam.name not in skip and s.name not in skip
        and s.labels.get("rpc") != "REQUEST_STATS_INFO"
    }  # fmt: skip


def view(cycle: Cycle, values: set[str], families: set[str]) -> tuple[Any, ...]:
    return ([observation(o, values) for o in cycle.observations], samples(cycle, families))


# --- (a) the recorded scenarios ---------------------------------------------------------


def cycles(facility: FacilityConfig, scenario: str, sock: str) -> dict[str, Cycle]:
    now = taken_at(scenario)
    rest = RestdBackend(socket=sock, clock=lambda: now)
    backends: dict[str, Backend] = {
        "cli": CliBackend(runner=Replay(scenario), tz=UTC),
        "slurmrestd": rest,
        "pyslurm": PyslurmBackend(module=lambda: module(RECORDED / scenario, now)),
    }
    out = {name: collector(facility, b).collect(now) for name, b in backends.items()}
    return out


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_backend_gives_the_same_observations_and_samples(
    facility: FacilityConfig, scenario: str, tmp_path: Path
) -> None:
    with serving(scenario, tmp_path / "restd.sock") as (_, sock):
        out = cycles(facility, scenario, sock)
    cli = view(out["cli"], MOVING_VALUES, MOVING_FAMILIES)
    for name in ("slurmrestd", "pyslurm"):
        assert view(out[name], MOVING_VALUES, MOVING_FAMILIES) == cli, name
    assert len(out["cli"].observations) == 4 and out["cli"].metrics


def test_when_slurmctld_is_gone_each_backend_names_its_own_failed_call(
    facility: FacilityConfig, tmp_path: Path
) -> None:
    with serving("controller-down", tmp_path / "restd.sock") as (_, sock):
        out = cycles(facility, "controller-down", sock)
    calls = {
        "cli": "sdiag: slurm_get_statistics: Unable to contact slurm controller",
        "slurmrestd": "GET /slurm/v0.0.38/diag: slurm_get_statistics: request failed",
        "pyslurm": "pyslurm.slurmctld.diag(): Unable to contact slurm controller",
    }
    for name, call in calls.items():
        for o in out[name].observations:
            assert o.state is ProbeState.UNKNOWN
            (reason,) = o.reasons
            assert reason.code == "slurmctld_unreachable"
            assert reason.message.startswith(f"cluster facstat: {call}"), (name, reason)


def test_when_slurmdbd_is_gone_each_backend_degrades_the_scheduler_alike(
    facility: FacilityConfig, tmp_path: Path
) -> None:
    with serving("slurmdbd-down", tmp_path / "restd.sock") as (_, sock):
        out = cycles(facility, "slurmdbd-down", sock)
    for name, cycle in out.items():
        scheduler = {o.resource_id: o for o in cycle.observations}["facstat-slurmctld"]
        assert scheduler.state is ProbeState.DEGRADED, name
        assert [r.code for r in scheduler.reasons] == ["slurmdbd_unreachable"]
        assert scheduler.reasons[0].message.startswith("accounting: ")


def test_the_backend_option_builds_each_backend() -> None:
    opts = SlurmOptions(cluster="facstat", backend="slurmrestd", restd_socket="/run/r.sock")
    built = {name: make(opts) for name, make in BACKENDS.items()}
    assert isinstance(built["cli"], CliBackend)
    assert isinstance(built["slurmrestd"], RestdBackend)
    assert isinstance(built["pyslurm"], PyslurmBackend)
    assert built["slurmrestd"].socket == "/run/r.sock"


def sinfo_printing(folder: Path, version: str) -> str:
    """A `sinfo` that only knows `--version`, in `folder` (the `bin_dir` option)."""
    program = folder / "sinfo"
    program.write_text(f"#!/bin/sh\necho 'slurm {version}'\n")
    program.chmod(0o755)
    return str(folder)


def test_auto_contacts_nothing_until_its_first_call(tmp_path: Path) -> None:
    opts = SlurmOptions(cluster="facstat", backend="auto", bin_dir=str(tmp_path / "none"))
    auto = BACKENDS["auto"](opts)
    assert isinstance(auto, AutoBackend) and auto.chosen is None


def test_auto_takes_pyslurm_when_it_imports_and_was_made_for_this_slurm(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bin_dir = sinfo_printing(tmp_path, "22.05.8")
    for version, chosen in [("25.11.0", CliBackend), ("22.5.3", PyslurmBackend)]:
        fake = module(RECORDED / "idle", taken_at("idle"), version)
        monkeypatch.setitem(sys.modules, "pyslurm", fake)
        auto = AutoBackend(SlurmOptions(cluster="facstat", backend="auto", bin_dir=bin_dir))
        assert isinstance(auto.backend(), chosen), version
    assert len(AutoBackend(SlurmOptions(cluster="x", bin_dir=bin_dir)).nodes()) == 4


def test_auto_takes_slurmrestd_when_pyslurm_is_missing_and_slurmrestd_answers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "pyslurm", None)
    bin_dir = sinfo_printing(tmp_path, "22.05.8")
    with serving("idle", tmp_path / "restd.sock") as (server, sock):
        opts = SlurmOptions(cluster="facstat", backend="auto", bin_dir=bin_dir, restd_socket=sock)
        auto = AutoBackend(opts)
        assert [p.name for p in auto.partitions()] == ["batch", "interactive"]
        assert isinstance(auto.chosen, RestdBackend)
    assert [p for p, _ in server.requests] == ["/slurm/v0.0.38/ping", "/slurm/v0.0.38/partitions"]
    gone = AutoBackend(opts.model_copy(update={"restd_socket": str(tmp_path / "gone.sock")}))
    assert isinstance(gone.backend(), CliBackend)


def test_the_slurmrestd_options_are_validated_and_the_token_kept_secret() -> None:
    opts = SlurmOptions(
        cluster="facstat", backend="slurmrestd", restd_url="https://slurm.example:6820",
        restd_user="facstat", restd_token="eyJ.secret.jwt",
    )  # fmt: skip
    assert "eyJ.secret.jwt" not in repr(opts) and "eyJ.secret.jwt" not in repr(
        BACKENDS["slurmrestd"](opts)
    )
    for bad in [{"restd_url": "slurm.example:6820"}, {"restd_version": "0.0.38"}]:
        with pytest.raises(ValueError, match="restd_"):
            SlurmOptions.model_validate({"cluster": "facstat", **bad})


# --- (b) the live test cluster ----------------------------------------------------------


def node2_state() -> str:
    return slurm("sinfo", "-h", "-n", "node2", "-o", "%T").stdout.split()[0]


@pytest.fixture
def node2_drained(slurm_cluster: Path) -> Iterator[None]:
    """node2 drained with a reason for the test, then resumed."""
    slurm("scontrol", "update", "nodename=node2", "state=drain", "reason=agree: bad fan")
    try:
        yield
    finally:
        slurm("scontrol", "update", "nodename=node2", "state=resume", check=False)
        deadline = time.monotonic() + 30
        while node2_state() != "idle" and time.monotonic() < deadline:
            time.sleep(0.5)


def live_views(facility: FacilityConfig) -> tuple[Any, Any, Cycle]:
    """One cycle through the commands and one through slurmrestd, a moment apart; jobs
    finished by earlier tests leave the queue (MinJobAge) at any moment, so a pair of
    reads that straddles such a moment is taken again (at most three times)."""
    (cli,) = build(facility, [r for r in facility.resources if r.collector])
    assert isinstance(cli, SlurmCollector) and isinstance(cli.backend, CliBackend)
    rest = collector(facility, RestdBackend(socket=str(REST_SOCKET)))
    for _ in range(3):
        now = datetime.now(UTC)
        by_cli, by_rest = cli.collect(now), rest.collect(now)
        a, b = view(by_cli, DIAG_VALUES, DIAG_FAMILIES), view(by_rest, DIAG_VALUES, DIAG_FAMILIES)
        if a == b:
            break
        time.sleep(1)
    return a, b, by_rest


@pytest.mark.usefixtures("node2_drained")
def test_live_the_commands_and_slurmrestd_agree_on_a_drained_node(
    facility: FacilityConfig,
) -> None:
    by_cli, by_rest, cycle = live_views(facility)
    assert by_rest[0] == by_cli[0]  # observations
    assert by_rest[1] == by_cli[1]  # metric samples
    batch = {o.resource_id: o for o in cycle.observations}["facstat-batch"]
    assert batch.state is ProbeState.DEGRADED and batch.capacity == 0.75
    assert batch.reasons[0].code == "nodes_drained"
    assert "'agree: bad fan'" in batch.reasons[0].message
    sdiag = parse.parse_sdiag(slurm("sdiag").stdout)
    diag = RestdBackend(socket=str(REST_SOCKET)).diag()
    assert diag.since == sdiag.since and sum(diag.rpcs.values()) >= sum(sdiag.rpcs.values())


@pytest.mark.parametrize("name", ["cli", "slurmrestd", "pyslurm", "auto"])
def test_every_backend_named_in_a_facility_file_builds_a_collector(name: str) -> None:
    from collectors.slurm import build
    from facility.config import parse_facility

    text = f"""
facility: {{id: f, name: F}}
systems: [{{id: s, name: S}}]
resources:
  - {{id: p, name: P, type: "urn:facstat:partition", system: s,
     collector: {{kind: slurm, options: {{cluster: c, partition: batch, backend: {name}, restd_socket: /nonexistent}}}}}}
"""
    config = parse_facility(text)
    (collector,) = build(config, list(config.resources))
    assert collector.kind == "slurm"
