"""The I/O probe of a filesystem, run as a child process: `python -I -S filesystem_probe.py
<mount> <probe_dir>`. Standard library only, so it starts fast and needs no project import.

It statvfs()es the mount, then creates, writes, fsyncs, reads back, stats and unlinks one
small file, `<probe_dir>/.facstat-probe-<host>` (a fixed name per host, so a probe killed
half-way leaves at most one file behind and the next probe reuses it). Progress is one JSON
object per line, flushed at once, so that the parent knows which step hung if it has to
kill the child::

    {"begin": "create"}
    {"op": "create", "seconds": 0.00012}
    {"statvfs": {"f_frsize": 4096, "f_blocks": 1024, ...}}
    {"error": "[Errno 28] No space left on device: '/scratch/.facstat-probe-login1'"}
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

PAYLOAD = b"facstat I/O probe\n" * 228  # 4104 bytes: one page and a bit
STATVFS_FIELDS = ("f_frsize", "f_blocks", "f_bfree", "f_bavail", "f_files", "f_ffree")


def emit(**item: Any) -> None:
    sys.stdout.write(json.dumps(item) + "\n")
    sys.stdout.flush()


def timed(op: str, step: Callable[[], Any]) -> Any:
    emit(begin=op)
    started = time.perf_counter()
    result = step()
    emit(op=op, seconds=time.perf_counter() - started)
    return result


def read_back(path: str) -> None:
    with open(path, "rb") as f:
        data = f.read()
    if data != PAYLOAD:
        raise OSError(f"read back {len(data)} bytes that differ from the {len(PAYLOAD)} written")


def write_file(path: str) -> None:
    fd = timed("create", lambda: os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        timed("write", lambda: os.write(fd, PAYLOAD))
        timed("fsync", lambda: os.fsync(fd))
    finally:
        os.close(fd)


def probe(mount: str, probe_dir: str) -> None:
    st = timed("statvfs", lambda: os.statvfs(mount))
    emit(statvfs={name: getattr(st, name) for name in STATVFS_FIELDS})
    path = os.path.join(probe_dir, f".facstat-probe-{socket.gethostname()}")
    write_file(path)
    timed("read", lambda: read_back(path))
    timed("stat", lambda: os.stat(path))
    timed("unlink", lambda: os.unlink(path))


def main(argv: list[str]) -> int:
    try:
        probe(argv[1], argv[2])
    except OSError as exc:
        emit(error=str(exc))
        return 1
    emit(done=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
