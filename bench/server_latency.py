"""Server-side latency from facstat's own histogram (`facstat_http_request_duration_seconds`).

wrk's percentiles include time the client waited for CPU; on a shared machine that
can dominate the tail. The server's histogram, scraped from /metrics before and
after a run, bounds the server's own p99 by a bucket edge (1, 2.5, 5, 10, 25, 50 ms…).
It starts when the request reaches the ASGI app, so it excludes event-loop queueing.
"""

from __future__ import annotations

import math

import httpx
from prometheus_client.parser import text_string_to_metric_families

from facility.metric_names import HTTP_REQUEST_DURATION

Buckets = dict[float, float]


def scrape(base_url: str, route: str) -> Buckets:
    """Cumulative bucket counts of GET `route` (a route template, no query)."""
    text = httpx.get(base_url + "/metrics", timeout=60).text
    out: Buckets = {}
    for family in text_string_to_metric_families(text):
        if family.name != HTTP_REQUEST_DURATION:
            continue
        for s in family.samples:
            if s.name.endswith("_bucket") and s.labels.get("route") == route:
                out[float(s.labels["le"])] = s.value
    return out


def p99_bound(before: Buckets, after: Buckets) -> float | None:
    """The smallest bucket edge (seconds) under which 99 % of the run's requests fell."""
    delta = {le: after.get(le, 0) - before.get(le, 0) for le in after}
    total = delta.get(math.inf, 0)
    if total <= 0:
        return None
    return min(le for le, n in delta.items() if n >= 0.99 * total)
