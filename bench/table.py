"""The printed report: one table per target family, every figure with its target and verdict."""

from __future__ import annotations

from collections.abc import Sequence

from bench.ingest import IngestFigure
from bench.reads import Load, ReadFigure

RATIO_200, RATIO_304 = 0.50, 0.80
P99_MS, P99_AT = 50.0, 1_000
INGEST_SQLITE = 20_000
RSS_MB, RSS_AT = 250, 10_000
SCRAPED = "after one /metrics scrape"
MEM_JUDGED = "after the read runs"


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(head, *rows, strict=False)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=False))  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)])


def _read_verdict(f: ReadFigure) -> tuple[str, str]:
    ratio = RATIO_200 if f.status == 200 else RATIO_304
    target, misses = [f"≥{ratio:.0%} floor"], []
    if f.ratio < ratio:
        misses.append("ratio")
    if f.size == P99_AT:
        target.append(f"p99≤{P99_MS:.0f}ms")
        if f.load.result.p99_ms > P99_MS:
            misses.append("p99")
    return ", ".join(target), f"MISS ({', '.join(misses)})" if misses else "PASS"


def _load_cells(ld: Load) -> list[str]:
    r, c = ld.result, ld.cpu
    srv = f"≤{ld.server_p99 * 1000:g}" if ld.server_p99 is not None else "?"
    return [
        f"{r.rps:,.0f}",
        f"{r.p50_ms:.1f}",
        f"{r.p99_ms:.1f}",
        srv,
        f"{c.server:.0%}",
        f"{c.foreign:.2f}",
    ]


def _floor_row(size: int, fl: Sequence[Load]) -> list[str]:
    """The floor runs of one size: mean rates, worst tails."""
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    srv = [ld.server_p99 for ld in fl if ld.server_p99 is not None]
    cells = [
        f"{size:,}",
        f"_floor (×{len(fl)})",
        "200",
        f"{mean([ld.result.rps for ld in fl]):,.0f}",
    ]
    cells += [
        f"{mean([ld.result.p50_ms for ld in fl]):.1f}",
        f"{max(ld.result.p99_ms for ld in fl):.1f}",
    ]
    cells += [f"≤{max(srv) * 1000:g}" if srv else "?", f"{mean([ld.cpu.server for ld in fl]):.0%}"]
    cells += [f"{mean([ld.cpu.foreign for ld in fl]):.2f}", "1.00", "1.00"]
    return [*cells, f"{fl[0].result.bytes_per_response:,.0f}", "(reference)", ""]


def _figure_row(f: ReadFigure) -> list[str]:
    cells = [f"{f.size:,}", f.path.removeprefix("/api/v1"), str(f.status), *_load_cells(f.load)]
    cells += [f"{f.ratio:.2f}", f"{f.cpu_ratio:.2f}", f"{f.load.result.bytes_per_response:,.0f}"]
    return [*cells, *_read_verdict(f)]


READ_HEAD = [
    "resources",
    "endpoint",
    "resp",
    "req/s",
    "p50 ms",
    "p99 ms",
    "srv p99",
    "srv CPU",
    "other",
    "×floor",
    "×floor/CPU",
    "B/resp",
    "target",
    "verdict",
]


def reads(figures: Sequence[ReadFigure], floors: dict[int, list[Load]]) -> str:
    """Per size: the floor (mean of its runs), then each endpoint's 200 and 304 rows."""
    rows = []
    for size, fl in floors.items():
        rows.append(_floor_row(size, fl))
        rows += [_figure_row(f) for f in figures if f.size == size]
    runs = "; ".join(
        f"{size:,}: " + " → ".join(f"{ld.result.rps:,.0f}" for ld in fl)
        for size, fl in floors.items()
    )
    return (
        _table(READ_HEAD, rows) + f"\nfloor runs in order (req/s), bracketing each endpoint: {runs}"
    )


def ingest(figures: Sequence[IngestFigure], skipped: Sequence[str]) -> str:
    head = ["path", "phase", "observations", "seconds", "obs/s", "target", "verdict"]
    rows = []
    for f in figures:
        judged = f.path == "service → sqlite (WAL)" and f.phase == "steady"
        target = f"≥{INGEST_SQLITE:,}/s" if judged else "(info)"
        verdict = ("PASS" if f.rate >= INGEST_SQLITE else "MISS") if judged else ""
        rows.append(
            [
                f.path,
                f.phase,
                f"{f.observations:,}",
                f"{f.seconds:.2f}",
                f"{f.rate:,.0f}",
                target,
                verdict,
            ]
        )
    rows += [[s, "skipped", "", "", "", "", ""] for s in skipped]
    return _table(head, rows)


def _mb(mem: dict[str, int], key: str) -> str:
    return f"{mem[key] / 1024:.1f}"


def _mem_row(size: int, by_when: dict[str, dict[str, int]]) -> list[str]:
    populated, scraped, after = by_when["populated"], by_when[SCRAPED], by_when[MEM_JUDGED]
    judged = size == RSS_AT
    worst = max(after["VmRSS"], after["VmHWM"]) / 1024
    verdict = ("PASS" if worst <= RSS_MB else "MISS") if judged else ""
    cells = [
        f"{size:,}",
        _mb(populated, "VmRSS"),
        f"{_mb(scraped, 'VmRSS')} / {_mb(scraped, 'VmHWM')}",
    ]
    cells += [_mb(after, "VmRSS"), _mb(after, "VmHWM")]
    return [*cells, f"both ≤{RSS_MB} MB" if judged else "(info)", verdict]


def memory(by_size: dict[int, dict[str, dict[str, int]]]) -> str:
    """Per size, VmRSS/VmHWM (kB in, MB out) at the moments `run.py` records."""
    head = [
        "resources",
        "populated RSS",
        "1 scrape RSS / HWM",
        "after reads RSS",
        "HWM",
        "target",
        "verdict",
    ]
    return _table(head, [_mem_row(n, by_when) for n, by_when in by_size.items()])


def tally(*tables: str) -> str:
    text = "\n".join(tables)
    return f"{text.count('PASS')} PASS, {text.count('MISS')} MISS"
