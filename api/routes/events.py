"""`GET /api/v1/events`: the change feed, read with a cursor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.caching import conditional_async
from api.deps import RuntimeDep, SnapshotDep
from api.schemas import EventPage
from api.views import dumps, event_out

router = APIRouter(prefix="/api/v1", tags=["events"])


@router.get("/events", response_model=EventPage, summary="Status changes after a cursor")
async def list_events(
    request: Request,
    rt: RuntimeDep,
    snap: SnapshotDep,
    after: Annotated[int, Query(ge=0, description="cursor: the last event's `cursor` you saw")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    resource: Annotated[
        list[str] | None, Query(max_length=100, description="only these resources")
    ] = None,
) -> Response:
    """Oldest first. Poll with `after=<next_cursor>`; an empty `items` means you are up to date."""

    def render() -> bytes:
        events = rt.store.events(after=after, limit=limit, resource_ids=resource)
        next_cursor = events[-1].id if events else after
        return dumps({"items": [event_out(e) for e in events], "next_cursor": next_cursor})

    return await conditional_async(
        request, rt.cache, snap.version, snap.changed_at, render, blocking=True
    )
