"""Where the Slurm figures come from. `Backend` is the port the collector owns: one
method per kind of data, each one call to Slurm, each returning parsed values or
raising `SlurmError`. `CliBackend` renders, runs and parses the 22.05 commands;
slurmrestd and pyslurm backends implement the same methods."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Protocol

from collectors.slurm import parse, render
from collectors.slurm.errors import (
    AccountingUnreachable,
    CommandFailed,
    ControllerUnreachable,
    SlurmError,
)
from collectors.slurm.model import Diag, Job, Node, Partition, Qos, Reservation
from collectors.slurm.render import Kind
from collectors.slurm.run import Completed, run

Runner = Callable[[Sequence[str], float, Mapping[str, str] | None], Completed]

# stderr that means the controller (or slurmdbd for sacctmgr) did not answer.
CONTROLLER_GONE = ("Unable to contact slurm controller", "Socket timed out", "Connection refused")
DBD_GONE = ("persistent connection", "Connection refused", "Problem talking to the database")


class Backend(Protocol):
    def diag(self) -> Diag: ...
    def nodes(self) -> list[Node]: ...
    def partitions(self) -> list[Partition]: ...
    def jobs(self) -> list[Job]: ...
    def reservations(self) -> list[Reservation]: ...
    def qos(self) -> list[Qos]: ...


def _local_zone() -> tzinfo:
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None
    return zone


@dataclass
class CliBackend:
    """Slurm's commands on this host; `slurm_conf` picks the cluster's configuration."""

    timeout: float = 10.0
    slurm_conf: str | None = None
    bin_dir: str | None = None
    tz: tzinfo = field(default_factory=_local_zone)
    runner: Runner = run

    def diag(self) -> Diag:
        return parse.parse_sdiag(self._call("diag"))

    def nodes(self) -> list[Node]:
        return parse.parse_sinfo_json(self._call("nodes"))

    def partitions(self) -> list[Partition]:
        return parse.parse_partitions(self._call("partitions"))

    def jobs(self) -> list[Job]:
        return parse.parse_squeue_json(self._call("jobs"))

    def reservations(self) -> list[Reservation]:
        return parse.parse_reservations(self._call("reservations"), self.tz)

    def qos(self) -> list[Qos]:
        return parse.parse_qos(self._call("qos"))

    def _call(self, kind: Kind) -> str:
        argv = render.argv(kind, self.bin_dir)
        done = self.runner(argv, self.timeout, render.environment(self.slurm_conf))
        error = failure(done, kind)
        if error is not None:
            raise error
        return done.stdout


def failure(done: Completed, kind: Kind) -> SlurmError | None:
    """What went wrong with a finished command, if anything."""
    if done.exit_code == 0 and not done.timed_out:
        return None
    detail = _first_line(done.stderr) or f"exit code {done.exit_code}"
    if kind == "qos":
        gone = done.timed_out or any(s in done.stderr for s in DBD_GONE)
        return (AccountingUnreachable if gone else CommandFailed)(done.command, detail)
    if done.timed_out or any(s in done.stderr for s in CONTROLLER_GONE):
        return ControllerUnreachable(done.command, detail)
    return CommandFailed(done.command, f"exit code {done.exit_code}: {detail}")


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else ""
