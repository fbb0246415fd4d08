"""The public status page `/`, its self-refreshing fragments, and the day details.

    GET /                              the whole page (works without JavaScript)
    GET /fragments/status              banner + systems → resources tree   (every 10 s)
    GET /fragments/incidents           open incidents, public notes only   (every 30 s)
    GET /fragments/maintenance         maintenance now and ahead           (every 60 s)
    GET /fragments/uptime              90-day uptime bars per resource     (every 5 min)
    GET /day/{resource}/{YYYY-MM-DD}   one resource's day: stretches, incidents, maintenance

`?refresh=N` sets every fragment's interval (see `api.pages.fragments`). The
functions here gather values from the runtime; the view-models are pure
(`status_view`, `notices_view`, `uptime_view`). Everything is shown as the caller's
audience may see it (`api.redaction`): anonymous visitors get the public view (no
node names or drain reasons, alert titles cut to the alert's name), a request with
a `status:read-internal` bearer token the internal one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import exc as sa_exc

from api.deps import RuntimeDep
from api.pages.fragments import layout, polls, problem, refresh_knob
from api.pages.notices_view import IncidentCard, MaintenanceItem, incident_card, maintenance_items
from api.pages.status_view import StatusView, status_view
from api.pages.time_view import zone
from api.pages.uptime_view import (
    DAYS,
    DayDetail,
    ResourceUptime,
    Span,
    day_bounds,
    day_detail,
    resource_uptime,
    uptime_days,
)
from api.redaction import (
    INTERNAL,
    Audience,
    AudienceDep,
    public_entry,
    public_incident,
    public_interval,
    public_statuses,
)
from api.runtime import Runtime
from api.web import page
from facility.errors import StoreUnavailable
from facility.model import Interval
from slas.incident_store import OPEN, Incident, IncidentStore, TimelineEntry
from slas.maintenance import occurrences

router = APIRouter(include_in_schema=False)
HORIZON = timedelta(days=30)  # maintenance announced this far ahead
FEED = "/api/v1/maintenance.ics"


def board(rt: Runtime, now: datetime, view: Audience) -> StatusView:
    statuses = rt.service.snapshot(now).statuses
    return status_view(rt.config, statuses if view == INTERNAL else public_statuses(statuses), now)


def names(rt: Runtime) -> dict[str, str]:
    return {r.id: r.name for r in rt.config.resources}


def shown(inc: Incident, view: Audience) -> Incident:
    return inc if view == INTERNAL else public_incident(inc)


def history(
    rt: Runtime, rid: str, start: datetime, end: datetime, view: Audience
) -> list[Interval]:
    found = rt.store.history(rid, start, end)
    return found if view == INTERNAL else [public_interval(i) for i in found]


def incidents(rt: Runtime, now: datetime, view: Audience) -> list[IncidentCard]:
    """Open incidents with their public notes (internal notes stay on the staff pages
    whoever asks)."""
    store, tz = rt.incidents.store, zone(rt.config.facility.timezone)
    return [
        incident_card(shown(inc, view), _notes(store, inc.id, view), names(rt), tz, now)
        for inc in store.incidents(statuses=OPEN)
    ]


def _notes(store: IncidentStore, incident_id: int, view: Audience) -> list[TimelineEntry]:
    found = store.timeline(incident_id, public_only=True)
    return found if view == INTERNAL else [public_entry(e) for e in found]


def maintenance(rt: Runtime, now: datetime, view: Audience) -> list[MaintenanceItem]:
    cal, tz = rt.ops.calendar, zone(rt.config.facility.timezone)
    return maintenance_items(cal.active(now), cal.upcoming(now, HORIZON), names(rt), tz, now)


def incident_spans(
    rt: Runtime, start: datetime, now: datetime, view: Audience
) -> dict[str, list[Span]]:
    out: dict[str, list[Span]] = defaultdict(list)
    for inc in rt.incidents.store.incidents():
        end = inc.resolved_at or now
        if inc.opened_at < now and end > start:
            for rid in inc.impacted:
                out[rid].append((inc.opened_at, end, shown(inc, view).title))
    return out


def maintenance_spans(rt: Runtime, start: datetime, end: datetime) -> dict[str, list[Span]]:
    out: dict[str, list[Span]] = defaultdict(list)
    for w in rt.ops.windows():
        if not w.cancelled:
            for o in occurrences(w, start, end):
                for rid in w.resources:
                    out[rid].append((o.start, o.end, w.title))
    return out


def uptime(rt: Runtime, now: datetime, view: Audience) -> list[ResourceUptime]:
    tz = zone(rt.config.facility.timezone)
    bounds = day_bounds(now.astimezone(tz).date(), DAYS, tz)
    start = bounds[0][1]
    found, planned = incident_spans(rt, start, now, view), maintenance_spans(rt, start, now)
    return [
        resource_uptime(
            r.id,
            r.name,
            uptime_days(
                rt.store.history(r.id, start, now), bounds, now, found[r.id], planned[r.id]
            ),
        )
        for r in rt.config.resources
    ]


def feeds(request: Request) -> dict[str, str]:
    """The maintenance feed, as a link and as a `webcal://` subscription."""
    return {"ics": FEED, "webcal": f"webcal://{request.url.netloc}{FEED}"}


def _context(
    rt: Runtime, request: Request, refresh: str | None, view: Audience, **parts: Any
) -> dict[str, Any]:
    now = rt.clock()
    ctx = {
        **layout(rt.config.facility.name, now, "status"),
        "polls": polls(refresh_knob(refresh)),
        "feeds": feeds(request),
        "store_unavailable": False,
    }
    for name, build in parts.items():
        try:
            ctx[name] = build(rt, now, view)
        except (StoreUnavailable, sa_exc.OperationalError, sa_exc.InterfaceError):
            # the database is down: the page still shows what this process knows (the
            # statuses, from memory); the sections that must read the store say so
            ctx[name] = None
            ctx["store_unavailable"] = True
    return ctx


def _page(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
    """A page whose content depends on the caller's view: never reused across callers."""
    response = page(request, name, ctx, status)
    response.headers["Vary"] = "Authorization"
    return response


