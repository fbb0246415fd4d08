"""The argv of each call the CLI backend makes: one command per kind of data.

22.05 has `--json` only for sinfo (nodes) and squeue (jobs); partitions and
reservations come from `scontrol -o` (one record a line), the controller's own
figures from `sdiag`, and QoS from slurmdbd through `sacctmgr -P`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

Kind = Literal["diag", "nodes", "partitions", "jobs", "reservations", "qos"]

COMMANDS: dict[Kind, tuple[str, ...]] = {
    "diag": ("sdiag",),
    "nodes": ("sinfo", "--json"),
    "partitions": ("scontrol", "--all", "-o", "show", "partition"),
    "jobs": ("squeue", "--json"),
    "reservations": ("scontrol", "-o", "show", "reservation"),
    "qos": ("sacctmgr", "-P", "show", "qos"),
}


def argv(kind: Kind, bin_dir: str | None = None) -> list[str]:
    """The command for `kind`, its program taken from `bin_dir` when given."""
    program, *args = COMMANDS[kind]
    return [str(Path(bin_dir) / program) if bin_dir else program, *args]


def environment(slurm_conf: str | None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The commands' environment: `base` (this process's), with SLURM_CONF when given."""
    env = dict(os.environ if base is None else base)
    if slurm_conf:
        env["SLURM_CONF"] = slurm_conf
    return env
