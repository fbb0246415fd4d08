"""Slurm's small formats, read without fuss: numbers with units or "N/A", epoch and
zone-less times, hostlists (`node[01-04]`), gres strings (`gpu:a100:4(S:0-1)`), array
specs (`1-9:2%4`), and the `Key=value` records of `scontrol -o`. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from typing import Any

_KEY = re.compile(r"^[A-Z][A-Za-z0-9_/:]*=")


def to_int(value: Any, default: int = 0) -> int:
    """An int from Slurm's numbers, "N/A", "UNLIMITED", None or "4000M"."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    m = re.match(r"^\s*(\d+)", str(value)) if value is not None else None
    return int(m.group(1)) if m else default


def epoch(value: Any) -> int | None:
    """Epoch seconds from Slurm's times (0, "N/A", "Unknown" or None: no time)."""
    seconds = to_int(value)
    return seconds if seconds > 0 else None


def from_epoch(value: Any) -> datetime | None:
    seconds = epoch(value)
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def local_time(value: str | None, tz: tzinfo) -> datetime | None:
    """scontrol's `2026-11-21T12:11:11` (in the command's zone); None for Unknown/None."""
    try:
        return datetime.fromisoformat(value or "").replace(tzinfo=tz)
    except ValueError:
        return None


def split_top(text: str, sep: str = ",") -> list[str]:
    """`text` split at `sep` outside brackets and parentheses."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch in "[(") - (ch in "])")
        if ch == sep and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return [p for p in [*parts, cur] if p]


def expand_hostlist(text: str | None) -> tuple[str, ...]:
    """`node[01-03,7],gpu1` → node01, node02, node03, node7, gpu1."""
    if not text or text in ("(null)", "N/A"):
        return ()
    return tuple(name for part in split_top(text) for name in _expand_one(part))


def _expand_one(part: str) -> Iterator[str]:
    m = re.match(r"^(?P<pre>[^\[]*)\[(?P<ranges>[^\]]*)\](?P<post>.*)$", part)
    if not m:
        yield part
        return
    for rng in m["ranges"].split(","):
        lo, _, hi = rng.partition("-")
        for i in range(int(lo), int(hi or lo) + 1):
            yield from _expand_one(f"{m['pre']}{str(i).zfill(len(lo))}{m['post']}")


def gres_count(text: str | None, name: str = "gpu") -> int:
    """GPUs in a gres string: `gpu:2`, `gpu:a100:4(S:0-1)`, `gpu:a100:2(IDX:0-1),nic:1`."""
    total = 0
    for item in split_top(text or ""):
        fields = re.sub(r"\(.*\)$", "", item).split(":")
        if fields[0] == name and len(fields) > 1:
            total += to_int(fields[-1])
    return total


def array_size(text: str) -> int:
    """Tasks in an array spec: `2-6` → 5, `1,3,5-7` → 5, `1-9:2` → 5, `1-100%10` → 100."""
    total = 0
    for rng in text.split("%")[0].split(","):
        span, _, step = rng.partition(":")
        lo, _, hi = span.partition("-")
        if lo.isdigit() and (hi or lo).isdigit():
            total += len(range(int(lo), int(hi or lo) + 1, max(to_int(step, 1), 1)))
    return max(total, 1)


def key_values(line: str) -> dict[str, str]:
    """One `scontrol -o` record. A word without `Key=` continues the previous value,
    so values with spaces (`Reason=bad DIMM [root@…]`, `OS=Linux 6.1 #1 SMP`) survive."""
    out: dict[str, str] = {}
    key = None
    for word in line.split(" "):
        if _KEY.match(word):
            key, _, value = word.partition("=")
            out[key] = value
        elif key is not None and word:
            out[key] = f"{out[key]} {word}".strip()
    return out


def records(text: str, first_key: str) -> Iterator[dict[str, str]]:
    for line in text.splitlines():
        if line.startswith(f"{first_key}="):
            yield key_values(line)


def node_state(text: str) -> tuple[str, frozenset[str]]:
    """`IDLE+DRAIN` → ("IDLE", {"DRAIN"}); sinfo's trailing `*` means not responding."""
    words = text.upper().split("+")
    flags = set(words[1:])
    if words[0].endswith("*"):
        flags.add("NOT_RESPONDING")
    return words[0].rstrip("*~#!%$@^-"), frozenset(flags)
