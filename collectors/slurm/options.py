"""A Slurm resource's collector options, validated (`check-config` names each bad one).

`cluster` groups resources into one collector; `partition` marks a partition. The
other options are the cluster's: every resource of a cluster that sets one must
give it the same value. `backend` picks how Slurm is read (`collectors.slurm.backend`
builds each): the commands, slurmrestd (`restd_socket`, or `restd_url` with
`restd_user` and the JWT `restd_token`; the socket wins when both are given), pyslurm,
or `auto`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from collectors.common import parse_options
from facility.config import Resource
from facility.errors import ConfigError, Issue

PER_RESOURCE = frozenset({"cluster", "partition"})
BackendName = Literal["cli", "slurmrestd", "pyslurm", "auto"]


class SlurmOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cluster: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Slurm cluster name")
    partition: str | None = Field(None, description="the partition this resource is")
    backend: BackendName = Field(
        "cli",
        description="how Slurm is read: cli (sinfo --json, squeue, scontrol, sdiag, sacctmgr), "
        "slurmrestd, pyslurm, or auto (pyslurm if it imports and matches this Slurm, else "
        "slurmrestd if configured and answering, else cli)",
    )
    restd_socket: str | None = Field(None, description="slurmrestd's unix socket")
    restd_url: str | None = Field(
        None, pattern=r"^https?://", description="slurmrestd's URL, for a JWT (restd_token)"
    )
    restd_user: str | None = Field(None, description="X-SLURM-USER-NAME sent with the JWT")
    restd_token: SecretStr | None = Field(None, description="a Slurm JWT (scontrol token)")
    restd_version: str = Field(
        "v0.0.38", pattern=r"^v\d+\.\d+\.\d+$", description="slurmrestd's OpenAPI version"
    )
    slurm_conf: str | None = Field(None, description="SLURM_CONF for the commands")
    bin_dir: str | None = Field(None, description="directory of the Slurm commands")
    command_timeout: float = Field(10.0, gt=0, description="seconds before a command is killed")
    interval: float = Field(30.0, gt=0, description="seconds between cycles")
    recent_window: float = Field(
        900.0, gt=0, description="seconds within which a job counts as recently started"
    )


def options(r: Resource) -> SlurmOptions:
    return parse_options(SlurmOptions, r)


def cluster_options(resources: Sequence[Resource]) -> SlurmOptions:
    """The options of a cluster's collector, from all its resources' options."""
    merged: dict[str, Any] = {}
    issues: list[Issue] = []
    for r in resources:
        given = options(r).model_dump(exclude_unset=True)
        for key, value in given.items():
            if key not in PER_RESOURCE and merged.setdefault(key, value) != value:
                where = f"resources[{r.id}].collector.options.{key}"
                issues.append(Issue(where, f"cluster gets {merged[key]!r} elsewhere"))
    if issues:
        raise ConfigError(f"cluster {options(resources[0]).cluster}", issues)
    return SlurmOptions.model_validate({**merged, "cluster": options(resources[0]).cluster})
