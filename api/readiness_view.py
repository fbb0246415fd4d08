"""Gathers what readiness needs to know about each resource (an adapter between the
runtime's state and the pure `slas.readiness`), and renders its answers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from api.problems import ProblemException
from api.redaction import public_statuses
from api.runtime import Runtime
from api.views import ts
from facility.config import Beamline, BundleNeed
from facility.errors import NotFoundError, UnknownResourceError
from slas.maintenance import occurrences
from slas.readiness import Assessment, Facts, Need, Planned, WalltimeAnswer

PARTITION = "urn:facstat:partition"
RECENT = 50  # observations read per resource to find its latest measured values


def beamline(rt: Runtime, beamline_id: str) -> Beamline:
    for ef in rt.config.experiment_facilities:
        for bl in ef.beamlines:
            if bl.id == beamline_id:
                return bl
    raise NotFoundError("beamline", beamline_id)


def needs_of(rt: Runtime, bundle: Iterable[BundleNeed]) -> list[Need]:
    """The bundle's needs, then every resource they depend on (a plain need each)."""
    own = [Need(n.resource, n.nodes, n.bandwidth_gbps, n.free_space_tb, n.note) for n in bundle]
    listed = {n.resource_id for n in own}
    deps = sorted(rt.ops.beamtime_needs_of(listed) - listed)
    return own + [Need(rid, note="a dependency of the bundle") for rid in deps]


def parse_need(rt: Runtime, text: str) -> BundleNeed:
    """`resource[:key=value,...]`, e.g. `borealis-batch:nodes=16`."""
    rid, _, rest = text.partition(":")
    if rid not in rt.config.resources_by_id():
        raise UnknownResourceError(rid)
    fields: dict[str, Any] = {"resource": rid}
    for part in filter(None, rest.split(",")):
        key, _, value = part.partition("=")
        fields[key.strip()] = value.strip()
    try:
        return BundleNeed.model_validate(fields)
    except ValidationError as exc:
        errors = [
            {
                "field": "query.need",
                "message": f"{text!r}: {'.'.join(map(str, e['loc']))}: {e['msg']}",
            }
            for e in exc.errors(include_url=False)
        ]
        raise ProblemException(400, f"invalid need {text!r}", errors) from exc


def facts(
    rt: Runtime, needs: Iterable[Need], start: datetime, end: datetime, internal: bool = False
) -> dict[str, Facts]:
    """What readiness needs per resource; the public view's statuses (reasons without
    node names or raw errors) unless `internal`."""
    now = rt.clock()
    statuses = rt.service.snapshot(now).statuses
    statuses = statuses if internal else public_statuses(statuses)
    reservations = rt.ops.reservations()
    by_id = rt.config.resources_by_id()
    out: dict[str, Facts] = {}
    for need in needs:
        rid = need.resource_id
        out[rid] = Facts(
            status=statuses.get(rid),
            values=latest_values(rt, rid),
            maintenance=tuple(planned(rt, [rid], start, end)),
            reservations=tuple(
                r for r in reservations if rid in r.resources and r.start <= start and r.end >= end
            ),
            budget_remaining=rt.budget_remaining(rid, now),
            is_partition=by_id[rid].type == PARTITION,
        )
    return out


def latest_values(rt: Runtime, rid: str) -> dict[str, float]:
    """Each measured value as last seen (a value not measured every cycle, like link
    throughput, comes from the last observation that had it)."""
    values: dict[str, float] = {}
    for row in rt.store.observations(rid, RECENT):
        for key, value in row["values"].items():
            values.setdefault(key, value)
    return values


def planned(rt: Runtime, rids: Iterable[str], start: datetime, end: datetime) -> list[Planned]:
    wanted = set(rids)
    found = [
        Planned(o.window_id, o.window.title, o.start, o.end, o.window.effect)
        for w in rt.ops.windows()
        if not w.cancelled and wanted & set(w.resources)
        for o in occurrences(w, start, end)
    ]
    return sorted(found, key=lambda p: (p.start, p.window_id))


def queue_wait(rt: Runtime, partition: str) -> tuple[timedelta, str]:
    values = latest_values(rt, partition)
    if "recent_start_wait_seconds" in values:
        wait = timedelta(seconds=values["recent_start_wait_seconds"])
        return wait, "the wait of recently started jobs on the partition"
    return timedelta(0), "no queue wait measured yet: assumed none"


def assessment_out(a: Assessment, subject: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **subject,
        "verdict": a.verdict.value,
        "start": ts(a.start),
        "end": ts(a.end),
        "lines": [
            {
                "resource_id": ln.resource_id,
                "verdict": ln.verdict.value,
                "note": ln.note,
                "checks": [
                    {"name": c.name, "verdict": c.verdict.value, "message": c.message}
                    for c in ln.checks
                ],
            }
            for ln in a.lines
        ],
    }


def walltime_out(ans: WalltimeAnswer, partition: str, wait_basis: str) -> dict[str, Any]:
    nxt = ans.next_maintenance
    return {
        "partition": partition,
        "fits": ans.fits,
        "expected_start": ts(ans.expected_start),
        "expected_end": ts(ans.expected_end),
        "queue_wait_basis": wait_basis,
        "latest_submit": ts(ans.latest_submit),
        "next_maintenance": None
        if nxt is None
        else {
            "window_id": nxt.window_id,
            "title": nxt.title,
            "start": ts(nxt.start),
            "end": ts(nxt.end),
        },
        "message": ans.message,
    }
