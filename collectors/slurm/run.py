"""Runs one Slurm command with a timeout. Never raises: a missing program, an
unreadable output or a timeout come back as a `Completed` that says so."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Completed:
    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def command(self) -> str:
        return " ".join(self.argv)


def run(argv: Sequence[str], timeout: float, env: Mapping[str, str] | None = None) -> Completed:
    """`argv`'s exit code and output; -1 on timeout, 127 when it cannot be started."""
    args = tuple(argv)
    try:
        done = subprocess.run(
            args,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return Completed(args, -1, _text(exc.stdout), f"no answer within {timeout:g}s", True)
    except (OSError, ValueError) as exc:
        return Completed(args, 127, "", f"cannot run: {exc}")
    return Completed(args, done.returncode, done.stdout, done.stderr)


def _text(data: str | bytes | None) -> str:
    if isinstance(data, bytes):
        return data.decode(errors="replace")
    return data or ""
