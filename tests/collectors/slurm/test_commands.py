"""render → run: the argv of each call, and running it never raises."""

from __future__ import annotations

import sys

from collectors.slurm import render
from collectors.slurm.backend import failure
from collectors.slurm.errors import (
    AccountingUnreachable,
    CommandFailed,
    ControllerUnreachable,
)
from collectors.slurm.render import Kind
from collectors.slurm.run import Completed, run
from tests.collectors.slurm.conftest import RECORDED, exit_code, recorded


def test_each_kind_of_data_is_one_command() -> None:
    assert render.argv("nodes") == ["sinfo", "--json"]
    squeue = render.argv("jobs", "/opt/slurm/bin")
    assert squeue[:4] == ["/opt/slurm/bin/squeue", "--noheader", "--all", "--states=all"]
    assert squeue[4] == "--Format=JobID:|,Partition:|,QOS:|,State:|,Reason:|,SubmitTime:|," + (
        "EligibleTime:|,StartTime:|,EndTime:|,ArrayTaskID:|,Name:"
    )
    assert render.argv("diag") == ["sdiag"]


def test_the_recordings_were_made_with_the_commands_the_collector_runs() -> None:
    script = (RECORDED / "record.sh").read_text()
    assert f'SQUEUE_FORMAT="{render.SQUEUE_FORMAT}"' in script
    assert "env SLURM_TIME_FORMAT=%s squeue --noheader --all --states=all --Format=" in script


def test_slurm_conf_and_the_time_format_are_passed_in_the_environment() -> None:
    base = {"PATH": "/usr/bin", "SLURM_TIME_FORMAT": "relative"}
    env = render.environment("partitions", "/etc/slurm-b/slurm.conf", base)
    assert env == {
        "PATH": "/usr/bin",
        "SLURM_CONF": "/etc/slurm-b/slurm.conf",
        "SLURM_TIME_FORMAT": "standard",
    }
    assert render.environment("jobs", None, base)["SLURM_TIME_FORMAT"] == "%s"


def test_a_missing_program_is_an_exit_code_not_an_exception() -> None:
    done = run(["/nonexistent/sinfo", "--json"], timeout=5)
    assert done.exit_code == 127 and "cannot run" in done.stderr


def test_a_command_that_hangs_is_stopped_at_its_timeout() -> None:
    done = run([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.3)
    assert done.timed_out and done.exit_code == -1 and "0.3s" in done.stderr


def test_output_and_exit_code_come_back() -> None:
    done = run([sys.executable, "-c", "import sys; print('hi'); sys.exit(3)"], timeout=10)
    assert (done.stdout, done.exit_code) == ("hi\n", 3)


def replayed(scenario: str, name: str, argv: tuple[str, ...]) -> Completed:
    err = recorded(scenario, name, "err")
    return Completed(argv, exit_code(scenario, name), recorded(scenario, name), err)


def test_a_controller_that_does_not_answer_is_unreachable() -> None:
    cases: tuple[tuple[str, Kind], ...] = (
        ("sdiag", "diag"),
        ("scontrol-partition", "partitions"),
        ("squeue", "jobs"),
    )
    for name, kind in cases:
        error = failure(replayed("controller-down", name, ("x",)), kind)
        assert isinstance(error, ControllerUnreachable)
        assert "Unable to contact slurm controller" in str(error)


def test_a_timeout_means_unreachable() -> None:
    error = failure(Completed(("sdiag",), -1, "", "no answer within 10s", True), "diag")
    assert isinstance(error, ControllerUnreachable)


def test_sacctmgr_without_slurmdbd_is_accounting_unreachable() -> None:
    error = failure(replayed("slurmdbd-down", "sacctmgr-qos", ("sacctmgr",)), "qos")
    assert isinstance(error, AccountingUnreachable) and error.code == "slurmdbd_unreachable"


def test_other_failures_keep_the_exit_code_and_message() -> None:
    error = failure(Completed(("sinfo",), 2, "", "sinfo: invalid option\n", False), "nodes")
    assert isinstance(error, CommandFailed)
    assert str(error) == "sinfo: exit code 2: sinfo: invalid option"
