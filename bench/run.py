"""Entry point: `.venv/bin/python bench/run.py [--quick] [--no-pin] [--no-postgres] [--only X]`.

Runs the read benchmark (a uvicorn process per facility size, loaded with wrk),
server memory, then ingest throughput (in process on SQLite and PostgreSQL, and
over HTTP), and prints one table per family with targets and PASS/MISS.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/run.py` puts bench/, not the repo, on the path
    sys.path.insert(0, str(ROOT))

from bench import ingest, reads, table, wrk  # noqa: E402
from bench.facgen import write_facility  # noqa: E402
from bench.plan import FULL, QUICK, Plan  # noqa: E402
from bench.server import Server  # noqa: E402
from facility.config import load_facility  # noqa: E402


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="3 s wrk runs, fewer ingest rounds")
    p.add_argument(
        "--no-pin", action="store_true", help="do not pin server and wrk to separate CPUs"
    )
    p.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL ingest figures")
    p.add_argument(
        "--only", choices=("reads", "ingest"), help="run one family (e.g. to profile it)"
    )
    p.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    p.add_argument(
        "--uvicorn",
        action="append",
        default=[],
        metavar="ARG",
        help="extra uvicorn argument, repeatable; default --loop asyncio as `facstat serve` "
        "(e.g. --uvicorn=--loop --uvicorn=uvloop to compare)",
    )
    return p.parse_args(argv)


Cpus = tuple[str | None, str | None]


def _cpus(no_pin: bool) -> Cpus:
    """(server, wrk) CPU lists: one core each when there are two or more."""
    if no_pin or (os.cpu_count() or 1) < 2:
        return None, None
    return "1", "0"


def _header(plan: Plan, cpus: Cpus) -> str:
    rev = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True
    ).stdout.strip() or os.environ.get("FACSTAT_BENCH_REV", "?")
    pin = (
        f"server on CPU {cpus[0]}, wrk on CPU {cpus[1]}" if cpus[0] else "not pinned (shared CPUs)"
    )
    return (
        f"facstat bench @ {rev} ({ROOT})  python {platform.python_version()}  cpus={os.cpu_count()}  {pin}\n"
        f"wrk -t{plan.threads} -c{plan.connections} -d{plan.wrk_seconds}s per run; "
        f"uvicorn 1 process, --no-access-log {' '.join(plan.uvicorn)}".rstrip()
        + "; FACSTAT_RUN_COLLECTORS=false; loopback only"
    )


def _read_one(size: int, plan: Plan, path: Path, tmp: Path, cpus: Cpus, out: dict) -> None:
    ids = [r.id for r in load_facility(path).resources]
    db = f"sqlite:///{tmp / f'read-{size}' / 'facstat.db'}"
    with Server(path, db, tmp / f"read-{size}", cpus[0], plan.uvicorn) as srv:
        log(f"{size:,} resources: server up on {srv.url}; populating")
        log(f"populated in {reads.populate(srv, ids):.1f}s; loading with wrk")
        mem = out["memory"][size] = {"populated": srv.memory()}
        httpx.get(srv.url + "/metrics", timeout=60).raise_for_status()
        mem[table.SCRAPED] = srv.memory()
        run = reads.measure(srv, size, plan, cpus[1])
        mem[table.MEM_JUDGED] = srv.memory()
        out["figures"] += run.figures
        out["floors"][size] = run.floors
        out["unstable"] += [] if run.stable else [size]
        if size == plan.ingest_size:
            log("HTTP ingest on the same server")
            out["http"] = ingest.over_http(srv, ids, plan.http_rounds)


def _reads(plan: Plan, files: dict[int, Path], tmp: Path, cpus: Cpus) -> dict:
    out: dict = {"figures": [], "floors": {}, "memory": {}, "http": None, "unstable": []}
    for size in plan.sizes:
        _read_one(size, plan, files[size], tmp, cpus, out)
    return out


def _ingest(plan: Plan, path: Path, tmp: Path, use_pg: bool) -> tuple[list, list[str]]:
    config = load_facility(path)
    log(f"in-process ingest, {len(config.resources):,} resources, SQLite")
    figures = ingest.in_process(f"sqlite:///{tmp / 'ingest.db'}", "sqlite (WAL)", config, plan)
    if not use_pg or not ingest.pg_available():
        return figures, ["service → postgresql (unavailable or --no-postgres)"]
    log("in-process ingest, PostgreSQL")
    with ingest.pg_database() as url:
        figures += ingest.in_process(url, "postgresql", config, plan)
    return figures, []


def _run(args: argparse.Namespace, plan: Plan, cpus: Cpus) -> dict:
    empty: dict = {"figures": [], "floors": {}, "memory": {}, "http": None, "unstable": []}
    with tempfile.TemporaryDirectory(prefix="facstat-bench-") as name:
        tmp = Path(name)
        files = {n: write_facility(n, tmp) for n in {*plan.sizes, plan.ingest_size}}
        r = _reads(plan, files, tmp, cpus) if args.only != "ingest" else empty
        ing, skipped = [], []
        if args.only != "reads":
            ing, skipped = _ingest(plan, files[plan.ingest_size], tmp, not args.no_postgres)
    r["ingest"] = [*ing, r["http"]] if r["http"] else ing
    r["skipped"] = skipped
    return r


def _print(r: dict, plan: Plan, cpus: Cpus, load0: str) -> None:
    tables = [
        table.reads(r["figures"], r["floors"]),
        table.ingest(r["ingest"], r["skipped"]),
        table.memory(r["memory"]),
    ]
    print(_header(plan, cpus), f"load average before/after: {load0} / {_load()}", sep="\n")
    for title, text in zip(("READS", "INGEST", "SERVER MEMORY"), tables, strict=True):
        print("", title, text, sep="\n")
    print("", LEGEND, "", table.tally(*tables), sep="\n")
    for size in r["unstable"]:
        print(f"note: the store version moved during the {size:,}-resource read runs")


LEGEND = """\
memory: MB from /proc/<pid>/status; the read runs include 2 /metrics scrapes each.
p50/p99: wrk, client-observed. srv p99: bound from the server's own latency histogram
(ms, bucket edge; excludes event-loop queueing). srv CPU: share of one core the server
used. other: cores used by unrelated processes during the run (shared machine).
×floor: req/s over the mean of the floor runs either side of the endpoint's runs.
×floor/CPU: the same ratio per server CPU-second (robust to other load)."""


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    extra = tuple(args.uvicorn) or ("--loop", "asyncio")  # what `facstat serve` runs
    plan = dataclasses.replace(QUICK if args.quick else FULL, uvicorn=extra)
    if args.only != "ingest" and not wrk.available():
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2
    cpus, load0 = _cpus(args.no_pin), _load()
    r = _run(args, plan, cpus)
    _print(r, plan, cpus, load0)
    if args.json:
        keys = ("figures", "floors", "ingest", "memory")
        args.json.write_text(json.dumps({k: r[k] for k in keys}, default=_jsonable, indent=1))
    return 0


def _jsonable(o: object) -> object:
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    raise TypeError(type(o))


if __name__ == "__main__":
    sys.exit(main())
