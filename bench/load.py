"""Entry point: `.venv/bin/python bench/load.py [--duration 60] [--pollers 500] [--sse 1000] [--quick]`.

Load on whole deployments, each in the same run: 2 API processes on one PostgreSQL
database (the target setup), and 1 process on SQLite (the baseline). For each: pollers
with ETags for `--duration` seconds while a writer changes the data once a second,
then `--sse` event streams and the time a status change takes to reach the last one.
Prints one table, the two setups side by side. See README.md, "Load".
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/load.py` puts bench/, not the repo, on the path
    sys.path.insert(0, str(ROOT))

from bench import ingest, load_pollers, load_sse, load_table, wrk  # noqa: E402
from bench.facgen import write_facility  # noqa: E402
from bench.reads import populate  # noqa: E402
from bench.run import _load, log  # noqa: E402
from bench.server import Server  # noqa: E402
from facility.config import load_facility  # noqa: E402

LOAD_DB = "facstat_bench_load"  # not run.py's facstat_bench: both may run at once
UVICORN = ("--loop", "asyncio")  # what `facstat serve` runs
TARGET = "link00"  # the SSE change: a WAN link nothing depends on (one event per change)
PG, SQLITE = "2 processes, PostgreSQL", "1 process, SQLite"


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--duration", type=int, help="seconds of polling (default 60; --quick 10)")
    p.add_argument("--pollers", type=int, default=500, help="concurrent poller connections")
    p.add_argument("--sse", type=int, help="SSE streams (default 1000; --quick 200)")
    p.add_argument("--changes", type=int, default=5, help="status changes timed per setup")
    p.add_argument("--resources", type=int, default=1000, help="size of the facility (facgen)")
    p.add_argument("--quick", action="store_true", help="10 s of polling, 200 streams")
    p.add_argument("--no-sqlite", action="store_true", help="skip the SQLite baseline")
    args = p.parse_args(argv)
    args.duration = args.duration or (10 if args.quick else 60)
    args.sse = args.sse or (200 if args.quick else 1000)
    return args


def raise_open_files(needed: int) -> tuple[int, int]:
    """Soft RLIMIT_NOFILE up to `needed` (bounded by the hard limit); the servers,
    started afterwards, inherit it. Returns (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft, hard


def open_files_limit(pid: int) -> str:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return line.split()[3]
    return "?"


@contextmanager
def pg_database() -> Iterator[str]:
    """`ingest.pg_database` (create, drop at the end) under this benchmark's own name."""
    with mock.patch.object(ingest, "PG_DB", LOAD_DB), ingest.pg_database() as url:
        yield url


def _servers(stack: ExitStack, facility: Path, db: str, n: int, tmp: Path) -> list[Server]:
    """n processes on one database, started one after the other (the first migrates)."""
    return [
        stack.enter_context(Server(facility, db, tmp / f"api-{i}", None, UVICORN)) for i in range(n)
    ]


def _setup(
    label: str, facility: Path, db: str, n: int, tmp: Path, args: argparse.Namespace
) -> load_table.Setup:
    ids = [r.id for r in load_facility(facility).resources]
    with ExitStack() as stack:
        servers = _servers(stack, facility, db, n, tmp)
        limits = [open_files_limit(s.proc.pid) for s in servers if s.proc is not None]
        log(f"{label}: {n} process(es) up; seeding {len(ids):,} statuses")
        populate(servers[0], ids)
        log(f"{label}: {args.pollers} pollers for {args.duration} s")
        polls = load_pollers.measure(servers, ids, args.duration, args.pollers)
        log(f"{label}: {args.sse} SSE streams, {args.changes} changes")
        sse = load_sse.measure(servers, args.sse, args.changes, TARGET)
    logs = [load_table.log_problems(tmp / f"api-{i}" / "server.log") for i in range(n)]
    return load_table.Setup(label, polls, sse, limits, logs, target=label == PG)


def _run(args: argparse.Namespace, tmp: Path) -> list[load_table.Setup]:
    facility = write_facility(args.resources, tmp)
    out = []
    if not args.no_sqlite:
        db = f"sqlite:///{tmp / 'sqlite' / 'facstat.db'}"
        out.append(_setup(SQLITE, facility, db, 1, tmp / "sqlite", args))
    if not ingest.pg_available():
        log("PostgreSQL is not reachable on 127.0.0.1:5432: the target setup is skipped")
        return out
    with pg_database() as url:
        out.append(_setup(PG, facility, url, 2, tmp / "pg", args))
    return out


def _rev() -> str:
    git = ["git", "-C", str(ROOT), "describe", "--always", "--dirty"]
    return subprocess.run(git, capture_output=True, text=True).stdout.strip() or "?"


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    if not wrk.available():
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2
    nofile = raise_open_files(args.sse + args.pollers + 1024)
    load0 = _load()
    with tempfile.TemporaryDirectory(prefix="facstat-load-") as name:
        setups = _run(args, Path(name))
    print(load_table.header(args, _rev(), nofile, load0, TARGET))
    print(load_table.report(setups, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
