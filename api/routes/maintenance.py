"""Maintenance windows: list, read, create, update, cancel, extend, import, and the
iCalendar feeds (`/api/v1/maintenance.ics`) calendar clients subscribe to."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from api import audit
from api.caching import conditional_body
from api.deps import OperatorAuth, RuntimeDep
from api.ops_schemas import (
    ImportResult,
    MaintenanceCancel,
    MaintenanceCreate,
    MaintenanceExtend,
    MaintenanceOut,
    MaintenancePage,
    MaintenanceUpdate,
)
from api.ops_views import window_out, windows_for
from api.problems import ProblemException
from api.runtime import Runtime
from api.views import dumps, json_response
from facility.errors import ConflictError
from slas.ical import maintenance_feed, parse_maintenance_calendar
from slas.maintenance import MaintenanceWindow

router = APIRouter(prefix="/api/v1", tags=["maintenance"])
NULLABLE = frozenset({"rrule", "notice_given_at"})  # null removes the recurrence / the notice
AHEAD = timedelta(days=90)  # occurrences listed by default
EARLIEST, LATEST = 1970, 2200  # occurrences are listed within these years
ICS = "text/calendar; charset=utf-8"
Resolutions = Annotated[
    list[str] | None,
    Query(max_length=5, description="only windows in these states (pending, unresolved, …)"),
]
Ids = Annotated[list[str] | None, Query(max_length=100)]


@router.get("/maintenance", response_model=MaintenancePage, summary="Maintenance windows")
def list_maintenance(
    request: Request,
    rt: RuntimeDep,
    resource: Ids = None,
    system: Ids = None,
    resolution: Resolutions = None,
    start: Annotated[datetime | None, Query(description="occurrences from (default: now)")] = None,
    end: Annotated[
        datetime | None, Query(description="occurrences until (default: +90 days)")
    ] = None,
) -> Response:
    """Every window (one-off and recurring, from every source) with its occurrences in
    [start, end), notice check, DOE IRI resolution and beamtime conflicts."""
    now = rt.clock()
    lo, hi = start or now, end or now + AHEAD
    for name, t in (("start", lo), ("end", hi)):
        if not EARLIEST <= t.year <= LATEST:
            message = f"must be between {EARLIEST} and {LATEST}"
            raise ProblemException(
                400, f"{name} {message}", [{"field": f"query.{name}", "message": message}]
            )
        if t.tzinfo is None:
            raise ProblemException(
                400,
                f"{name} needs a time zone",
                [{"field": f"query.{name}", "message": "needs a time zone"}],
            )
    found = windows_for(rt, resource, system)
    items = [window_out(rt, w, now, lo, hi) for w in found]
    items = [i for i in items if resolution is None or i["resolution"] in resolution]
    return conditional_body(request, dumps({"items": items}), None)


@router.get("/maintenance.ics", summary="Maintenance windows as an iCalendar feed")
def maintenance_ics(
    request: Request, rt: RuntimeDep, resource: Ids = None, system: Ids = None
) -> Response:
    """Subscribe to it in a calendar client; filter by `system` or `resource`."""
    found = windows_for(rt, resource, system)  # cancelled ones too: clients then drop them
    name = _feed_name(rt, resource, system)
    body = maintenance_feed(found, name, rt.clock())
    return conditional_body(request, body, None, media_type=ICS)


@router.get(
    "/maintenance/{window_id}", response_model=MaintenanceOut, summary="One maintenance window"
)
def get_maintenance(window_id: str, rt: RuntimeDep) -> Response:
    now = rt.clock()
    w = rt.ops.window(window_id)
    return json_response(_out(rt, w, now))


@router.post(
    "/maintenance",
    response_model=MaintenanceOut,
    status_code=201,
    dependencies=[OperatorAuth],
    summary="Create a maintenance window",
)
async def create_maintenance(body: MaintenanceCreate, rt: RuntimeDep, request: Request) -> Response:
    now = rt.clock()
    window = MaintenanceWindow(
        id=body.id or f"mw-{uuid.uuid4().hex[:12]}",
        title=body.title,
        description=body.description,
        resources=tuple(body.resources),
        effect=body.effect,
        kind=body.kind,
        start=body.start,
        end=body.end,
        timezone=body.timezone,
        rrule=body.rrule,
        exdates=tuple(body.exdates),
        notice_given_at=body.notice_given_at or now,
        source="api",
        created_at=now,
        updated_at=now,
    )
    created = await run_in_threadpool(rt.ops.create, window)
    audit.record(request, before=None, after=created, target=created.id)
    out = _out(rt, created, now)
    headers = {"Location": f"/api/v1/maintenance/{created.id}"}
    return json_response(out, status.HTTP_201_CREATED, headers)


@router.patch(
    "/maintenance/{window_id}",
    response_model=MaintenanceOut,
    dependencies=[OperatorAuth],
    summary="Change a maintenance window",
)
async def update_maintenance(
    window_id: str, body: MaintenanceUpdate, rt: RuntimeDep, request: Request
) -> Response:
    """Only the fields given change; `sequence` guards against lost updates."""
    now = rt.clock()
    fields: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"sequence"})
    nulls = [k for k, v in fields.items() if v is None and k not in NULLABLE]
    if nulls:
        errors = [{"field": f"body.{k}", "message": "may not be null"} for k in nulls]
        raise ProblemException(422, "fields that may not be null", errors)
    for key in ("resources", "exdates"):
        if key in fields:
            fields[key] = tuple(fields[key])

    def change(w: MaintenanceWindow) -> MaintenanceWindow:
        return replace(w, **fields, updated_at=now)

    return await _change(request, rt, window_id, change, body.sequence, now)


@router.post(
    "/maintenance/{window_id}/cancel",
    response_model=MaintenanceOut,
    dependencies=[OperatorAuth],
    summary="Cancel a maintenance window",
)
async def cancel_maintenance(
    window_id: str, rt: RuntimeDep, request: Request, body: MaintenanceCancel | None = None
) -> Response:
    now = rt.clock()

    def change(w: MaintenanceWindow) -> MaintenanceWindow:
        if w.cancelled:
            raise ConflictError(f"window {w.id!r} is already cancelled", "cancelled")
        return replace(w, cancelled=True, updated_at=now)

    return await _change(request, rt, window_id, change, body.sequence if body else None, now)


@router.post(
    "/maintenance/{window_id}/extend",
    response_model=MaintenanceOut,
    dependencies=[OperatorAuth],
    summary="Extend the current or last occurrence",
)
async def extend_maintenance(
    window_id: str, body: MaintenanceExtend, rt: RuntimeDep, request: Request
) -> Response:
    now = rt.clock()

    def change(w: MaintenanceWindow) -> MaintenanceWindow:
        if w.cancelled:
            raise ConflictError(f"window {w.id!r} is cancelled; it cannot be extended", "until")
        return replace(w, extended_until=body.until, updated_at=now)

    return await _change(request, rt, window_id, change, body.sequence, now)


@router.post(
    "/maintenance/import",
    response_model=ImportResult,
    dependencies=[OperatorAuth],
    summary="Import an iCalendar document as one source",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/calendar": {"schema": {"type": "string"}}},
        }
    },
)
async def import_maintenance(
    request: Request,
    rt: RuntimeDep,
    source: Annotated[
        str, Query(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$", description="name of the calendar")
    ],
) -> Response:
    """Replaces every window previously imported under `source`; all or nothing."""
    data = await request.body()
    name = f"ical:{source}"
    windows = parse_maintenance_calendar(data, name, set(rt.ops.known))
    before = [w.id for w in rt.ops.windows() if w.source == name]
    await run_in_threadpool(rt.ops.replace_source, name, windows)
    after = {"source": name, "windows": [w.id for w in windows]}
    audit.record(request, before={"source": name, "windows": before}, after=after, target=name)
    return json_response({"source": name, "windows": len(windows), "beamtimes": 0})


async def _change(
    request: Request, rt: Runtime, window_id: str, change: Any, sequence: int | None, now: datetime
) -> Response:
    current = rt.ops.window(window_id)
    audit.record(request, before=current)
    if current.source != "api":
        raise ProblemException(
            409,
            f"window {window_id!r} is managed by its source {current.source!r}; change it there",
        )
    new = await run_in_threadpool(rt.ops.update, window_id, change, sequence)
    audit.record(request, after=new)
    return json_response(_out(rt, new, now))


def _feed_name(rt: Runtime, resource: list[str] | None, system: list[str] | None) -> str:
    what = ", ".join([*(system or ()), *(resource or ())]) or "all resources"
    return f"{rt.config.facility.name} maintenance ({what})"


def _out(rt: Runtime, w: MaintenanceWindow, now: datetime) -> dict[str, Any]:
    """One window with its occurrences over the default span ahead."""
    return window_out(rt, w, now, now, now + AHEAD)
