"""Experiment facilities' beamlines, their scheduled beamtimes, and the conflicts
between beamtimes and maintenance (`/api/v1/beamlines`, `/api/v1/conflicts`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.caching import conditional_body
from api.deps import OperatorAuth, RuntimeDep
from api.ops_schemas import BeamlineOut, BeamlinePage, ConflictPage, ImportResult
from api.ops_views import beamline_out, conflict_out
from api.views import dumps, json_response
from facility.errors import NotFoundError
from slas.beamtime_import import parse_beamtimes_ical, parse_beamtimes_yaml

router = APIRouter(prefix="/api/v1", tags=["beamlines"])
Since = Annotated[datetime | None, Query(description="from (default: now)")]
Until = Annotated[datetime | None, Query(description="until (default: +1 year)")]


@router.get("/beamlines", response_model=BeamlinePage, summary="Beamlines and their beamtimes")
def list_beamlines(
    request: Request, rt: RuntimeDep, start: Since = None, end: Until = None
) -> Response:
    """Every beamline with its bundle (what its workflow needs), the beamtimes
    scheduled in [start, end), and the maintenance conflicts of each."""
    now = rt.clock()
    lo, hi = start or now, end or now + timedelta(days=366)
    items = [beamline_out(rt, ef, bl, now, lo, hi) for ef, bl in _beamlines(rt)]
    return conditional_body(request, dumps({"items": items}), None)


@router.get("/beamlines/{beamline_id}", response_model=BeamlineOut, summary="One beamline")
def get_beamline(
    beamline_id: str, request: Request, rt: RuntimeDep, start: Since = None, end: Until = None
) -> Response:
    now = rt.clock()
    lo, hi = start or now, end or now + timedelta(days=366)
    for ef, bl in _beamlines(rt):
        if bl.id == beamline_id:
            return conditional_body(request, dumps(beamline_out(rt, ef, bl, now, lo, hi)), None)
    raise NotFoundError("beamline", beamline_id)


@router.get("/conflicts", response_model=ConflictPage, summary="Maintenance vs beamtime")
def list_conflicts(
    request: Request, rt: RuntimeDep, start: Since = None, end: Until = None
) -> Response:
    """Each maintenance occurrence that overlaps a scheduled beamtime needing one of
    its resources (directly or through a dependency), earliest first."""
    now = rt.clock()
    lo, hi = start or now, end or now + timedelta(days=366)
    items = [conflict_out(c) for c in rt.ops.conflicts(lo, hi)]
    return conditional_body(request, dumps({"items": items}), None)


@router.post(
    "/beamtimes/import",
    response_model=ImportResult,
    dependencies=[OperatorAuth],
    summary="Import a beamtime schedule (YAML or iCalendar) as one source",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/yaml": {"schema": {"type": "string"}},
                "text/calendar": {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_beamtimes(
    request: Request,
    rt: RuntimeDep,
    source: Annotated[
        str, Query(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$", description="name of the schedule")
    ],
) -> Response:
    """Replaces every beamtime previously imported under `source`; all or nothing.
    `Content-Type: text/calendar` for iCalendar, anything else is read as YAML."""
    data = await request.body()
    name = f"schedule:{source}"
    is_ical = request.headers.get("content-type", "").startswith("text/calendar")
    parse = parse_beamtimes_ical if is_ical else parse_beamtimes_yaml
    beamtimes = parse(data, name, rt.config)
    await run_in_threadpool(rt.ops.replace_beamtimes, name, beamtimes)
    body: dict[str, Any] = {"source": name, "windows": 0, "beamtimes": len(beamtimes)}
    return json_response(body)


def _beamlines(rt: Any) -> list[Any]:
    return [(ef, bl) for ef in rt.config.experiment_facilities for bl in ef.beamlines]
