"""The SLA pages: every SLA this period, and one SLA over its recent periods.

    GET /slas              each SLA: availability this period, budget left, burning or not
    GET /fragments/slas    the same table alone, refreshed every minute (`?refresh=N`)
    GET /slas/{id}         this period's buckets, budget and burn rates against their
                           thresholds; the past periods; a CSV download of them

Reports come from `SlaService` (the same figures as `GET /api/v1/slas/{id}`); the
view-models are in `api.pages.sla_view`. An unknown SLA is a 404 page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import RuntimeDep
from api.pages.fragments import Poll, layout, problem, refresh_knob
from api.pages.sla_view import PERIODS, SlaDetail, SlaSummary, sla_detail, sla_summary
from api.runtime import Runtime
from api.web import page
from slas.calendars import period_at

router = APIRouter(include_in_schema=False)
EVERY = 60  # seconds between refreshes of the SLA table


def summaries(rt: Runtime, now: datetime) -> list[SlaSummary]:
    version = rt.service.snapshot(now).version
    return [
        sla_summary(s, rt.sla_service.report(s, period_at(s, now), now, version), now)
        for s in rt.sla_service.slas.values()
    ]


def detail(rt: Runtime, sla_id: str, now: datetime) -> SlaDetail | None:
    sla = rt.sla_service.slas.get(sla_id)
    if sla is None:
        return None
    reports = rt.sla_service.past(sla, now, PERIODS, rt.service.snapshot(now).version)
    return sla_detail(sla, reports, now)


def _context(rt: Runtime, now: datetime, refresh: str | None) -> dict[str, Any]:
    knob = refresh_knob(refresh)
    url = "/fragments/slas" + ("" if knob is None else f"?refresh={knob}")
    return {**layout(rt.config.facility.name, now, "slas"), "poll": Poll(url, knob or EVERY)}


@router.get("/slas", response_class=HTMLResponse)
def slas_page(request: Request, rt: RuntimeDep, refresh: str | None = None) -> HTMLResponse:
    now = rt.clock()
    ctx = {**_context(rt, now, refresh), "slas": summaries(rt, now)}
    return page(request, "sla_list.html", ctx)


@router.get("/fragments/slas", response_class=HTMLResponse)
def slas_fragment(request: Request, rt: RuntimeDep, refresh: str | None = None) -> HTMLResponse:
    now = rt.clock()
    ctx = {**_context(rt, now, refresh), "slas": summaries(rt, now)}
    return page(request, "_sla_table.html", ctx)


@router.get("/slas/{sla_id}", response_class=HTMLResponse)
def sla_page(request: Request, rt: RuntimeDep, sla_id: str) -> HTMLResponse:
    now = rt.clock()
    ctx: dict[str, Any] = {**layout(rt.config.facility.name, now, "slas")}
    found = detail(rt, sla_id, now)
    if found is None:
        ctx["problem"] = problem("Unknown SLA", f"There is no SLA {sla_id!r}.")
        return page(request, "sla_detail.html", ctx, status=404)
    ctx["sla"] = found
    return page(request, "sla_detail.html", ctx)
