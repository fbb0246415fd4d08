"""The collector on every recorded scenario: the CLI backend's commands answered with what
the real cluster printed. Observations per resource role, metric families, promtool."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from collectors.base import Cycle
from collectors.slurm import parse
from collectors.slurm.backend import CliBackend
from collectors.slurm.collector import SlurmCollector, build
from collectors.slurm.run import Completed
from facility.config import FacilityConfig, parse_facility
from facility.errors import ConfigError
from facility.model import Observation, ProbeState
from tests.collectors.slurm.conftest import (
    FACILITY,
    SCENARIOS,
    Replay,
    exposition,
    recorded,
    replay_collector,
)
from tests.conftest import assert_promtool_accepts

ALLOWED_LABELS = {"cluster", "partition", "state", "qos", "reason_code", "maint", "scheduler"}
ALLOWED_LABELS |= {"event", "rpc", "collector", "kind"}


def recorded_at(scenario: str) -> datetime:
    """A minute after the last job of the scenario was submitted."""
    jobs = parse.parse_squeue(recorded(scenario, "squeue"))
    return datetime.fromtimestamp(max(j.submit for j in jobs if j.submit) + 60, UTC)


def cycle(
    config: FacilityConfig, scenario: str, now: datetime | None = None
) -> tuple[Cycle, Replay]:
    collector, replay = replay_collector(config, scenario)
    return collector.collect(now or recorded_at("jobs")), replay


def by_id(observations: list[Observation]) -> dict[str, Observation]:
    return {o.resource_id: o for o in observations}


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted((k, v) for k, v in s.labels.items() if k != "cluster")): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
        if s.name == name
    }


def test_the_idle_cluster_reports_every_resource_up_at_full_capacity(
    facility: FacilityConfig,
) -> None:
    out, _ = cycle(facility, "idle")
    obs = by_id(out.observations)
    assert {o.state for o in obs.values()} == {ProbeState.UP}
    assert obs["facstat-batch"].capacity == 1.0 and obs["facstat"].capacity == 1.0
    assert obs["facstat-batch"].values["nodes_total"] == 4
    assert obs["facstat-interactive"].values["cpus_idle"] == 8
    assert obs["facstat-slurmctld"].values["server_threads"] >= 1


def test_one_cycle_makes_one_call_per_kind_of_data_sdiag_first(facility: FacilityConfig) -> None:
    _, replay = cycle(facility, "jobs")
    assert [c[0] for c in replay.calls] == [
        "sdiag", "sinfo", "scontrol", "squeue", "scontrol", "sacctmgr",
    ]  # fmt: skip
    assert len(set(replay.calls)) == 6


def test_drained_and_draining_nodes_degrade_the_partition_naming_their_reasons(
    facility: FacilityConfig,
) -> None:
    out, _ = cycle(facility, "drained")
    batch = by_id(out.observations)["facstat-batch"]
    assert batch.state is ProbeState.DEGRADED and batch.capacity == 0.25
    drained = {r.code: r.message for r in batch.reasons}["nodes_drained"]
    assert drained.startswith("2 of 4 nodes drained: ")
    assert "1 'bad DIMM' since 2026-" in drained and "(node2)" in drained
    assert "1 'NHC: gpu' (still draining)" in drained
    maint = {r.code: r.message for r in batch.reasons}["nodes_maint"]
    assert maint == "1 of 4 nodes in maintenance: 1 'reservation maint_now' (node3)"
    assert batch.values["nodes_drained"] == 1 and batch.values["nodes_draining"] == 1


def test_a_partition_above_its_degraded_threshold_stays_up_but_names_its_lost_nodes() -> None:
    lenient = FACILITY.replace("degraded_below: 0.75", "degraded_below: 0.5")
    out, _ = cycle(parse_facility(lenient), "drained")
    interactive = by_id(out.observations)["facstat-interactive"]
    assert interactive.state is ProbeState.UP and interactive.capacity == 0.5
    assert [r.code for r in interactive.reasons] == ["nodes_maint"]


def test_a_partition_without_a_usable_node_is_down(facility: FacilityConfig) -> None:
    out, _ = cycle(facility, "down")
    obs = by_id(out.observations)
    assert obs["facstat-interactive"].state is ProbeState.DOWN
    assert obs["facstat-interactive"].capacity == 0.0
    (reason,) = obs["facstat-interactive"].reasons
    assert reason.code == "nodes_down" and reason.message.startswith("2 of 2 nodes down: ")
    assert "'Not responding'" in reason.message and "'PSU failure'" in reason.message
    assert (
        obs["facstat-batch"].state is ProbeState.DEGRADED and obs["facstat-batch"].capacity == 0.5
    )
    assert obs["facstat"].state is ProbeState.DEGRADED


def test_a_partition_slurm_marks_down_is_down_whatever_its_nodes(facility: FacilityConfig) -> None:
    collector, replay = replay_collector(facility, "idle")
    real = replay.__call__

    def partition_down(
        argv: Sequence[str], timeout: float, env: Mapping[str, str] | None
    ) -> Completed:
        done = real(argv, timeout, env)
        if "partition" in argv:
            return Completed(done.argv, 0, done.stdout.replace("State=UP", "State=DOWN"), "")
        return done

    collector.backend = CliBackend(runner=partition_down)
    obs = by_id(collector.collect(recorded_at("jobs")).observations)["facstat-batch"]
    assert obs.state is ProbeState.DOWN and obs.reasons[0].code == "partition_down"
    assert obs.reasons[0].message == "partition batch is DOWN"


def test_when_slurmctld_does_not_answer_every_resource_is_unknown_never_up(
    facility: FacilityConfig,
) -> None:
    out, replay = cycle(facility, "controller-down")
    assert [c[0] for c in replay.calls] == ["sdiag"]
    assert len(out.observations) == 4
    for o in out.observations:
        assert o.state is ProbeState.UNKNOWN
        assert [r.code for r in o.reasons] == ["slurmctld_unreachable"]
        assert "Unable to contact slurm controller" in o.reasons[0].message
    text = exposition(out, recorded_at("jobs"))
    assert samples(text, "facstat_slurm_controller_up") == {(): 0.0}
    assert "facstat_slurm_nodes" not in text
    assert_promtool_accepts(text)


def test_without_slurmdbd_the_scheduler_is_degraded_and_the_rest_still_reported(
    facility: FacilityConfig,
) -> None:
    out, _ = cycle(facility, "slurmdbd-down")
    obs = by_id(out.observations)
    assert obs["facstat-slurmctld"].state is ProbeState.DEGRADED
    assert obs["facstat-slurmctld"].reasons[0].code == "slurmdbd_unreachable"
    assert obs["facstat-batch"].state is ProbeState.UP
    assert "facstat_slurm_qos_priority" not in exposition(out, recorded_at("jobs"))


def test_queue_depth_counts_array_tasks_by_partition_qos_state_and_reason(
    facility: FacilityConfig,
) -> None:
    out, _ = cycle(facility, "jobs")
    jobs = samples(exposition(out, recorded_at("jobs")), "facstat_slurm_jobs")

    def n(partition: str, qos: str, state: str, reason: str = "None") -> float:
        key = (("partition", partition), ("qos", qos), ("reason_code", reason), ("state", state))
        return jobs.get(key, 0.0)

    assert n("batch", "normal", "pending", "Resources") == 5  # the array's remaining tasks
    assert n("batch", "normal", "pending", "JobHeldUser") == 1
    assert n("batch", "normal", "pending", "BeginTime") == 1
    assert n("batch", "normal", "running") == 3
    assert n("interactive", "urgent", "running") == 1
    batch = by_id(out.observations)["facstat-batch"]
    assert batch.values["jobs_pending"] == 7 and batch.values["jobs_running"] == 3


def test_the_oldest_pending_age_counts_only_jobs_waiting_on_the_system(
    facility: FacilityConfig,
) -> None:
    now = recorded_at("jobs")
    out, _ = cycle(facility, "jobs", now)
    jobs = parse.parse_squeue(recorded("jobs", "squeue"))
    (array,) = [j for j in jobs if j.name == "array" and j.state == "PENDING"]
    assert array.eligible is not None
    age = (now - datetime.fromtimestamp(array.eligible, UTC)).total_seconds()
    ages = samples(exposition(out, now), "facstat_slurm_oldest_pending_job_age_seconds")
    assert ages == {(("partition", "batch"),): age}
    assert by_id(out.observations)["facstat-batch"].values["oldest_pending_age_seconds"] == age


def test_recently_started_jobs_give_their_median_wait(facility: FacilityConfig) -> None:
    now = recorded_at("jobs")
    out, _ = cycle(facility, "jobs", now)
    text = exposition(out, now)
    waits = samples(text, "facstat_slurm_recent_start_wait_seconds")
    assert set(waits) == {(("partition", "batch"),), (("partition", "interactive"),)}
    assert all(0 <= w < 60 for w in waits.values())
    starts = samples(text, "facstat_slurm_recent_started_jobs")
    assert starts[(("partition", "batch"),)] >= 3  # running, and finished ones that ran
    late = recorded_at("jobs") + timedelta(hours=2)
    out, _ = cycle(facility, "jobs", late)
    assert "facstat_slurm_recent_start_wait_seconds{" not in exposition(out, late)


def test_reservations_are_counted_with_their_maint_flag(facility: FacilityConfig) -> None:
    out, _ = cycle(facility, "jobs")
    text = exposition(out, recorded_at("jobs"))
    assert samples(text, "facstat_slurm_reservations") == {
        (("maint", "false"), ("state", "active")): 1.0,
        (("maint", "true"), ("state", "inactive")): 1.0,
    }
    nodes = samples(text, "facstat_slurm_reservation_nodes")
    assert nodes[(("maint", "true"), ("state", "inactive"))] == 4


def test_nodes_cpus_gpus_and_memory_are_split_by_state(facility: FacilityConfig) -> None:
    out, _ = cycle(facility, "drained")
    text = exposition(out, recorded_at("jobs"))
    nodes = samples(text, "facstat_slurm_partition_nodes")
    assert nodes[(("partition", "batch"), ("state", "drained"))] == 1
    assert nodes[(("partition", "interactive"), ("state", "maint"))] == 1
    assert samples(text, "facstat_slurm_cpus") == {
        (("state", "allocated"),): 8.0,
        (("state", "idle"),): 0.0,
        (("state", "unavailable"),): 8.0,
    }
    gpus = samples(text, "facstat_slurm_gpus")
    assert sum(gpus.values()) == 4 and gpus[(("state", "unavailable"),)] == 4
    memory = samples(text, "facstat_slurm_memory_bytes")
    assert memory[(("state", "allocated"),)] == 8000 * 1024 * 1024


def test_sdiag_qos_and_controller_figures_are_exported(facility: FacilityConfig) -> None:
    out, _ = cycle(facility, "down")
    text = exposition(out, recorded_at("jobs"))
    assert samples(text, "facstat_slurm_controller_up") == {(): 1.0}
    assert samples(text, "facstat_slurm_qos_priority") == {
        (("qos", "normal"),): 10.0,
        (("qos", "urgent"),): 100.0,
    }
    assert samples(text, "facstat_slurm_scheduler_cycles_total")[(("scheduler", "main"),)] > 0
    rpcs = samples(text, "facstat_slurm_rpcs_total")
    assert rpcs[(("rpc", "REQUEST_NODE_INFO"),)] > 0
    assert samples(text, "facstat_slurm_server_threads")[()] >= 1


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_exposition_passes_promtool_with_bounded_labels(
    facility: FacilityConfig, scenario: str
) -> None:
    out, _ = cycle(facility, scenario)
    text = exposition(out, recorded_at("jobs"))
    assert_promtool_accepts(text)
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            assert set(s.labels) <= ALLOWED_LABELS, s
            assert not any(v.startswith("node") or v.isdigit() for v in s.labels.values()), s


def test_a_partition_the_cluster_does_not_have_is_unknown(facility: FacilityConfig) -> None:
    config = parse_facility(FACILITY.replace("partition: interactive", "partition: debug"))
    out, _ = cycle(config, "idle")
    obs = by_id(out.observations)["facstat-interactive"]
    assert obs.state is ProbeState.UNKNOWN and obs.reasons[0].code == "partition_not_found"


def test_bad_options_are_config_errors_naming_the_option() -> None:
    unknown = FACILITY.replace(
        "cluster: facstat, slurm_conf", "backend: rest, cluster: facstat, slurm_conf"
    )
    config = parse_facility(unknown)
    with pytest.raises(ConfigError) as err:
        build(config, list(config.resources))
    assert err.value.issues[0].path == "resources[facstat-slurmctld].collector.options.backend"
    assert "'cli'" in err.value.issues[0].message


def test_a_cluster_option_given_two_values_is_a_config_error() -> None:
    twice = FACILITY.replace("partition: batch}", "partition: batch, interval: 5}")
    config = parse_facility(twice.replace("slurm_conf:", "interval: 10, slurm_conf:"))
    with pytest.raises(ConfigError) as err:
        build(config, list(config.resources))
    assert err.value.issues[0].path == "resources[facstat-batch].collector.options.interval"


def test_registry_check_reports_slurm_option_problems() -> None:
    from collectors import registry

    config = parse_facility(FACILITY.replace("partition: interactive", "partition: 7, colour: red"))
    kinds = dict(registry.KINDS)
    registry.KINDS["slurm"] = "collectors.slurm"
    try:
        issues, missing = registry.check(config)
    finally:
        registry.KINDS.clear()
        registry.KINDS.update(kinds)
    assert missing == []
    assert {i.path for i in issues} == {
        "resources[facstat-interactive].collector.options.partition",
        "resources[facstat-interactive].collector.options.colour",
    }


def test_build_makes_one_collector_per_cluster_with_its_resources() -> None:
    from facility.config import load_facility
    from tests.collectors.slurm.conftest import ROOT

    config = load_facility(ROOT / "examples" / "demo-facility.yaml")
    slurm = [r for r in config.resources if r.collector and r.collector.kind == "slurm"]
    collectors = build(config, slurm)
    assert [c.name for c in collectors] == ["slurm-borealis", "slurm-tern"]
    assert list(collectors[1].resource_ids) == ["tern", "tern-batch"]
    borealis = collectors[0]
    assert isinstance(borealis, SlurmCollector)
    roles = {t.resource_id: (t.role, t.partition, t.degraded_below) for t in borealis.targets}
    assert roles["borealis-slurmctld"][0] == "scheduler"
    assert roles["borealis-interactive"] == ("partition", "interactive", 0.75)
    assert roles["borealis"] == ("system", None, 0.9)
