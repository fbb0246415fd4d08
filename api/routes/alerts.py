"""`POST /api/v1/alerts/alertmanager`: Alertmanager's webhook receiver. Alerts about a
resource of the facility (label `resource` or `facstat_resource`) become observations
from source `alertmanager`; any other alert becomes an incident of its own, resolved
when Alertmanager says it resolved. Configure it in Alertmanager as a
`webhook_configs` receiver with `send_resolved: true` and the collector token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import Principal
from api.deps import CollectorAuth, RuntimeDep, forbid_outside_binding
from api.problems import ProblemException
from api.runtime import Runtime
from api.views import json_response
from slas import incident_alerts
from slas.notify import AlertmanagerPayloadError, ReceivedAlert, parse_alertmanager_webhook

router = APIRouter(prefix="/api/v1", tags=["alerts"])


@router.post(
    "/alerts/alertmanager",
    summary="Alertmanager webhook receiver",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def alertmanager_webhook(
    request: Request, rt: RuntimeDep, principal: Principal = CollectorAuth
) -> Response:
    try:
        alerts = parse_alertmanager_webhook(await request.body())
    except AlertmanagerPayloadError as exc:
        errors = [{"field": i.path, "message": i.message} for i in exc.issues] or [
            {"field": exc.field, "message": exc.reason}
        ]
        raise ProblemException(422, f"not an Alertmanager notification: {exc}", errors) from exc
    known = rt.config.resources_by_id()
    about = [incident_alerts.resource_of(a, known) for a in alerts]
    forbid_outside_binding(principal, about, "alerts")  # a bound token: its resources only
    out = await run_in_threadpool(_take, rt, alerts)
    return json_response(out)


def _take(rt: Runtime, alerts: list[ReceivedAlert]) -> dict[str, Any]:
    now = rt.clock()
    known = rt.config.resources_by_id()
    observations, opened, resolved = [], 0, 0
    for a in alerts:
        rid = incident_alerts.resource_of(a, known)
        if rid is not None:
            observations.append(incident_alerts.observation(a, rid, now))
        elif a.status == "firing":
            opened += rt.incidents.open_alert(incident_alerts.received(a), now) is not None
        else:
            rt.incidents.close_alert(
                incident_alerts.received(a).key, "resolved in Alertmanager", now
            )
            resolved += 1
    if observations:
        rt.service.ingest(observations, now)
    return {
        "alerts": len(alerts),
        "observations": len(observations),
        "incidents_opened": opened,
        "resolved": resolved,
    }
