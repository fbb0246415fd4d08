"""Where the Slurm figures come from. `Backend` is the port the collector owns: one
method per kind of data, each one call to Slurm, each returning parsed values or
raising `SlurmError`. `CliBackend` renders, runs and parses the 22.05 commands;
`restd.RestdBackend` and `pyslurm_backend.PyslurmBackend` implement the same methods.
`BACKENDS` builds each by the name of the `backend` option; `auto` (`AutoBackend`)
picks one at its first call, so building a collector contacts no source."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Protocol

from collectors.slurm import parse, pyslurm_backend, render
from collectors.slurm.errors import (
    AccountingUnreachable,
    CommandFailed,
    ControllerUnreachable,
    SlurmError,
)
from collectors.slurm.model import Diag, Job, Node, Partition, Qos, Reservation
from collectors.slurm.options import SlurmOptions
from collectors.slurm.pyslurm_backend import PyslurmBackend
from collectors.slurm.render import Kind
from collectors.slurm.restd import RestdBackend
from collectors.slurm.run import Completed, run

log = logging.getLogger("facstat.collectors")

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
        return parse.parse_squeue(self._call("jobs"))

    def reservations(self) -> list[Reservation]:
        return parse.parse_reservations(self._call("reservations"), self.tz)

    def qos(self) -> list[Qos]:
        return parse.parse_qos(self._call("qos"))

    def _call(self, kind: Kind) -> str:
        argv = render.argv(kind, self.bin_dir)
        done = self.runner(argv, self.timeout, render.environment(kind, self.slurm_conf))
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


# --- the backends by name (option `backend`) ------------------------------------------


def cli(opts: SlurmOptions) -> CliBackend:
    return CliBackend(
        timeout=opts.command_timeout, slurm_conf=opts.slurm_conf, bin_dir=opts.bin_dir
    )


def slurmrestd(opts: SlurmOptions) -> RestdBackend:
    return RestdBackend(
        socket=opts.restd_socket,
        url=None if opts.restd_socket else opts.restd_url,
        user=opts.restd_user,
        token=opts.restd_token,
        version=opts.restd_version,
        timeout=opts.command_timeout,
    )


def pyslurm(opts: SlurmOptions) -> PyslurmBackend:
    return PyslurmBackend(slurm_conf=opts.slurm_conf)


@dataclass
class AutoBackend:
    """pyslurm if it imports and was made for this Slurm, else slurmrestd if configured
    and answering, else the commands: chosen at the first call, then kept."""

    opts: SlurmOptions
    runner: Runner = run
    chosen: Backend | None = None

    def diag(self) -> Diag:
        return self.backend().diag()

    def nodes(self) -> list[Node]:
        return self.backend().nodes()

    def partitions(self) -> list[Partition]:
        return self.backend().partitions()

    def jobs(self) -> list[Job]:
        return self.backend().jobs()

    def reservations(self) -> list[Reservation]:
        return self.backend().reservations()

    def qos(self) -> list[Qos]:
        return self.backend().qos()

    def backend(self) -> Backend:
        if self.chosen is None:
            self.chosen = detect(self.opts, self.runner)
            log.info("slurm cluster %s read by %s", self.opts.cluster, type(self.chosen).__name__)
        return self.chosen


def detect(opts: SlurmOptions, runner: Runner = run) -> Backend:
    if pyslurm_backend.usable(slurm_version(opts, runner)):
        return pyslurm(opts)
    if opts.restd_socket or opts.restd_url:
        rest = slurmrestd(opts)
        if rest.answers():
            return rest
    return cli(opts)


def slurm_version(opts: SlurmOptions, runner: Runner = run) -> str:
    """This host's Slurm release (`sinfo --version`: "slurm 22.05.8"), "" when unknown."""
    program = str(Path(opts.bin_dir) / "sinfo") if opts.bin_dir else "sinfo"
    done = runner([program, "--version"], opts.command_timeout, None)
    return done.stdout.strip() if done.exit_code == 0 else ""


BACKENDS: dict[str, Callable[[SlurmOptions], Backend]] = {
    "cli": cli,
    "slurmrestd": slurmrestd,
    "pyslurm": pyslurm,
    "auto": AutoBackend,
}
