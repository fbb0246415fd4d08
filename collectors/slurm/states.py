"""Slurm node states and flags mapped to facstat's node categories: the one table.

A node's state is a base (IDLE, ALLOCATED, MIXED, DOWN…) plus flags (DRAIN,
NOT_RESPONDING, MAINTENANCE…), as `sinfo --json` and `scontrol show node` report
them. `RULES` is read top to bottom; the first rule whose flag and base both match
gives the category (None matches anything).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Category(enum.StrEnum):
    IDLE = "idle"
    ALLOCATED = "allocated"
    MIXED = "mixed"
    RESERVED = "reserved"
    POWERED_DOWN = "powered_down"
    DRAINING = "draining"
    DRAINED = "drained"
    MAINT = "maint"
    REBOOTING = "rebooting"
    DOWN = "down"
    FUTURE = "future"
    UNKNOWN = "unknown"


C = Category
# (flag, base, category): first match wins.
RULES: tuple[tuple[str | None, str | None, Category], ...] = (
    ("NOT_RESPONDING", None, C.DOWN),
    (None, "DOWN", C.DOWN),
    (None, "ERROR", C.DOWN),
    ("FAIL", "IDLE", C.DRAINED),
    ("DRAIN", "IDLE", C.DRAINED),
    ("FAIL", None, C.DRAINING),
    ("DRAIN", None, C.DRAINING),
    ("REBOOT_ISSUED", None, C.REBOOTING),
    ("MAINTENANCE", None, C.MAINT),
    ("POWERING_UP", None, C.POWERED_DOWN),
    ("POWERED_DOWN", None, C.POWERED_DOWN),
    ("POWERING_DOWN", None, C.POWERED_DOWN),
    ("RESERVED", "IDLE", C.RESERVED),
    (None, "IDLE", C.IDLE),
    (None, "ALLOCATED", C.ALLOCATED),
    (None, "MIXED", C.MIXED),
    (None, "COMPLETING", C.ALLOCATED),
    (None, "FUTURE", C.FUTURE),
)

# Categories whose nodes can take new work (a powered-down node boots on demand).
USABLE = frozenset({C.IDLE, C.ALLOCATED, C.MIXED, C.RESERVED, C.POWERED_DOWN})

# Why an unusable node does not count: reason code and the words of its summary.
UNUSABLE: dict[Category, tuple[str, str]] = {
    C.DRAINED: ("nodes_drained", "drained"),
    C.DRAINING: ("nodes_drained", "drained"),
    C.DOWN: ("nodes_down", "down"),
    C.MAINT: ("nodes_maint", "in maintenance"),
    C.REBOOTING: ("nodes_unavailable", "unavailable"),
    C.FUTURE: ("nodes_unavailable", "unavailable"),
    C.UNKNOWN: ("nodes_unavailable", "unavailable"),
}


def categorize(base: str, flags: Iterable[str]) -> Category:
    """The category of a node in state `base` (e.g. "IDLE") with `flags` (e.g. {"DRAIN"})."""
    base, flagset = base.upper(), {f.upper() for f in flags}
    for flag, rule_base, category in RULES:
        if (flag is None or flag in flagset) and (rule_base is None or rule_base == base):
            return category
    return C.UNKNOWN
