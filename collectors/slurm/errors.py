"""Why a Slurm query gave no usable answer. Every error carries the command that failed
and a stable `code`, which becomes the reason code of the observations it spoils::

    SlurmError                      slurm_error
     ├── ControllerUnreachable      slurmctld_unreachable  (no answer, connect failure, timeout)
     ├── AccountingUnreachable      slurmdbd_unreachable   (sacctmgr cannot reach slurmdbd)
     ├── CommandFailed              slurm_command_failed   (non-zero exit, errors in --json)
     └── OutputInvalid              slurm_output_invalid   (output we cannot read)
"""

from __future__ import annotations


class SlurmError(Exception):
    code = "slurm_error"

    def __init__(self, command: str, detail: str) -> None:
        super().__init__(f"{command}: {detail}")
        self.command = command
        self.detail = detail


class ControllerUnreachable(SlurmError):
    code = "slurmctld_unreachable"


class AccountingUnreachable(SlurmError):
    code = "slurmdbd_unreachable"


class CommandFailed(SlurmError):
    code = "slurm_command_failed"


class OutputInvalid(SlurmError):
    code = "slurm_output_invalid"
