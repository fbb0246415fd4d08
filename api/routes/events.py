"""`GET /api/v1/events`: the change feed, read with a cursor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.caching import conditional_async
from api.deps import RuntimeDep, SnapshotDep
from api.redaction import AudienceDep
from api.schemas import ID_MAX, EventPage
from api.views import dumps, event_out

router = APIRouter(prefix="/api/v1", tags=["events"])
MAX_CURSOR = ID_MAX  # event ids are `integer` columns


@router.get("/events", response_model=EventPage, summary="Status changes after a cursor")
async def list_events(
    request: Request,
    rt: RuntimeDep,
    snap: SnapshotDep,
    view: AudienceDep,
    after: Annotated[
        int, Query(ge=0, le=MAX_CURSOR, description="cursor: the last event's `cursor` you saw")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    resource: Annotated[
        list[str] | None, Query(max_length=100, description="only these resources")
    ] = None,
) -> Response:
    """Oldest first. Poll with `after=<next_cursor>`; an empty `items` means you are up to
    date. Without `status:read-internal`, descriptions and reasons are the public view."""

    def render() -> bytes:
        events = rt.store.events(after=after, limit=limit, resource_ids=resource)
        next_cursor = events[-1].id if events else after
        items = [event_out(e, view) for e in events]
        return dumps({"items": items, "next_cursor": next_cursor})

    return await conditional_async(
        request, rt.cache, snap.version, snap.changed_at, render, blocking=True, audience=view
    )
