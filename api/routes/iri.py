"""The DOE IRI Facility API: `/api/{v1,v2}/status/...` and `/api/{v1,v2}/facility...`.

Public reads (no token). Lists are bare JSON arrays sorted by id (events: oldest
first), paged by `offset`/`limit`; errors are RFC 9457 problems. Every read honours
ETag/If-None-Match and If-Modified-Since; `modified_since` keeps objects changed
strictly after it and answers `304` when nothing is left (docs/iri-facts.md §8).
Incidents: maintenance windows appear as incidents of type `planned` (`reservation`
for a scheduler's MAINT reservation), facstat's own incidents (outages, silent
collectors, Alertmanager alerts) as `unplanned` ones with ids `inc-<n>`; a status
event links to the unplanned incident that impacted its resource at its time.

No `from __future__ import annotations` here: the endpoint factories give each API
version its own query types, which FastAPI reads from the evaluated annotations.
"""

import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import islice
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request, Response
from pydantic import AwareDatetime, StringConstraints

from api import iri
from api.caching import conditional, conditional_body
from api.deps import RuntimeDep, SnapshotDep
from api.iri_schemas import (
    MODELS,
    P_ALLOC,
    P_RT,
    AllocationUnit,
    IncidentType,
    Problem,
    Resolution,
    ResourceType,
    Status,
)
from api.problems import ProblemException
from api.redaction import INTERNAL, PUBLIC, Audience, AudienceDep, public_event, public_incident
from api.runtime import Runtime
from api.schemas import ID_MAX
from api.views import dumps
from facility.service import Snapshot
from facility.store import EventRecord, Store

Text = Annotated[str | None, Query(min_length=1)]
Since = Annotated[AwareDatetime | None, Query(description="only objects modified after this")]
Instant = Annotated[AwareDatetime | None, Query()]
From = Annotated[AwareDatetime | None, Query(alias="from")]
Offset = Annotated[int, Query(ge=0, le=ID_MAX)]
Limit = Annotated[int, Query(ge=0, le=1000)]
StatusQ = Annotated[Status | None, Query()]
TypeV1 = Annotated[ResourceType | None, Query()]
TypeV2 = Annotated[
    str | None,
    Query(min_length=15, pattern=P_RT, description="resource-type URN; matches its sub-types"),
]
CapV1 = Annotated[list[AllocationUnit] | None, Query(min_length=1)]
AllocUrn = Annotated[str, StringConstraints(min_length=24, pattern=P_ALLOC)]
CapV2 = Annotated[list[AllocUrn] | None, Query(min_length=1)]
Render = Callable[[], bytes]
NOT_MODIFIED = b""  # rendered in place of a body when `modified_since` leaves nothing
SCAN_BATCH = 500
MAX_INCIDENTS = 1000  # the most recent incidents projected into the IRI API
VERSIONS: tuple[iri.Version, ...] = ("v1", "v2")
ERRORS: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not Modified"},
    400: {"model": Problem, "description": "Invalid request parameters"},
    404: {"model": Problem, "description": "Not Found"},
}


def include(app: FastAPI) -> None:
    """Serve both versions; their `last_modified` for static objects is the load time."""
    rt: Runtime = app.state.runtime
    loaded_at = rt.clock()
    for version in VERSIONS:
        ctx = iri.Context(rt.config, rt.settings.base_url, version, loaded_at)
        app.include_router(_router(ctx))


# -- responses ------------------------------------------------------------------------


def _respond(
    request: Request, rt: Runtime, version: int, at: datetime, render: Render, view: Audience
) -> Response:
    """`conditional()`, plus `304` when the render says nothing was modified."""
    response = conditional(request, rt.cache, version, at, render, audience=view)
    if response.status_code != 200 or response.body != NOT_MODIFIED:
        return response
    keep = ("etag", "last-modified", "cache-control")
    return Response(status_code=304, headers={k: response.headers[k] for k in keep})


def _page(docs: list[iri.Doc], offset: int, limit: int, since: datetime | None) -> bytes:
    if since is not None and not docs:
        return NOT_MODIFIED
    return dumps(docs[offset : offset + limit])


