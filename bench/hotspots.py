"""Summarise a py-spy `--format raw` profile: inclusive and self share per frame.

.venv/bin/py-spy record -r 200 -f raw -o /tmp/p.raw -- .venv/bin/python bench/run.py --only ingest
.venv/bin/python bench/hotspots.py /tmp/p.raw [--under service.py:ingest] [--top 25]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_LINE = re.compile(r"^(.*) (\d+)$")


def _stacks(path: Path) -> list[tuple[list[str], int]]:
    out = []
    for line in path.read_text().splitlines():
        m = _LINE.match(line)
        if m:
            out.append((m.group(1).split(";"), int(m.group(2))))
    return out


def _frame(f: str, lines: bool) -> str:
    """`ingest (/…/facility/service.py:123)` -> `facility/service.py:123 ingest`."""
    m = re.match(r"^(.*) \((.*)\)$", f)
    if not m:
        return f
    where = re.sub(r"^.*/(site-packages|work/main)/", "", m.group(2))
    return f"{where if lines else where.rsplit(':', 1)[0]} {m.group(1)}"


def summarise(path: Path, under: str | None, top: int, lines: bool = False) -> str:
    incl, own, total = Counter(), Counter(), 0
    for frames, n in _stacks(path):
        names = [_frame(f, lines) for f in frames]
        if under:
            hit = next((i for i, f in enumerate(names) if under in f), None)
            if hit is None:
                continue
            names = names[hit:]
        total += n
        for f in set(names):
            incl[f] += n
        own[names[-1]] += n
    rows = [f"{n / total:6.1%} {own[f] / total:6.1%}  {f}" for f, n in incl.most_common(top)]
    return "\n".join([f"samples {total}   incl   self", *rows])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("raw", type=Path)
    p.add_argument("--under", help="only stacks through a frame containing this text")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--lines", action="store_true", help="one row per line, not per function")
    a = p.parse_args()
    print(summarise(a.raw, a.under, a.top, a.lines))


if __name__ == "__main__":
    main()
