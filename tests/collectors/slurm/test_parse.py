"""The parsers on every output recorded from the real 22.05 test cluster, and on odd input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from collectors.slurm import fields, parse, reasons
from collectors.slurm.errors import CommandFailed, OutputInvalid
from collectors.slurm.model import Job, Partition
from collectors.slurm.states import Category
from tests.collectors.slurm.conftest import SCENARIOS, recorded

ANSWERING = [s for s in SCENARIOS if s != "controller-down"]


def categories(scenario: str) -> dict[str, Category]:
    return {n.name: n.category for n in parse.parse_sinfo_json(recorded(scenario, "sinfo.json"))}


@pytest.mark.parametrize("scenario", ANSWERING)
def test_sinfo_json_and_scontrol_show_node_read_the_same_nodes(scenario: str) -> None:
    from_json = parse.parse_sinfo_json(recorded(scenario, "sinfo.json"))
    from_text = parse.parse_scontrol_nodes(recorded(scenario, "scontrol-node"), UTC)
    assert [n.name for n in from_json] == ["node1", "node2", "node3", "node4"]
    assert from_json == from_text


def test_an_idle_cluster_has_four_idle_nodes_with_their_cpus_memory_and_gpus() -> None:
    nodes = parse.parse_sinfo_json(recorded("idle", "sinfo.json"))
    assert {n.category for n in nodes} == {Category.IDLE}
    node1 = nodes[0]
    assert (node1.cpus, node1.cpus_alloc, node1.memory_mb, node1.gpus) == (4, 0, 8000, 2)
    assert node1.partitions == ("batch",) and nodes[3].partitions == ("batch", "interactive")


def test_a_busy_cluster_shows_allocated_cpus_memory_and_the_gpu_in_use() -> None:
    nodes = {n.name: n for n in parse.parse_sinfo_json(recorded("jobs", "sinfo.json"))}
    assert nodes["node2"].gpus_alloc == 1
    assert sum(n.cpus_alloc for n in nodes.values()) == 16
    assert nodes["node1"].memory_alloc_mb == 4000


def test_drained_and_draining_nodes_keep_their_reason_author_and_time() -> None:
    nodes = {n.name: n for n in parse.parse_sinfo_json(recorded("drained", "sinfo.json"))}
    assert nodes["node2"].category is Category.DRAINED and nodes["node2"].reason == "bad DIMM"
    assert nodes["node1"].category is Category.DRAINING and nodes["node1"].reason == "NHC: gpu"
    assert nodes["node2"].reason_by == "root"
    assert nodes["node2"].reason_since is not None
    assert nodes["node2"].reason_since.year == 2026
    assert nodes["node3"].category is Category.MAINT
    assert nodes["node3"].flags == {"MAINTENANCE", "RESERVED"}


def test_a_node_set_down_and_one_whose_slurmd_died_are_both_down() -> None:
    nodes = {n.name: n for n in parse.parse_sinfo_json(recorded("down", "sinfo.json"))}
    assert nodes["node3"].category is Category.DOWN and nodes["node3"].reason == "PSU failure"
    assert "NOT_RESPONDING" in nodes["node4"].flags
    assert (nodes["node4"].reason, nodes["node4"].reason_by) == ("Not responding", "slurm")


def test_scontrol_reason_times_are_read_in_the_commands_time_zone() -> None:
    eastern = timezone(timedelta(hours=-5))
    nodes = parse.parse_scontrol_nodes(recorded("drained", "scontrol-node"), eastern)
    utc = parse.parse_scontrol_nodes(recorded("drained", "scontrol-node"), UTC)
    since, since_utc = nodes[1].reason_since, utc[1].reason_since
    assert since is not None and since_utc is not None
    assert since - since_utc == timedelta(hours=5)


def test_partitions_have_their_state_and_expanded_nodes() -> None:
    parts = parse.parse_partitions(recorded("idle", "scontrol-partition"))
    assert [(p.name, p.state, p.nodes, p.default) for p in parts] == [
        ("batch", "UP", ("node1", "node2", "node3", "node4"), True),
        ("interactive", "UP", ("node3", "node4"), False),
    ]
    assert parts[0].total_cpus == 16


def jobs_of(scenario: str) -> list[Job]:
    return parse.parse_squeue(recorded(scenario, "squeue"))


def by_id(jobs: list[Job]) -> dict[int, Job]:
    return {j.job_id: j for j in jobs}


@pytest.mark.parametrize("scenario", ANSWERING)
def test_squeue_fields_and_squeue_json_read_the_same_jobs(scenario: str) -> None:
    from_fields = by_id(jobs_of(scenario))
    assert from_fields == by_id(parse.parse_squeue_json(recorded(scenario, "squeue.json")))
    assert len(from_fields) >= (0 if scenario == "idle" else 8)


def test_jobs_have_partition_qos_state_pending_reason_and_times() -> None:
    active = {j.name: j for j in jobs_of("jobs") if j.state in ("PENDING", "RUNNING")}
    assert active["urgent"].qos == "urgent" and active["urgent"].partition == "interactive"
    assert active["held"].reason == "JobHeldUser" and active["held"].eligible is None
    assert active["later"].reason == "BeginTime"
    assert active["full-node"].start is not None and active["full-node"].submit is not None
    assert active["held"].start is None  # a pending job's start_time is only an estimate
    assert active["later"].start is None and active["later"].eligible is not None


def test_a_pending_array_record_stands_for_its_remaining_tasks() -> None:
    array = [j for j in jobs_of("jobs") if j.name == "array" and j.state in ("PENDING", "RUNNING")]
    pending = [j for j in array if j.state == "PENDING"]
    assert len(pending) == 1 and pending[0].tasks == 5
    assert [j.tasks for j in array if j.state == "RUNNING"] == [1]


def test_a_job_cancelled_while_pending_never_started_but_a_cancelled_running_one_did() -> None:
    cancelled = [j for j in jobs_of("drained") if j.state == "CANCELLED"]
    assert any(j.start is None and j.reason == "Resources" for j in cancelled)
    assert any(j.start is not None and j.name == "full-node" for j in cancelled)


def test_a_reason_squeue_prints_as_slurmctlds_description_is_read_as_its_code() -> None:
    printed = [line.split("|")[4] for line in recorded("drained", "squeue").splitlines()]
    described = [r for r in printed if r.startswith("Nodes required for job are DOWN")]
    assert described, "the drained recording has a job pending for this description"
    jobs = by_id(jobs_of("drained"))
    json_jobs = by_id(parse.parse_squeue_json(recorded("drained", "squeue.json")))
    assert {j.reason for j in jobs.values()} == {j.reason for j in json_jobs.values()}


@pytest.mark.parametrize(
    ("printed", "code"),
    [
        ("Resources", "Resources"),
        ("ReqNodeNotAvail, UnavailableNodes:node[3-4]", "ReqNodeNotAvail"),
        ("ReqNodeNotAvail, Reserved for maintenance", "ReqNodeNotAvail"),
        (
            "Nodes required for job are DOWN, DRAINED or reserved for jobs in higher priority "
            "partitions",
            "Resources",
        ),
        (
            "Job's QOS not permitted to use this partition (gpu allows gpu not normal)",
            "QOSNotAllowed",
        ),
        ("job requeued in held state", "JobHeldUser"),
        ("launch failed requeued held", "JobHeldAdmin"),
        ("Reservation maint_now was deleted", "ReservationDeleted"),
        ("burst_buffer/lua: setup: no space", "BurstBufferOperation"),
        ("a description no Slurm wrote", "a description no Slurm wrote"),
    ],
)
def test_squeue_reasons_become_reason_codes(printed: str, code: str) -> None:
    assert reasons.code(printed) == code


def test_reservations_carry_their_flags_state_and_nodes() -> None:
    res = {r.name: r for r in parse.parse_reservations(recorded("jobs", "scontrol-reservation"))}
    assert res["maint_next"].maint and res["maint_next"].state == "INACTIVE"
    assert res["maint_next"].nodes == ("node1", "node2", "node3", "node4")
    assert not res["beamtime"].maint and res["beamtime"].state == "ACTIVE"
    assert res["beamtime"].start is not None and res["beamtime"].end is not None
    assert res["beamtime"].end - res["beamtime"].start == timedelta(hours=1)


def test_no_reservations_in_the_system_is_an_empty_list() -> None:
    assert recorded("idle", "scontrol-reservation").startswith("No reservations")
    assert parse.parse_reservations(recorded("idle", "scontrol-reservation")) == []


def test_qos_have_priority_and_preemption() -> None:
    qos = {q.name: q for q in parse.parse_qos(recorded("idle", "sacctmgr-qos"))}
    assert qos["normal"].priority == 10 and qos["normal"].preempt == ()
    assert qos["urgent"].priority == 100 and qos["urgent"].preempt == ("normal",)
    assert qos["urgent"].preempt_mode == "requeue"


def test_sdiag_gives_threads_queues_cycles_job_counts_and_rpcs() -> None:
    d = parse.parse_sdiag(recorded("down", "sdiag"))
    assert d.server_threads >= 1 and d.agent_queue_size == 0
    assert d.main_cycles > 0 and d.main_mean_cycle_us > 0 and d.main_last_cycle_us > 0
    assert d.backfill_cycles >= 1 and d.backfill_mean_cycle_us > 0
    assert set(d.jobs) == {"submitted", "started", "completed", "canceled", "failed"}
    assert d.rpcs["REQUEST_NODE_INFO"] > 0 and "root" not in d.rpcs
    assert d.since is not None and d.since.tzinfo is UTC and d.since.year == 2026


def test_sdiag_before_any_backfill_cycle_has_no_backfill_mean() -> None:
    d = parse.parse_sdiag(recorded("idle", "sdiag"))
    assert d.backfill_cycles == 0 and d.backfill_mean_cycle_us == 0


def test_squeue_times_are_epoch_seconds_and_na_is_none() -> None:
    line = "7|batch,debug|normal|PENDING|Priority|1795265447|N/A|1795269047|Unknown|1-9:2|a|b"
    (job,) = parse.parse_squeue(line)
    assert (job.job_id, job.partition, job.name, job.tasks) == (7, "batch", "a|b", 5)
    assert (job.submit, job.eligible, job.start) == (1795265447, None, None)


def test_json_with_slurm_errors_raises_command_failed_naming_them() -> None:
    with pytest.raises(CommandFailed, match="slurm_load_jobs"):
        parse.parse_squeue_json(recorded("controller-down", "squeue.json"))
    with pytest.raises(CommandFailed, match="Unspecified error"):
        parse.parse_sinfo_json(recorded("controller-down", "sinfo.json"))


@pytest.mark.parametrize("text", ["", "garbage", "[]", '{"nodes": {}}'])
def test_output_that_is_not_sinfo_json_is_invalid(text: str) -> None:
    with pytest.raises(OutputInvalid):
        parse.parse_sinfo_json(text)


def test_odd_records_and_lines_are_skipped_not_fatal() -> None:
    text = '{"errors": [], "nodes": [{"name": "n1", "state": ["IDLE", "DRAIN"]}, 3, {}]}'
    (node,) = parse.parse_sinfo_json(text)
    assert node.category is Category.DRAINED
    assert parse.parse_partitions("junk\nPartitionName=p State=UP Nodes=(null)\n") == [
        Partition("p", "UP")
    ]
    sdiag = recorded("idle", "sdiag") + "\n\tNot a field\nMean cycle: abc\n"
    assert parse.parse_sdiag(sdiag).server_threads >= 1
    assert parse.parse_qos("Name|Priority\nnormal|5\nbroken\n")[0].priority == 5
    line = recorded("jobs", "squeue").splitlines()[0]
    assert len(parse.parse_squeue(f"junk\n{line}\nx|y\n\n")) == 1


@pytest.mark.parametrize("text", ["garbage", "slurm_load_jobs error: Socket timed out\n"])
def test_output_that_is_not_squeues_fields_is_invalid(text: str) -> None:
    with pytest.raises(OutputInvalid):
        parse.parse_squeue(text)


def test_no_jobs_at_all_is_an_empty_queue() -> None:
    assert parse.parse_squeue("") == []


def test_a_reason_with_an_equals_sign_stays_whole() -> None:
    line = "NodeName=n1 State=IDLE+DRAIN Reason=NHC: check x=1 failed [root@2026-01-02T03:04:05]"
    (node,) = parse.parse_scontrol_nodes(line)
    assert node.reason == "NHC: check x=1 failed"
    assert node.reason_since == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("hostlist", "names"),
    [
        ("node[1-3]", ("node1", "node2", "node3")),
        ("gpu[08-10,12],login1", ("gpu08", "gpu09", "gpu10", "gpu12", "login1")),
        ("(null)", ()),
        ("", ()),
    ],
)
def test_hostlists_expand_with_their_padding(hostlist: str, names: tuple[str, ...]) -> None:
    assert fields.expand_hostlist(hostlist) == names


@pytest.mark.parametrize(
    ("gres", "gpus"),
    [("gpu:2", 2), ("gpu:a100:4(S:0-1)", 4), ("gpu:a100:2(IDX:0-1),nic:1", 2), ("(null)", 0)],
)
def test_gpus_are_counted_from_gres_strings(gres: str, gpus: int) -> None:
    assert fields.gres_count(gres) == gpus


@pytest.mark.parametrize(
    ("spec", "tasks"), [("2-6", 5), ("1,3,5-7", 5), ("1-9:2", 5), ("1-100%10", 100), ("x", 1)]
)
def test_array_specs_count_their_tasks(spec: str, tasks: int) -> None:
    assert fields.array_size(spec) == tasks
