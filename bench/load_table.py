"""The printed report of `load.py`: the setups side by side, the targets, the notes."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.load_cpu import CpuShare
from bench.load_pollers import PATH, WRITE_SLICE, PollResult
from bench.load_sse import PATH as SSE_PATH
from bench.load_sse import SseResult, percentile
from bench.run import _load
from bench.table import _table

PROBLEM_WORDS = ("Traceback", "ERROR", "Error", "Exception", "WARNING", "CRITICAL")


@dataclass(frozen=True)
class Setup:
    label: str
    polls: PollResult
    sse: SseResult
    open_files: list[str]  # soft RLIMIT_NOFILE of each server process
    log_problems: list[list[str]]  # per process: suspicious lines of its log
    target: bool  # the setup the targets are about (else: the baseline)


def log_problems(path: Path) -> list[str]:
    if not path.exists():
        return [f"{path}: missing"]
    lines = path.read_text(errors="replace").splitlines()
    return [ln for ln in lines if any(w in ln for w in PROBLEM_WORDS)]


def header(
    args: argparse.Namespace, rev: str, nofile: tuple[int, int], load0: str, target: str
) -> str:
    load1 = _load()
    return (
        f"facstat load @ {rev}  python {platform.python_version()}  cpus={os.cpu_count()}  "
        f"not pinned (servers, PostgreSQL and clients share the cores)\n"
        f"facility: facgen, {args.resources:,} resources; uvicorn --loop asyncio --no-access-log; "
        f"FACSTAT_RATE_LIMIT_PER_MINUTE=0 (off); FACSTAT_RUN_COLLECTORS=false; loopback only\n"
        f"pollers: wrk -t2 -c{args.pollers} -d{args.duration}s GET {PATH} with If-None-Match "
        f"(ETag per wrk thread), writer: {WRITE_SLICE} observations/s\n"
        f"SSE: {args.sse} streams GET {SSE_PATH}, {args.changes} changes of {target} "
        f"(2 POSTs each, through the first process)\n"
        f"open files: client soft/hard {nofile[0]}/{nofile[1]}; load average before/after: "
        f"{load0} / {load1}"
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def _cores(c: CpuShare, wrk: bool) -> str:
    client = f"wrk {c.wrk:.2f} + py {c.driver:.2f}" if wrk else f"py {c.driver:.2f}"
    return f"srv {c.servers:.2f}, pg {c.postgres:.2f}, {client}, other {c.other:.2f}"


def _errors(p: PollResult) -> int:
    return sum(p.errors.values())


def _statuses(p: PollResult) -> str:
    other = {k: v for k, v in p.statuses.items() if k not in (200, 304)}
    text = f"{p.statuses.get(200, 0):,} / {p.statuses.get(304, 0):,}"
    return text + (f" + {other}" if other else "")


def _srv_p99(p: PollResult) -> str:
    return " / ".join(f"≤{b * 1000:g}" if b is not None else "?" for b in p.server_p99)


def poll_rows(s: Setup) -> list[tuple[str, str]]:
    p, r, w = s.polls, s.polls.result, s.polls.writes
    return [
        ("requests/s", f"{r.rps:,.0f}"),
        ("p50 / p99 / max ms", f"{r.p50_ms:.1f} / {r.p99_ms:.1f} / {p.max_ms:.1f}"),
        ("responses 200 / 304", _statuses(p)),
        (
            "errors (wrk: connect/read/write/≥400/timeout)",
            f"{_errors(p)} {tuple(p.errors.values())}",
        ),
        ("answers marked stale", str(p.stale)),
        (
            "writer batches ok / failed, worst POST ms",
            f"{w.ok} / {len(w.failed)}, {w.worst_ms:.0f}",
        ),
        ("server's own p99 ms, per process", _srv_p99(p)),
        ("CPU cores while polling", _cores(p.cpu, True)),
    ]


def _last(r: SseResult) -> str:
    lasts = [d.last for d in r.deliveries]
    return f"{_ms(statistics.median(lasts))} / {_ms(max(lasts))}" if lasts else "-"


def _by_process(r: SseResult) -> str:
    n = max((p for d in r.deliveries for p, _ in d.delays), default=0) + 1
    return " / ".join(_ms(max(d.last_on(p) for d in r.deliveries)) for p in range(n))


def sse_rows(s: Setup) -> list[tuple[str, str]]:
    r, ds = s.sse, s.sse.deliveries
    return [
        (
            "streams subscribed / opened (s to open)",
            f"{r.connected} / {r.clients} ({r.connect_s:.1f} s)",
        ),
        (
            "delivery p50 / p99 ms, all streams × changes",
            f"{_ms(percentile(r.delays, 50))} / {_ms(percentile(r.delays, 99))}",
        ),
        ("last stream ms: median / worst change", _last(r)),
        ("last stream ms by process (written / other)", _by_process(r)),
        ("events missed / streams dropped", f"{r.missed} / {r.dropped}"),
        ("2nd POST round trip ms (median)", f"{statistics.median(d.ack_ms for d in ds):.1f}"),
        ("client read loop busy (worst change)", f"{max(d.client_busy for d in ds):.0%}"),
        ("CPU cores during the changes", _cores(r.cpu, False)),
    ]


def _section(
    title: str, rows: Callable[[Setup], list[tuple[str, str]]], setups: Sequence[Setup]
) -> str:
    columns = [rows(s) for s in setups]
    names = [name for name, _ in columns[0]]
    body = [[name, *(col[i][1] for col in columns)] for i, name in enumerate(names)]
    return _table([title, *(s.label for s in setups)], body)


def _verdicts(setups: Sequence[Setup], args: argparse.Namespace) -> list[str]:
    out = []
    for s in setups:
        errors = _errors(s.polls) + s.polls.stale + len(s.polls.writes.failed)
        lost = s.sse.missed + s.sse.dropped + (s.sse.clients - s.sse.connected)
        judged = "target" if s.target else "baseline, info"
        out.append(
            f"{s.label} ({judged}): {args.pollers} pollers × {args.duration} s, zero errors: "
            f"{'PASS' if errors == 0 else f'MISS ({errors})'}; every stream gets every change: "
            f"{'PASS' if lost == 0 else f'MISS ({lost})'}"
        )
    return out


def _notes(setups: Sequence[Setup]) -> list[str]:
    out = []
    for s in setups:
        out.append(f"{s.label}: server open-file limits {', '.join(s.open_files)}")
        for i, problems in enumerate(s.log_problems):
            out.append(f"{s.label}: process {i} log: {len(problems)} warning/error lines")
            out += [f"    {ln[:160]}" for ln in problems[:5]]
        ids = {d.event_ids for d in s.sse.deliveries}
        if ids - {1}:
            out.append(f"{s.label}: streams got different event ids for one change: {ids}")
        out += [f"{s.label}: writer: {f}" for f in s.polls.writes.failed[:5]]
    return out


LEGEND = """\
p50/p99/max: wrk, client-observed, closed loop (p50 ≈ pollers / req/s: queueing included).
server's own p99: bucket edge of facstat_http_request_duration_seconds (excludes queueing).
delivery: from just before the 2nd POST is sent to the recv that completes the event
on each stream. client read loop busy: share of the delivery window the one client
thread spent reading (near 100 %: the client, not the servers, set the last-stream time).
CPU cores: srv = the API processes, pg = postgres processes, wrk / py = the clients
(py: this process: writer thread or SSE reader), other = everything else."""


def report(setups: Sequence[Setup], args: argparse.Namespace) -> str:
    if not setups:
        return "\nnothing measured (no PostgreSQL and --no-sqlite)"
    parts = [
        _section("POLLERS", poll_rows, setups),
        _section("SSE", sse_rows, setups),
        LEGEND,
        "\n".join(_verdicts(setups, args)),
        "\n".join(_notes(setups)),
    ]
    return "\n\n".join(["", *parts])
