"""The readiness page `/readiness`: a GET form → `go | at_risk | no_go` with a line per
resource and its reasons.

    GET /readiness                                     the form, and the beamtimes ahead
    GET /readiness?beamline=ID&start=T1&end=T2         …and the verdict (shareable)
    GET /readiness?need=scratch:free_space_tb=5&…      explicit needs instead of a beamline

Bad input (an unknown beamline or resource, a time that does not parse, an end
before the start) is shown on the page with status 400, naming the field. The
verdict is the one `GET /api/v1/readiness` gives: same gathering, same policy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import RuntimeDep
from api.pages.fragments import layout
from api.pages.time_view import zone
from api.pages.verdict_view import (
    FormError,
    ReadinessQuery,
    VerdictView,
    beamline_groups,
    beamtime_links,
    check_form,
    form_values,
    read_form,
    share_links,
    verdict_view,
)
from api.problems import ProblemException
from api.readiness_view import beamline, facts, needs_of, parse_need
from api.runtime import Runtime
from api.web import page
from facility.errors import NotFoundError, UnknownResourceError
from slas.readiness import Policy, assess

router = APIRouter(include_in_schema=False)


def verdict(rt: Runtime, q: ReadinessQuery, now: datetime) -> VerdictView | list[FormError]:
    """The assessment of the query, or the errors naming what it refers to wrongly."""
    try:
        if q.beamline:
            bundle, subject = beamline(rt, q.beamline).bundle, f"beamline {q.beamline}"
        else:
            bundle, subject = [parse_need(rt, n) for n in q.needs], "the needs listed"
    except NotFoundError:
        return [FormError("beamline", f"there is no beamline {q.beamline!r}")]
    except UnknownResourceError as exc:
        return [FormError("need", f"there is no resource {exc.resource_id!r}")]
    except ProblemException as exc:
        return [FormError("need", e["message"]) for e in exc.errors or []]
    needs = needs_of(rt, bundle)
    policy = Policy(imminent=rt.config.operations.imminent_beamtime)
    result = assess(needs, facts(rt, needs, q.start, q.end), q.start, q.end, now, policy)
    names = {r.id: r.name for r in rt.config.resources}
    return verdict_view(result, subject, names, zone(rt.config.facility.timezone), now)


@router.get("/readiness", response_class=HTMLResponse)
def readiness_page(
    request: Request,
    rt: RuntimeDep,
    beamline_id: Annotated[str | None, Query(alias="beamline")] = None,
    need: Annotated[list[str] | None, Query()] = None,
    start: str | None = None,
    end: str | None = None,
) -> HTMLResponse:
    now, tz = rt.clock(), zone(rt.config.facility.timezone)
    form = read_form(beamline_id, need or (), start, end)
    ctx: dict[str, Any] = {
        **layout(rt.config.facility.name, now, "readiness"),
        "form": form,
        "groups": beamline_groups(rt.config),
        "beamtimes": beamtime_links(rt.ops.beamtimes(), tz, now),
        "timezone": rt.config.facility.timezone,
        "errors": [],
        "verdict": None,
    }
    query = check_form(form, tz, now) if form.submitted else None
    answer = verdict(rt, query, now) if isinstance(query, ReadinessQuery) else query
    if isinstance(answer, list):
        ctx["errors"] = answer
    elif answer is not None and isinstance(query, ReadinessQuery):
        ctx["verdict"], ctx["links"] = answer, share_links(query)
    ctx["values"] = form_values(form, query if isinstance(query, ReadinessQuery) else None, tz)
    return page(request, "readiness.html", ctx, status=400 if ctx["errors"] else 200)
