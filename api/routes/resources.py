"""`/api/v1/resources`: effective status per resource, history, time travel."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.caching import conditional_async, conditional_body, request_key, respond
from api.deps import RuntimeDep, SnapshotDep, parse_query
from api.openapi import query_parameters
from api.problems import ProblemException
from api.redaction import Audience, AudienceDep
from api.schemas import HistoryOut, ProblemOut, ResourceOut, ResourcePage
from api.views import dumps, interval_out, ts
from facility.errors import UnknownResourceError
from facility.model import State

router = APIRouter(prefix="/api/v1", tags=["resources"])
ResourceId = Annotated[str, Path(max_length=64, description="resource id", examples=["scratch"])]
At = Annotated[
    datetime | None,
    Query(description="read the state at this past instant (time travel) instead of now"),
]
MAX_HISTORY = timedelta(days=400)


class ResourceQuery(BaseModel):
    """Query of `GET /resources`; validated only when the answer is not cached already."""

    model_config = ConfigDict(extra="ignore")

    type: str | None = Field(None, max_length=64, description="resource type")
    system: str | None = Field(None, max_length=64, description="system id")
    state: State | None = Field(None, description="effective state")
    group: str | None = Field(None, max_length=64, description="group label")
    cursor: str | None = Field(
        None, max_length=200, description="`next_cursor` of the previous page"
    )
    limit: int = Field(100, ge=1, le=1000, description="items per page")
    at: datetime | None = Field(
        None, description="read the state at this past instant (time travel)"
    )


@router.get(
    "/resources",
    response_model=ResourcePage,
    summary="Resources with their effective status",
    responses={400: {"model": ProblemOut, "description": "Invalid query parameter"}},
    openapi_extra={"parameters": query_parameters(ResourceQuery)},
)
async def list_resources(
    request: Request, rt: RuntimeDep, snap: SnapshotDep, view: AudienceDep
) -> Response:
    """Filters combine with AND; paging by cursor, in id order. A poller whose query is
    already rendered for the current version gets its answer (or 304) at once. Reasons
    and root causes are the public view without `status:read-internal`."""
    hit = rt.cache.peek(snap.version, request_key(request, view))
    if hit is not None:
        return respond(request, *hit, snap.changed_at)
    q = parse_query(ResourceQuery, request)
    after = _decode_cursor(q.cursor)
    at = _check_at(q.at, rt.clock())

    def render() -> bytes:
        rows = [r for r in _items(rt, snap, at, view) if r["id"] > after and _matches(r, q)]
        page = rows[: q.limit]
        more = len(rows) > q.limit
        return dumps(
            {"items": page, "next_cursor": _encode_cursor(page[-1]["id"]) if more else None}
        )

    return await conditional_async(
        request,
        rt.cache,
        snap.version,
        snap.changed_at,
        render,
        blocking=at is not None,
        audience=view,
    )


def _matches(r: dict[str, Any], q: ResourceQuery) -> bool:
    return (
        (q.type is None or r["type"] == q.type)
        and (q.system is None or r["system"] == q.system)
        and (q.state is None or r["state"] == q.state.value)
        and (q.group is None or r["group"] == q.group)
    )


@router.get("/resources/{resource_id}", response_model=ResourceOut, summary="One resource")
async def get_resource(
    request: Request,
    rt: RuntimeDep,
    snap: SnapshotDep,
    view: AudienceDep,
    resource_id: ResourceId,
    at: At = None,
) -> Response:
    """Reasons and root cause are the public view without `status:read-internal`."""
    _known(rt, resource_id)
    at = _check_at(at, rt.clock())

    def render() -> bytes:
        assert rt.renderer is not None
        if at is None:
            return dumps(rt.renderer.current(resource_id, snap.statuses.get(resource_id), view))
        interval = rt.store.intervals_at(at).get(resource_id)
        return dumps(rt.renderer.historic(resource_id, interval, at, view))

    return await conditional_async(
        request,
        rt.cache,
        snap.version,
        snap.changed_at,
        render,
        blocking=at is not None,
        audience=view,
    )


@router.get(
    "/resources/{resource_id}/history",
    response_model=HistoryOut,
    summary="Status intervals of one resource",
)
def get_history(
    request: Request,
    rt: RuntimeDep,
    snap: SnapshotDep,
    view: AudienceDep,
    resource_id: ResourceId,
    start: Annotated[
        datetime | None, Query(alias="from", description="default: 24 h before `to`")
    ] = None,
    end: Annotated[datetime | None, Query(alias="to", description="default: now")] = None,
) -> Response:
    """Intervals of constant state overlapping [from, to); the open one has `end: null`."""
    _known(rt, resource_id)
    now = rt.clock()
    end = _aware(end, "to") or now
    start = _aware(start, "from") or end - timedelta(days=1)
    if start >= end:
        raise ProblemException(
            400,
            "`from` must be before `to`",
            [{"field": "query.from", "message": "must be before to"}],
        )
    if end - start > MAX_HISTORY:
        raise ProblemException(
            400,
            "history range is limited to 400 days",
            [{"field": "query.from", "message": "range over 400 days"}],
        )
    intervals = rt.store.history(resource_id, start, end)
    body = {
        "resource_id": resource_id,
        "from": ts(start),
        "to": ts(end),
        "intervals": [interval_out(i, view) for i in intervals],
    }
    return conditional_body(request, dumps(body), snap.changed_at, audience=view)


def _items(rt: Any, snap: Any, at: datetime | None, view: Audience) -> list[dict[str, Any]]:
    renderer = rt.renderer
    ids = sorted(renderer.static)
    if at is None:
        return [renderer.current(rid, snap.statuses.get(rid), view) for rid in ids]
    intervals = rt.store.intervals_at(at)
    return [renderer.historic(rid, intervals.get(rid), at, view) for rid in ids]


def _known(rt: Any, resource_id: str) -> None:
    if resource_id not in rt.renderer.static:
        raise UnknownResourceError(resource_id)


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ProblemException(
            400,
            f"`{name}` needs a time zone",
            [{"field": f"query.{name}", "message": "needs a time zone, e.g. Z"}],
        )
    return value


def _check_at(at: datetime | None, now: datetime) -> datetime | None:
    at = _aware(at, "at")
    if at is not None and at > now:
        raise ProblemException(
            400,
            "`at` is in the future",
            [{"field": "query.at", "message": "must not be in the future"}],
        )
    return at


def _encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> str:
    if not cursor:
        return ""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ProblemException(
            400,
            "invalid cursor",
            [{"field": "query.cursor", "message": "not a cursor from this API"}],
        ) from exc
