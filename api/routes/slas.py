"""SLA reports: `GET /api/v1/slas`, `/api/v1/slas/{sla}?period=…`, and CSV exports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.caching import conditional_body
from api.deps import RuntimeDep, SnapshotDep
from api.ops_schemas import SlaPage, SlaReportOut
from api.sla_views import report_out, reports_csv
from api.views import dumps
from slas.calendars import period_at

router = APIRouter(prefix="/api/v1", tags=["slas"])
PeriodQ = Annotated[
    str,
    Query(max_length=16, description="current, previous, or YYYY-MM (calendar-month SLAs)"),
]


@router.get("/slas", response_model=SlaPage, summary="Every SLA, this period")
async def list_slas(request: Request, rt: RuntimeDep, snap: SnapshotDep) -> Response:
    """Availability, buckets, error budget and burn rates of each SLA's current period."""
    now = rt.clock()

    def render() -> bytes:
        items = [
            report_out(s, rt.sla_service.report(s, period_at(s, now), now, snap.version))
            for s in rt.sla_service.slas.values()
        ]
        return dumps({"items": items})

    return conditional_body(request, await run_in_threadpool(render), None)


@router.get("/slas/{sla_id}", response_model=SlaReportOut, summary="One SLA over one period")
async def get_sla(
    sla_id: str, request: Request, rt: RuntimeDep, snap: SnapshotDep, period: PeriodQ = "current"
) -> Response:
    now = rt.clock()
    sla = rt.sla_service.sla(sla_id)
    chosen = rt.sla_service.period(sla, period, now)

    def render() -> bytes:
        return dumps(report_out(sla, rt.sla_service.report(sla, chosen, now, snap.version)))

    return conditional_body(request, await run_in_threadpool(render), None)


@router.get(
    "/slas/{sla_id}/report.csv",
    summary="One SLA over its recent periods, as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def get_sla_csv(
    sla_id: str,
    request: Request,
    rt: RuntimeDep,
    snap: SnapshotDep,
    periods: Annotated[int, Query(ge=1, le=36, description="how many periods, newest first")] = 12,
) -> Response:
    """One row per period with every bucket in seconds (service hours only)."""
    now = rt.clock()
    sla = rt.sla_service.sla(sla_id)
    reports = await run_in_threadpool(rt.sla_service.past, sla, now, periods, snap.version)
    body = reports_csv(sla, reports).encode()
    response = conditional_body(request, body, None, media_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{sla.id}.csv"'
    return response
