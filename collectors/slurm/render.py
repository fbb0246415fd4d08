"""The argv and environment of each call the CLI backend makes: one command per kind.

22.05 has `--json` only for sinfo (nodes) and squeue (jobs); partitions and
reservations come from `scontrol -o` (one record a line), the controller's own
figures from `sdiag`, and QoS from slurmdbd through `sacctmgr -P`. Jobs are read as
`|`-separated `squeue -O` fields, times in epoch seconds (SLURM_TIME_FORMAT=%s): for
100,000 jobs `squeue --json` prints about 3.4 KB a job, these fields about 90 bytes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

Kind = Literal["diag", "nodes", "partitions", "jobs", "reservations", "qos"]

# squeue's fields for a job, in order; the name comes last, since it may hold a `|`.
JOB_FIELDS = (
    "JobID", "Partition", "QOS", "State", "Reason", "SubmitTime", "EligibleTime",
    "StartTime", "EndTime", "ArrayTaskID", "Name",
)  # fmt: skip
# `Field:|`: no padding, `|` after it (`Field` alone pads to 20 characters).
SQUEUE_FORMAT = ",".join(f"{f}:{'' if f == JOB_FIELDS[-1] else '|'}" for f in JOB_FIELDS)

COMMANDS: dict[Kind, tuple[str, ...]] = {
    "diag": ("sdiag",),
    "nodes": ("sinfo", "--json"),
    "partitions": ("scontrol", "--all", "-o", "show", "partition"),
    "jobs": ("squeue", "--noheader", "--all", "--states=all", f"--Format={SQUEUE_FORMAT}"),
    "reservations": ("scontrol", "-o", "show", "reservation"),
    "qos": ("sacctmgr", "-P", "show", "qos"),
}
# SLURM_TIME_FORMAT per kind: epoch seconds for squeue, ISO times (what `parse` reads)
# for the rest, whatever the environment of this process says.
TIME_FORMATS: dict[Kind, str] = {"jobs": "%s"}


def argv(kind: Kind, bin_dir: str | None = None) -> list[str]:
    """The command for `kind`, its program taken from `bin_dir` when given."""
    program, *args = COMMANDS[kind]
    return [str(Path(bin_dir) / program) if bin_dir else program, *args]


def environment(
    kind: Kind, slurm_conf: str | None, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The command's environment: `base` (this process's), SLURM_TIME_FORMAT for `kind`,
    and SLURM_CONF when given."""
    env = dict(os.environ if base is None else base)
    env["SLURM_TIME_FORMAT"] = TIME_FORMATS.get(kind, "standard")
    if slurm_conf:
        env["SLURM_CONF"] = slurm_conf
    return env
