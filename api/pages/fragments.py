"""What every page shares: the layout's context, and how fragments poll.

A page is rendered whole (it works without JavaScript); each of its live parts is
also served alone under `/fragments/…` and carries `hx-get` + `hx-trigger="every Ns"`
+ `hx-swap="outerHTML"`, so htmx replaces it with a fresh copy that polls again.

The polling interval of every fragment can be set with `?refresh=N` (seconds,
1–3600) on the page: the fragments' URLs carry it on, so the page keeps that pace
(tests use `?refresh=1`). A value that is not a number in range is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

EVERY = {"status": 10, "incidents": 30, "maintenance": 60, "uptime": 300}  # seconds
REFRESH_MIN, REFRESH_MAX = 1, 3600


@dataclass(frozen=True, slots=True)
class Poll:
    url: str  # "/fragments/status?refresh=2"
    every: int  # seconds


def refresh_knob(raw: str | None) -> int | None:
    """`?refresh=N` as seconds, or None when absent or not a number in range."""
    if raw is None or not raw.strip().isdigit():
        return None
    value = int(raw)
    return value if REFRESH_MIN <= value <= REFRESH_MAX else None


def polls(knob: int | None) -> dict[str, Poll]:
    """Each fragment's URL and interval; the knob overrides every interval."""
    query = "" if knob is None else f"?refresh={knob}"
    return {name: Poll(f"/fragments/{name}{query}", knob or every) for name, every in EVERY.items()}


def layout(facility_name: str, now: datetime, nav: str) -> dict[str, Any]:
    """What `base.html` needs."""
    return {"facility_name": facility_name, "now": now, "nav": nav}


def problem(title: str, detail: str) -> dict[str, str]:
    """An error shown on the page itself (`_public_problem.html`)."""
    return {"title": title, "detail": detail}
