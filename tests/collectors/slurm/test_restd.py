"""The slurmrestd backend: its paths, its pure parsers on the answers the real slurmrestd
gave (tests/data/slurm/22.05/*/restd/, recorded at the same moment as the commands'
outputs), and its requests over a real unix socket and over HTTP with a JWT."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from collectors.slurm import parse, restd_parse
from collectors.slurm.errors import (
    AccountingUnreachable,
    CommandFailed,
    ControllerUnreachable,
    OutputInvalid,
)
from collectors.slurm.model import Diag
from collectors.slurm.restd import RestdBackend, path
from collectors.slurm.restd_parse import Answer
from tests.collectors.slurm.conftest import SCENARIOS, SLURM_DIR, recorded
from tests.collectors.slurm.restd_server import recorded_answer, serving

ANSWERING = [s for s in SCENARIOS if s != "controller-down"]
# sdiag figures that move between two reads a moment apart (the rest are counters)
MOVING = ("server_threads", "agent_queue_size", "agent_count", "dbd_agent_queue_size")


def answer(scenario: str, kind: str) -> Answer:
    status, body = recorded_answer(scenario, kind)
    return Answer(f"GET {path(kind)}", status, body)


def taken_at(scenario: str) -> datetime:
    """When slurmrestd answered in `scenario` (/diag's req_time; the jobs one if it failed)."""
    doc = json.loads(recorded_answer(scenario, "diag")[1])
    stamp = (
        doc["statistics"].get("req_time")
        or json.loads(recorded_answer("jobs", "diag")[1])["statistics"]["req_time"]
    )
    return datetime.fromtimestamp(stamp, UTC)


def steady(d: Diag) -> dict[str, object]:
    """sdiag's figures but the moving gauges; /diag, read right after sdiag, has seen
    that sdiag's own REQUEST_STATS_INFO."""
    fields = {k: v for k, v in asdict(d).items() if k not in MOVING}
    rpcs = dict(d.rpcs)
    rpcs["REQUEST_STATS_INFO"] = rpcs.get("REQUEST_STATS_INFO", 0) + 1
    return fields | {"rpcs": rpcs}


def test_each_kind_of_data_is_one_get_on_its_v0_0_38_path() -> None:
    assert path("nodes") == "/slurm/v0.0.38/nodes"
    assert path("diag") == "/slurm/v0.0.38/diag"
    assert path("qos") == "/slurmdb/v0.0.38/qos"
    assert path("reservations", "v0.0.39") == "/slurm/v0.0.39/reservations"


@pytest.mark.parametrize("scenario", ANSWERING)
def test_nodes_partitions_and_jobs_read_the_same_as_from_the_commands(scenario: str) -> None:
    assert restd_parse.parse_nodes(answer(scenario, "nodes")) == parse.parse_sinfo_json(
        recorded(scenario, "sinfo.json")
    )
    assert restd_parse.parse_partitions(answer(scenario, "partitions")) == parse.parse_partitions(
        recorded(scenario, "scontrol-partition")
    )
    assert restd_parse.parse_jobs(answer(scenario, "jobs")) == parse.parse_squeue_json(
        recorded(scenario, "squeue.json")
    )


@pytest.mark.parametrize("scenario", ANSWERING)
def test_reservations_are_active_between_start_and_end_as_scontrol_says(scenario: str) -> None:
    got = restd_parse.parse_reservations(answer(scenario, "reservations"), taken_at(scenario))
    assert got == parse.parse_reservations(recorded(scenario, "scontrol-reservation"), UTC)


def test_a_reservation_is_inactive_before_its_start_and_after_its_end() -> None:
    (beamtime,) = [
        r
        for r in restd_parse.parse_reservations(answer("jobs", "reservations"), taken_at("jobs"))
        if r.name == "beamtime"
    ]
    assert beamtime.start is not None and beamtime.end is not None
    for moment, state in [
        (beamtime.start - timedelta(seconds=1), "INACTIVE"),
        (beamtime.start, "ACTIVE"),
        (beamtime.end + timedelta(seconds=1), "INACTIVE"),
    ]:
        got = restd_parse.parse_reservations(answer("jobs", "reservations"), moment)
        assert {r.name: r.state for r in got}["beamtime"] == state


@pytest.mark.parametrize("scenario", [s for s in ANSWERING if s != "slurmdbd-down"])
def test_qos_have_the_priority_preemption_and_limits_sacctmgr_shows(scenario: str) -> None:
    assert restd_parse.parse_qos(answer(scenario, "qos")) == parse.parse_qos(
        recorded(scenario, "sacctmgr-qos")
    )


@pytest.mark.parametrize("scenario", ANSWERING)
def test_diag_gives_sdiags_figures_read_a_moment_later(scenario: str) -> None:
    got = restd_parse.parse_diag(answer(scenario, "diag"))
    sdiag = parse.parse_sdiag(recorded(scenario, "sdiag"))
    assert {k: v for k, v in asdict(got).items() if k not in MOVING} == steady(sdiag)
    assert all(isinstance(getattr(got, k), int) for k in MOVING)


def test_with_slurmctld_stopped_every_slurmctld_request_is_controller_unreachable() -> None:
    for kind in ("diag", "nodes", "partitions", "jobs", "reservations"):
        with pytest.raises(ControllerUnreachable) as err:
            getattr(restd_parse, f"parse_{kind}")(
                *[answer("controller-down", kind)] + ([taken_at("jobs")] * (kind == "reservations"))
            )
        assert err.value.command == f"GET /slurm/v0.0.38/{kind}"
    with pytest.raises(ControllerUnreachable, match="slurm_get_statistics"):
        restd_parse.parse_diag(answer("controller-down", "diag"))
    assert [q.name for q in restd_parse.parse_qos(answer("controller-down", "qos"))] == [
        "normal",
        "urgent",
    ]  # slurmdbd still answers


def test_with_slurmdbd_stopped_qos_is_accounting_unreachable() -> None:
    with pytest.raises(AccountingUnreachable, match="Unable to connect to database") as err:
        restd_parse.parse_qos(answer("slurmdbd-down", "qos"))
    assert err.value.command == "GET /slurmdb/v0.0.38/qos"


@pytest.mark.parametrize(
    ("status", "body", "error", "text"),
    [
        (200, '{"errors": [{"error": "Invalid job id"}], "jobs": []}', CommandFailed, "Invalid"),
        (500, "<html>Internal Server Error</html>", CommandFailed, "HTTP 500: <html>"),
        (401, "", CommandFailed, "HTTP 401"),
        (200, "garbage", OutputInvalid, "not JSON"),
        (200, '{"errors": [], "nodes": {}}', OutputInvalid, "no 'nodes' list"),
    ],
)
def test_odd_answers_are_errors_naming_the_request(
    status: int, body: str, error: type[Exception], text: str
) -> None:
    with pytest.raises(error, match=text) as err:
        restd_parse.parse_nodes(Answer("GET /slurm/v0.0.38/nodes", status, body))
    assert str(err.value).startswith("GET /slurm/v0.0.38/nodes: ")


def test_a_diag_without_statistics_is_invalid() -> None:
    with pytest.raises(OutputInvalid, match="statistics"):
        restd_parse.parse_diag(Answer("GET /slurm/v0.0.38/diag", 200, '{"errors": []}'))


@pytest.mark.parametrize(
    ("minutes", "text"),
    [(None, ""), (30, "00:30:00"), (90, "01:30:00"), (1440 + 63, "1-01:03:00"), (-1, "")],
)
def test_time_limits_read_as_sacctmgr_prints_them(minutes: int | None, text: str) -> None:
    assert restd_parse.minutes_text(minutes) == text


def test_a_qos_limit_and_preemption_modes_are_read() -> None:
    doc = json.loads(recorded_answer("jobs", "qos")[1])
    urgent = doc["QOS"][1]
    urgent["limits"]["max"]["wall_clock"]["per"]["job"] = 120
    urgent["preempt"]["mode"] = ["SUSPEND", "GANG"]
    (_, got) = restd_parse.parse_qos(Answer("GET /slurmdb/v0.0.38/qos", 200, json.dumps(doc)))
    assert (got.max_wall, got.preempt_mode, got.preempt) == (
        "02:00:00",
        "suspend,gang",
        ("normal",),
    )


# --- over a socket and over HTTP --------------------------------------------------------


def test_a_cycle_is_one_get_per_kind_of_data_over_the_unix_socket(tmp_path: Path) -> None:
    with serving("jobs", tmp_path / "restd.sock") as (server, sock):
        backend = RestdBackend(socket=sock, clock=lambda: taken_at("jobs"))
        diag, nodes = backend.diag(), backend.nodes()
        parts, jobs = backend.partitions(), backend.jobs()
        reservations, qos = backend.reservations(), backend.qos()
    assert [p for p, _ in server.requests] == [
        "/slurm/v0.0.38/diag", "/slurm/v0.0.38/nodes", "/slurm/v0.0.38/partitions",
        "/slurm/v0.0.38/jobs", "/slurm/v0.0.38/reservations", "/slurmdb/v0.0.38/qos",
    ]  # fmt: skip
    assert diag.server_threads >= 1 and len(nodes) == 4 and len(parts) == 2
    assert any(j.state == "PENDING" for j in jobs) and len(reservations) == 2
    assert [q.priority for q in qos] == [10, 100]
    assert "X-SLURM-USER-TOKEN" not in server.requests[0][1]


def test_a_missing_socket_is_a_command_failure_naming_slurmrestd(tmp_path: Path) -> None:
    backend = RestdBackend(socket=str(tmp_path / "absent.sock"))
    with pytest.raises(CommandFailed, match="slurmrestd unreachable") as err:
        backend.diag()
    assert err.value.command == "GET /slurm/v0.0.38/diag"
    assert not backend.answers()


def test_no_answer_in_time_is_an_unreachable_controller_or_slurmdbd(tmp_path: Path) -> None:
    with serving("idle", tmp_path / "restd.sock", hang=True) as (_, sock):
        backend = RestdBackend(socket=sock, timeout=0.3)
        with pytest.raises(ControllerUnreachable, match=r"no answer within 0\.3s"):
            backend.nodes()
        with pytest.raises(AccountingUnreachable, match=r"no answer within 0\.3s"):
            backend.qos()


def test_a_500_from_slurmrestd_with_the_controller_gone_is_controller_unreachable(
    tmp_path: Path,
) -> None:
    with serving("controller-down", tmp_path / "restd.sock") as (_, sock):
        backend = RestdBackend(socket=sock)
        with pytest.raises(ControllerUnreachable, match="slurm_get_statistics"):
            backend.diag()
        assert backend.answers()  # slurmrestd itself is there


def test_over_http_the_jwt_goes_in_slurms_headers() -> None:
    with serving("idle") as (server, url):
        token = SecretStr("eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl")
        backend = RestdBackend(url=url, user="facstat", token=token)
        assert [p.name for p in backend.partitions()] == ["batch", "interactive"]
    headers = {k.lower(): v for k, v in server.requests[0][1].items()}
    assert headers["x-slurm-user-name"] == "facstat"
    assert headers["x-slurm-user-token"] == token.get_secret_value()
    assert token.get_secret_value() not in repr(backend)


def test_without_socket_or_url_every_call_fails_with_a_clear_message() -> None:
    with pytest.raises(CommandFailed, match="neither a socket nor a URL"):
        RestdBackend().nodes()


@pytest.mark.usefixtures("slurm_cluster")
def test_the_real_slurmrestd_answers_over_its_socket() -> None:
    backend = RestdBackend(socket=str(SLURM_DIR / "run" / "slurmrestd.socket"))
    assert backend.answers()
    assert [n.name for n in backend.nodes()] == ["node1", "node2", "node3", "node4"]
    assert {q.name for q in backend.qos()} == {"normal", "urgent"}
    assert replace(backend.diag(), rpcs={}).server_threads >= 1