PARTS: dict[str, Callable[[Runtime, datetime, Audience], Any]] = {
    "board": board,
    "incidents": incidents,
    "maintenance": maintenance,
    "uptime": uptime,
}
# /fragments/<name>: one part of the page, as htmx refreshes it
FRAGMENTS = {
    "status": ("board", "_status_board.html"),
    "incidents": ("incidents", "_status_incidents.html"),
    "maintenance": ("maintenance", "_status_maintenance.html"),
    "uptime": ("uptime", "_status_uptime.html"),
}


@router.get("/", response_class=HTMLResponse)
def status_page(
    request: Request, rt: RuntimeDep, view: AudienceDep, refresh: str | None = None
) -> HTMLResponse:
    return _page(request, "status.html", _context(rt, request, refresh, view, **PARTS))


def _fragment(part: str, template: str) -> Callable[..., HTMLResponse]:
    def fragment(
        request: Request, rt: RuntimeDep, view: AudienceDep, refresh: str | None = None
    ) -> HTMLResponse:
        ctx = _context(rt, request, refresh, view, **{part: PARTS[part]})
        return _page(request, template, ctx)

    return fragment


for _name, (_part, _template) in FRAGMENTS.items():
    router.add_api_route(
        f"/fragments/{_name}",
        _fragment(_part, _template),
        methods=["GET"],
        response_class=HTMLResponse,
        name=f"{_name}_fragment",
    )


@router.get("/day/{resource_id}/{day}", response_class=HTMLResponse)
def day_page(
    request: Request, rt: RuntimeDep, view: AudienceDep, resource_id: str, day: str
) -> HTMLResponse:
    """One resource's day; 404 for an unknown resource, 400 for a bad or future date."""
    now = rt.clock()
    ctx = layout(rt.config.facility.name, now, "status")
    resource = rt.config.resources_by_id().get(resource_id)
    if resource is None:
        ctx["problem"] = problem("Unknown resource", f"There is no resource {resource_id!r}.")
        return page(request, "status_day.html", ctx, status=404)
    tz = zone(rt.config.facility.timezone)
    wanted = _date(day)
    if wanted is None or wanted > now.astimezone(tz).date():
        why = "is not a date (YYYY-MM-DD)" if wanted is None else "is in the future"
        ctx["problem"] = problem("Bad date", f"{day!r} {why}.")
        return page(request, "status_day.html", ctx, status=400)
    ctx["detail"] = _day(rt, (resource.id, resource.name), wanted, now, view)
    return _page(request, "status_day.html", ctx)


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _day(
    rt: Runtime, resource: tuple[str, str], day: date, now: datetime, view: Audience
) -> DayDetail:
    tz = zone(rt.config.facility.timezone)
    (bounds,) = day_bounds(day, 1, tz)
    _, start, end = bounds
    rid = resource[0]
    stretches = history(rt, rid, start, min(end, now), view)
    found = incident_spans(rt, start, min(end, now), view)[rid]
    planned = maintenance_spans(rt, start, end)[rid]
    return day_detail(resource, stretches, bounds, now, tz, found, planned)