def _one(doc: iri.Doc, since: datetime | None) -> bytes:
    check = iri.newer(since)
    return NOT_MODIFIED if check is not None and not check(doc) else dumps(doc)


def _not_found(kind: str, id_: str) -> ProblemException:
    return ProblemException(404, f"unknown {kind} {id_!r}")


# -- status: resources ----------------------------------------------------------------


def _resources(ctx: iri.Context, snap: Snapshot) -> list[iri.Doc]:
    rs = sorted(ctx.config.resources, key=lambda r: r.id)
    return [iri.resource(ctx, r, snap.statuses.get(r.id)) for r in rs]


def _list_resources(ctx: iri.Context) -> Callable[..., Response]:
    rtype, cap = (TypeV1, CapV1) if ctx.version == "v1" else (TypeV2, CapV2)

    def get_resources(
        request: Request,
        rt: RuntimeDep,
        snap: SnapshotDep,
        name: Text = None,
        description: Text = None,
        group: Text = None,
        offset: Offset = 0,
        limit: Limit = 100,
        modified_since: Since = None,
        resource_type: rtype = None,  # type: ignore[valid-type]
        current_status: StatusQ = None,
        capability: cap = None,  # type: ignore[valid-type]
    ) -> Response:
        checks = [
            iri.equal("name", name),
            iri.contains("description", description),
            iri.equal("group", group),
            iri.type_check(resource_type),
            iri.equal("current_status", current_status),
            iri.newer(modified_since),
            iri.with_capability(capability, {}),  # facstat models no capabilities yet
        ]

        def render() -> bytes:
            docs = iri.select(_resources(ctx, snap), checks)
            return _page(docs, offset, limit, modified_since)

        return _respond(request, rt, snap.version, snap.changed_at, render, PUBLIC)

    return get_resources


def _get_resource(ctx: iri.Context) -> Callable[..., Response]:
    def get_resource(
        request: Request, rt: RuntimeDep, snap: SnapshotDep, resource_id: str
    ) -> Response:
        def render() -> bytes:
            r = ctx.config.resources_by_id().get(resource_id)
            if r is None:
                raise _not_found("resource", resource_id)
            return dumps(iri.resource(ctx, r, snap.statuses.get(resource_id)))

        return _respond(request, rt, snap.version, snap.changed_at, render, PUBLIC)

    return get_resource


# -- status: incidents (maintenance windows, as planned incidents) -----------------------


def _list_incidents(ctx: iri.Context) -> Callable[..., Response]:
    def get_incidents(
        request: Request,
        rt: RuntimeDep,
        snap: SnapshotDep,
        view: AudienceDep,
        name: Text = None,
        description: Text = None,
        status: StatusQ = None,
        type: Annotated[IncidentType | None, Query()] = None,
        from_: From = None,
        time: Instant = None,
        to: Instant = None,
        modified_since: Since = None,
        resource_id: Text = None,
        offset: Offset = 0,
        limit: Limit = 100,
        resolution: Annotated[Resolution | None, Query()] = None,
    ) -> Response:
        now = rt.clock()
        resource = ctx.uri("status", "resources", resource_id) if resource_id else None
        checks = [
            iri.equal("name", name),
            iri.contains("description", description),
            iri.equal("status", status),
            iri.equal("type", type),
            iri.equal("resolution", resolution),
            iri.about(resource),
            iri.overlaps(time or from_, time or to),
            iri.newer(modified_since),
        ]
        docs = iri.select(_incidents(ctx, rt, now, view), checks)
        return _fresh(request, _page(docs, offset, limit, modified_since), view)

    return get_incidents


def _get_incident(ctx: iri.Context) -> Callable[..., Response]:
    def get_incident(
        request: Request, rt: RuntimeDep, view: AudienceDep, incident_id: str
    ) -> Response:
        for doc in _incidents(ctx, rt, rt.clock(), view):
            if doc["id"] == incident_id:
                return _fresh(request, dumps(doc), view)
        raise _not_found("incident", incident_id)

    return get_incident


