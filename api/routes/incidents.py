"""Incidents: list and read (public view, or internal with the operator token), and
the on-call actions: acknowledge, mitigate, resolve, cancel, notes, runbook steps.
Also `GET /api/v1/oncall`: who is on call now, per team."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from api import audit
from api.caching import conditional_body
from api.deps import IdPath, IncidentsAuth, RuntimeDep, bearer, is_operator
from api.incident_views import detail_out, incident_out
from api.ops_schemas import (
    IncidentAction,
    IncidentNote,
    IncidentOut,
    IncidentPage,
    OnCallPage,
    RunbookStepIn,
)
from api.redaction import INTERNAL, audience, public_oncall
from api.views import dumps, json_response, ts
from slas.incident_store import Incident
from slas.oncall import on_call

router = APIRouter(prefix="/api/v1", tags=["incidents"])
Creds = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
Statuses = Annotated[
    list[str] | None,
    Query(max_length=5, description="triggered, acknowledged, mitigated, resolved, cancelled"),
]
Priorities = Annotated[list[str] | None, Query(max_length=4, description="P1 … P4")]


@router.get("/incidents", response_model=IncidentPage, summary="Incidents, newest first")
def list_incidents(
    request: Request,
    rt: RuntimeDep,
    creds: Creds,
    status: Statuses = None,
    priority: Priorities = None,
    open: Annotated[bool | None, Query(description="only open (or only closed) incidents")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    """Public fields for everyone; the team, priority factors and actors with the
    operator token."""
    internal = is_operator(rt, creds)
    wanted = status or (["triggered", "acknowledged", "mitigated"] if open else None)
    found = rt.incidents.store.incidents(wanted, priority, limit)
    if open is False:
        found = [i for i in found if not i.is_open]
    return conditional_body(
        request, dumps({"items": [incident_out(i, internal) for i in found]}), None
    )


@router.get("/incidents/{incident_id}", response_model=IncidentOut, summary="One incident")
def get_incident(incident_id: IdPath, request: Request, rt: RuntimeDep, creds: Creds) -> Response:
    """With its timeline (public notes only, unless the operator token is given),
    matched runbooks and the steps done, and (internal) the pages sent."""
    inc = rt.incidents.get(incident_id)
    return conditional_body(request, dumps(detail_out(rt, inc, is_operator(rt, creds))), None)


def _act(name: str, summary: str) -> None:
    @router.post(
        f"/incidents/{{incident_id}}/{name}",
        response_model=IncidentOut,
        dependencies=[IncidentsAuth],
        summary=summary,
        name=f"incident_{name}",
    )
    async def act(
        incident_id: IdPath, rt: RuntimeDep, request: Request, body: IncidentAction | None = None
    ) -> Response:
        body = body or IncidentAction()
        method = getattr(rt.incidents, {"ack": "acknowledge"}.get(name, name))
        audit.record(
            request, before=_audited(await run_in_threadpool(rt.incidents.get, incident_id))
        )
        inc = await run_in_threadpool(method, incident_id, body.actor, body.note)
        audit.record(request, after=_audited(inc, by=body.actor, note=body.note))
        return json_response(detail_out(rt, inc, True))


for _name, _summary in [
    ("ack", "Acknowledge: stop escalation"),
    ("mitigate", "Mark mitigated"),
    ("resolve", "Resolve"),
    ("cancel", "Cancel (a false alarm)"),
]:
    _act(_name, _summary)


@router.post(
    "/incidents/{incident_id}/notes",
    response_model=IncidentOut,
    dependencies=[IncidentsAuth],
    summary="Add a public or internal note",
)
async def add_note(
    incident_id: IdPath, body: IncidentNote, rt: RuntimeDep, request: Request
) -> Response:
    audit.record(request, before=_audited(await run_in_threadpool(rt.incidents.get, incident_id)))
    inc = await run_in_threadpool(
        rt.incidents.note, incident_id, body.actor, body.text, body.public
    )
    note = {"text": body.text, "public": body.public}
    audit.record(request, after=_audited(inc, by=body.actor, note=note))
    return json_response(detail_out(rt, inc, True))


@router.post(
    "/incidents/{incident_id}/runbook-steps/{runbook}/{step}",
    response_model=IncidentOut,
    dependencies=[IncidentsAuth],
    summary="Tick (or untick) a runbook step",
)
async def runbook_step(
    incident_id: IdPath,
    runbook: str,
    step: str,
    rt: RuntimeDep,
    request: Request,
    body: RunbookStepIn | None = None,
) -> Response:
    body = body or RunbookStepIn()
    steps = rt.runbook_steps(runbook)
    audit.record(request, before=_audited(await run_in_threadpool(rt.incidents.get, incident_id)))
    inc = await run_in_threadpool(
        rt.incidents.runbook_step, incident_id, runbook, step, body.actor, body.done, steps
    )
    step_done = {"runbook": runbook, "step": step, "done": body.done}
    audit.record(request, after=_audited(inc, by=body.actor, runbook_step=step_done))
    return json_response(detail_out(rt, inc, True))


@router.get("/oncall", response_model=OnCallPage, summary="Who is on call now, per team")
def get_oncall(request: Request, rt: RuntimeDep, creds: Creds) -> Response:
    """Each team and its current shift; who is on call (names and e-mail addresses)
    only with `status:read-internal`: the public view has `primary`, `secondary` and
    `escalate_to` null."""
    now = rt.clock()
    view = audience(is_operator(rt, creds))
    policy = rt.incidents.policy
    items = []
    for team in policy.teams:
        oc = on_call(team, policy.people_by_id(), now)
        item = {
            "team": team.id, "name": team.name, "source": oc.source,
            "primary": _person(oc.primary),
            "secondary": _person(oc.secondary) if oc.secondary else None,
            "escalate_to": [_person(p) for p in oc.escalate_to],
            "shift_start": ts(oc.shift_start), "shift_end": ts(oc.shift_end),
        }  # fmt: skip
        items.append(item if view == INTERNAL else public_oncall(item))
    body = dumps({"items": items, "at": ts(now)})
    return conditional_body(request, body, None, audience=view)


def _person(p: Any) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "email": p.email}


def _audited(inc: Incident, **extra: Any) -> dict[str, Any]:
    """The incident as the audit log keeps it (without its priority explanation)."""
    skip = {"explanation", "impacted"}
    return {k: getattr(inc, k) for k in Incident.__dataclass_fields__ if k not in skip} | extra
