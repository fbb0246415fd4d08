"""Running the filesystem I/O probe in a child process: render → run → parse.

The probe (`collectors/filesystem_probe.py`) touches the mount only from a child process.
A hung mount (a dead NFS server, a stuck Lustre OST, a FIFO where a file should be) blocks
the child, never the collector: `run` reads the child's progress until a deadline, then
kills it. A child stuck in the kernel beyond SIGKILL (uninterruptible sleep) is handed back
as `leftover`, so the caller can wait for it instead of piling up more stuck children.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

PROBE_SCRIPT = Path(__file__).with_name("filesystem_probe.py")
REAP_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class ProbeReport:
    """What the child said: per-operation latencies, statvfs numbers, where it stopped."""

    latencies: dict[str, float] = field(default_factory=dict)
    statvfs: dict[str, int] | None = None
    pending: str | None = None  # an operation begun and not finished
    error: str | None = None
    done: bool = False
    other: tuple[str, ...] = ()  # lines that were not the probe's JSON (a crash, say)


@dataclass(frozen=True, slots=True)
class ChildRun:
    output: str  # stdout and stderr, interleaved
    timed_out: bool
    leftover: subprocess.Popen[bytes] | None = None
    returncode: int | None = None


def render(mount: str, probe_dir: str) -> list[str]:
    return [sys.executable, "-I", "-S", str(PROBE_SCRIPT), mount, probe_dir]


def run(argv: list[str], timeout: float) -> ChildRun:
    """Run a child for at most `timeout` seconds and kill it past that; never blocks longer
    (also used for `lfs`, which hangs with its mount). Raises OSError if it cannot start."""
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert proc.stdout is not None
    with proc.stdout:
        output, eof = _read_until(proc.stdout, time.monotonic() + timeout)
    text = output.decode("utf-8", "replace")
    if eof and _reaped(proc, REAP_SECONDS):
        return ChildRun(text, timed_out=False, returncode=proc.returncode)
    proc.kill()
    return ChildRun(text, True, None if _reaped(proc, REAP_SECONDS) else proc)


def _read_until(stream: IO[bytes], deadline: float) -> tuple[bytes, bool]:
    """Everything the child wrote before `deadline`, and whether it closed its output."""
    fd, out = stream.fileno(), bytearray()
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            return bytes(out), True
        out += chunk
    return bytes(out), False


def _reaped(proc: subprocess.Popen[bytes], seconds: float) -> bool:
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def parse(text: str) -> ProbeReport:
    """The child's JSON lines as a report; pure."""
    fields: dict[str, Any] = {"latencies": {}, "other": []}
    for line in text.splitlines():
        item = _json_object(line)
        if item is None:
            if line.strip():
                fields["other"].append(line.strip())
            continue
        _fold(fields, item)
    fields["other"] = tuple(fields["other"])
    return ProbeReport(**fields)


def _fold(fields: dict[str, Any], item: dict[str, Any]) -> None:
    if "begin" in item:
        fields["pending"] = str(item["begin"])
    elif "op" in item:
        fields["latencies"][str(item["op"])] = float(item["seconds"])
        fields["pending"] = None
    elif "statvfs" in item:
        fields["statvfs"] = {k: int(v) for k, v in item["statvfs"].items()}
    elif "error" in item:
        fields["error"] = str(item["error"])
    elif item.get("done"):
        fields["done"] = True


def _json_object(line: str) -> dict[str, Any] | None:
    try:
        item = json.loads(line)
    except ValueError:
        return None
    return item if isinstance(item, dict) else None