def _incidents(ctx: iri.Context, rt: Runtime, now: datetime, view: Audience) -> list[iri.Doc]:
    """Maintenance windows (planned) and facstat's incidents (unplanned), by id; the
    public view cuts an alert's title to the alert's name (`api.redaction`)."""
    planned = [iri.maintenance_incident(ctx, w, now) for w in rt.ops.windows()]
    unplanned = [
        iri.unplanned_incident(ctx, _shown(inc, view), _event_ids(rt, inc))
        for inc in rt.incidents.store.incidents(limit=MAX_INCIDENTS)
        if inc.kind in ("outage", "collector", "alert")
    ]
    return sorted(planned + unplanned, key=lambda d: d["id"])


def _shown(inc: Any, view: Audience) -> Any:
    return inc if view == INTERNAL else public_incident(inc)


def _event_ids(rt: Runtime, inc: Any) -> list[str]:
    """Status changes of the resources an incident impacted, while it was open."""
    if not inc.impacted:
        return []
    rows = rt.store.events(
        0, SCAN_BATCH, list(inc.impacted), since=inc.opened_at, until=inc.resolved_at
    )
    return [e.uuid for e in rows if e.kind == iri.STATUS_CHANGED]


def _fresh(request: Request, body: bytes, view: Audience) -> Response:
    """A body that depends on the clock as well as the store: validated by its own
    ETag rather than cached per store version."""
    if body == NOT_MODIFIED:
        return Response(status_code=304)
    return conditional_body(request, body, None, audience=view)


# -- status: events -------------------------------------------------------------------


def _scan(
    store: Store, resource_id: str | None, since: datetime | None, until: datetime | None
) -> Iterator[EventRecord]:
    """Stored events oldest first, read in batches so paging never loads the whole table."""
    after, ids = 0, None if resource_id is None else [resource_id]
    while True:
        batch = store.events(after, SCAN_BATCH, ids, since=since, until=until)
        yield from batch
        if len(batch) < SCAN_BATCH:
            return
        after = batch[-1].id


Bound = datetime | None


def _window(*, lower: list[Bound], upper: list[Bound]) -> tuple[Bound, Bound]:
    """The tightest [since, until] the store can filter on (`None`: unbounded)."""
    lo = [t for t in lower if t is not None]
    hi = [t for t in upper if t is not None]
    return (max(lo) if lo else None), (min(hi) if hi else None)


def _list_events(ctx: iri.Context) -> Callable[..., Response]:
    def get_events(
        request: Request,
        rt: RuntimeDep,
        snap: SnapshotDep,
        view: AudienceDep,
        incident_id: Text = None,
        resource_id: Text = None,
        name: Text = None,
        description: Text = None,
        status: StatusQ = None,
        from_: From = None,
        time: Instant = None,
        to: Instant = None,
        modified_since: Since = None,
        offset: Offset = 0,
        limit: Limit = 100,
    ) -> Response:
        """`from`/`to` bound `occurred_at` (inclusive); `time` asks for events at that instant.
        Descriptions are the public view without `status:read-internal` (and the
        `description` filter sees only what the caller may see)."""
        since, until = _window(lower=[from_, time, modified_since], upper=[to, time])
        incident = ctx.uri("status", "incidents", incident_id) if incident_id else None
        checks = [
            iri.equal("incident_uri", incident),
            iri.equal("name", name),
            iri.contains("description", description),
            iri.equal("status", status),
            iri.newer(modified_since),
        ]

        def found() -> Iterator[iri.Doc]:
            rows = _scan(rt.store, resource_id, since, until)
            linked = iri.incident_index(rt.incidents.store.incidents(limit=MAX_INCIDENTS))
            docs = (
                iri.event(ctx, _event(e, view), linked)
                for e in rows
                if e.kind == iri.STATUS_CHANGED
            )
            return (d for d in docs if iri.matches(d, checks))

        def render() -> bytes:
            stop = offset + limit
            page = list(islice(found(), offset, stop)) if stop <= sys.maxsize else []
            if not page and modified_since is not None and next(found(), None) is None:
                return NOT_MODIFIED
            return dumps(page)

        return _respond(request, rt, snap.version, snap.changed_at, render, view)

    return get_events


