"""Readiness: `go | at_risk | no_go` for a beamline (or an explicit bundle) over a
window, and whether a job finishes before the next maintenance on a partition."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime

from api.caching import conditional_body
from api.deps import RuntimeDep
from api.ops_schemas import ReadinessOut, WalltimeOut
from api.problems import ProblemException
from api.readiness_view import (
    assessment_out,
    beamline,
    facts,
    needs_of,
    parse_need,
    planned,
    queue_wait,
    walltime_out,
)
from api.redaction import INTERNAL, AudienceDep
from api.views import dumps
from facility.errors import UnknownResourceError
from slas.readiness import Policy, assess, parse_walltime, walltime

router = APIRouter(prefix="/api/v1", tags=["readiness"])
NEED_HELP = "an explicit need, `resource[:nodes=N,bandwidth_gbps=B,free_space_tb=S]`"


@router.get("/readiness", response_model=ReadinessOut, summary="Is a beamtime ready?")
def get_readiness(
    request: Request,
    rt: RuntimeDep,
    view: AudienceDep,
    beamline_id: Annotated[str | None, Query(alias="beamline", max_length=64)] = None,
    need: Annotated[list[str] | None, Query(max_length=100, description=NEED_HELP)] = None,
    start: Annotated[AwareDatetime | None, Query(description="from (default: now)")] = None,
    end: Annotated[AwareDatetime | None, Query(description="until (default: start + 8 h)")] = None,
) -> Response:
    """One line per needed resource (the bundle, then what it depends on) with the
    reason of each verdict; the answer is the worst line."""
    now = rt.clock()
    lo = start or now
    hi = end or lo + timedelta(hours=8)
    if hi <= lo:
        raise ProblemException(
            400,
            "end must be after start",
            [{"field": "query.end", "message": "must be after start"}],
        )
    if (beamline_id is None) == (need is None):
        raise ProblemException(
            400,
            "give either a beamline or explicit needs",
            [
                {
                    "field": "query.beamline",
                    "message": "give `beamline` or `need`, not both or neither",
                }
            ],
        )
    bundle = (
        beamline(rt, beamline_id).bundle if beamline_id else [parse_need(rt, n) for n in need or ()]
    )
    needs = needs_of(rt, bundle)
    policy = Policy(imminent=rt.config.operations.imminent_beamtime)
    result = assess(needs, facts(rt, needs, lo, hi, view == INTERNAL), lo, hi, now, policy)
    subject = {"beamline": beamline_id, "checked_at": now.isoformat()}
    return conditional_body(request, dumps(assessment_out(result, subject)), None)


@router.get(
    "/readiness/walltime",
    response_model=WalltimeOut,
    summary="Will a job finish before the next maintenance?",
)
def get_walltime(
    request: Request,
    rt: RuntimeDep,
    partition: Annotated[str, Query(max_length=64, description="partition resource id")],
    walltime_text: Annotated[
        str,
        Query(
            alias="walltime",
            max_length=32,
            description="the job's time limit: seconds, Slurm's [D-]HH:MM:SS, 6h, or ISO 8601",
        ),
    ],
    submit_at: Annotated[datetime | None, Query(description="default: now")] = None,
) -> Response:
    """The expected start is `submit_at` plus the wait of recently started jobs on the
    partition; maintenance of the partition or anything it depends on counts."""
    now = rt.clock()
    if partition not in rt.config.resources_by_id():
        raise UnknownResourceError(partition)
    try:
        walltime_limit = parse_walltime(walltime_text)
    except ValueError as exc:
        raise ProblemException(
            400, str(exc), [{"field": "query.walltime", "message": str(exc)}]
        ) from exc
    at = submit_at or now
    if at.tzinfo is None:
        raise ProblemException(
            400,
            "submit_at needs a time zone",
            [{"field": "query.submit_at", "message": "needs a time zone"}],
        )
    wait, basis = queue_wait(rt, partition)
    horizon = at + wait + walltime_limit + timedelta(days=60)
    ahead = planned(rt, rt.ops.beamtime_needs_of([partition]), at, horizon)
    answer = walltime(at, walltime_limit, wait, ahead)
    return conditional_body(request, dumps(walltime_out(answer, partition, basis)), None)
