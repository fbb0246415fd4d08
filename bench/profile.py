"""Profile one hot path with py-spy (`.venv/bin/pip install py-spy`), then summarise it.

    .venv/bin/python bench/profile.py ingest [--db sqlite|postgres] [--phase steady|first]
    .venv/bin/python bench/profile.py read /api/v1/resources [--size 1000] [--etag]

`ingest` samples this process during the chosen ingest phase (10,000 resources);
`read` samples the uvicorn process while wrk loads PATH. Raw stacks are written
to /tmp/facstat-<name>.raw and summarised by `bench/hotspots.py`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import hotspots, ingest, reads, wrk  # noqa: E402
from bench.facgen import write_facility  # noqa: E402
from bench.server import Server  # noqa: E402
from facility.config import load_facility  # noqa: E402
from facility.service import StatusService  # noqa: E402
from facility.store import Store  # noqa: E402

PY_SPY = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))


@contextmanager
def sampling(pid: int, out: Path, seconds: int):  # type: ignore[no-untyped-def]
    cmd = [PY_SPY, "record", "-r", "200", "-f", "raw", "-p", str(pid), "-d", str(seconds)]
    spy = subprocess.Popen([*cmd, "-o", str(out), "--nonblocking"], stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        spy.wait(timeout=seconds + 60)


def _ingest(db: str, phase: str, tmp: Path) -> tuple[Path, str]:
    config = load_facility(write_facility(10_000, tmp))
    ids = [r.id for r in config.resources]
    out = Path(f"/tmp/facstat-ingest-{db}-{phase}.raw")
    with _db(db, tmp) as url:
        store = Store.from_url(url)
        service = StatusService(config, store)
        if phase == "steady":
            ingest._round(service, ids)
        with sampling(os.getpid(), out, 8):
            for _ in range(3 if phase == "steady" else 1):
                print(f"{phase}: {len(ids) / ingest._round(service, ids)[1]:,.0f} obs/s")
        store.close()
    return out, "StatusService.ingest"


@contextmanager
def _db(db: str, tmp: Path):  # type: ignore[no-untyped-def]
    if db == "sqlite":
        yield f"sqlite:///{tmp / 'p.db'}"
    else:
        with ingest.pg_database() as url:
            yield url


def _read(path: str, size: int, etag: bool, tmp: Path) -> tuple[Path, str]:
    facility = write_facility(size, tmp)
    ids = [r.id for r in load_facility(facility).resources]
    out = Path(f"/tmp/facstat-read-{size}-{'304' if etag else '200'}.raw")
    with Server(facility, f"sqlite:///{tmp / 'r.db'}", tmp / "srv", "1") as srv:
        reads.populate(srv, ids)
        tag = reads.etag_of(srv.url + path) if etag else None
        assert srv.proc is not None
        with sampling(srv.proc.pid, out, 8):
            r = wrk.run(srv.url + path, 8, etag=tag, cpus="0")
        print(f"{path} {'304' if etag else '200'}: {r.rps:,.0f} req/s p99 {r.p99_ms:.1f} ms")
    return out, ""


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="what", required=True)
    i = sub.add_parser("ingest")
    i.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    i.add_argument("--phase", choices=("steady", "first"), default="steady")
    r = sub.add_parser("read")
    r.add_argument("path")
    r.add_argument("--size", type=int, default=1_000)
    r.add_argument("--etag", action="store_true", help="send If-None-Match (304 path)")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--lines", action="store_true")
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="facstat-profile-") as name:
        tmp = Path(name)
        raw, under = (
            _ingest(a.db, a.phase, tmp)
            if a.what == "ingest"
            else _read(a.path, a.size, a.etag, tmp)
        )
    print(hotspots.summarise(raw, under or None, a.top, a.lines))


if __name__ == "__main__":
    main()