def _get_event(ctx: iri.Context) -> Callable[..., Response]:
    def get_event(
        request: Request, rt: RuntimeDep, snap: SnapshotDep, view: AudienceDep, event_id: str
    ) -> Response:
        def render() -> bytes:
            e = rt.store.event(event_id)
            if e is None or e.kind != iri.STATUS_CHANGED:
                raise _not_found("event", event_id)
            linked = iri.incident_index(rt.incidents.store.incidents(limit=MAX_INCIDENTS))
            return dumps(iri.event(ctx, _event(e, view), linked))

        return _respond(request, rt, snap.version, snap.changed_at, render, view)

    return get_event


def _event(e: EventRecord, view: Audience) -> EventRecord:
    return e if view == INTERNAL else public_event(e)


# -- facility -------------------------------------------------------------------------


def _get_facility(ctx: iri.Context) -> Callable[..., Response]:
    def get_facility(
        request: Request, rt: RuntimeDep, snap: SnapshotDep, modified_since: Since = None
    ) -> Response:
        def render() -> bytes:
            return _one(iri.facility(ctx), modified_since)

        return _respond(request, rt, snap.version, ctx.loaded_at, render, PUBLIC)

    return get_facility


def _sites(ctx: iri.Context) -> list[iri.Doc]:
    return [iri.site(ctx, s) for s in sorted(iri.sites(ctx.config), key=lambda s: s.id)]


def _list_sites(ctx: iri.Context) -> Callable[..., Response]:
    def get_sites(
        request: Request,
        rt: RuntimeDep,
        snap: SnapshotDep,
        modified_since: Since = None,
        name: Text = None,
        offset: Offset = 0,
        limit: Limit = 100,
        short_name: Text = None,
    ) -> Response:
        checks = [
            iri.equal("name", name),
            iri.equal("short_name", short_name),
            iri.newer(modified_since),
        ]

        def render() -> bytes:
            return _page(iri.select(_sites(ctx), checks), offset, limit, modified_since)

        return _respond(request, rt, snap.version, ctx.loaded_at, render, PUBLIC)

    return get_sites


def _get_site(ctx: iri.Context) -> Callable[..., Response]:
    def get_site(
        request: Request,
        rt: RuntimeDep,
        snap: SnapshotDep,
        site_id: str,
        modified_since: Since = None,
    ) -> Response:
        def render() -> bytes:
            doc = next((d for d in _sites(ctx) if d["id"] == site_id), None)
            if doc is None:
                raise _not_found("site", site_id)
            return _one(doc, modified_since)

        return _respond(request, rt, snap.version, ctx.loaded_at, render, PUBLIC)

    return get_site


# -- routers --------------------------------------------------------------------------

Factory = Callable[[iri.Context], Callable[..., Response]]
# path, endpoint factory, body model, is a list, IRI operationId, summary
ROUTES: tuple[tuple[str, Factory, str, bool, str, str], ...] = (
    ("/status/resources", _list_resources, "Resource", True, "getResources", "Resources"),
    ("/status/resources/{resource_id}", _get_resource, "Resource", False, "getResource",
     "One resource"),
    ("/status/incidents", _list_incidents, "Incident", True, "getIncidents", "Incidents"),
    ("/status/incidents/{incident_id}", _get_incident, "Incident", False, "getIncident",
     "One incident"),
    ("/status/events", _list_events, "Event", True, "getEventsByIncident", "Status events"),
    ("/status/events/{event_id}", _get_event, "Event", False, "getEventByIncident",
     "One status event"),
    ("/facility", _get_facility, "Facility", False, "getFacility", "The facility"),
    ("/facility/sites", _list_sites, "Site", True, "getSites", "Sites of the facility"),
    ("/facility/sites/{site_id}", _get_site, "Site", False, "getSite", "One site"),
)  # fmt: skip


def _router(ctx: iri.Context) -> APIRouter:
    v = ctx.version
    router = APIRouter(prefix=f"/api/{v}", tags=[f"iri-{v}"], responses=ERRORS)
    for path, factory, model_name, many, op, summary in ROUTES:
        model = MODELS[v][model_name]
        router.add_api_route(
            path,
            factory(ctx),
            methods=["GET"],
            response_model=list[model] if many else model,  # type: ignore[valid-type]
            summary=f"IRI {v}: {summary}",
            operation_id=op if v == "v1" else f"{op}V2",
        )
    return router
