"""`POST /api/v1/observations`: collectors deliver batches of observations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request

from api.auth import Principal
from api.deps import CollectorAuth, RuntimeDep, forbid_outside_binding
from api.runtime import Runtime
from api.schemas import IngestAccepted, ObservationBatch, ObservationIn
from facility.model import Observation, Reason

router = APIRouter(prefix="/api/v1", tags=["observations"])


@router.post(
    "/observations",
    response_model=IngestAccepted,
    summary="Store a batch of observations (all or nothing)",
    responses={
        401: {"description": "missing or unknown token"},
        403: {"description": "the token lacks the scope, or may not report on a resource"},
        422: {"description": "invalid batch"},
    },
)
def post_observations(
    batch: ObservationBatch,
    rt: RuntimeDep,
    principal: Principal = CollectorAuth,
    idempotency_key: Annotated[
        str | None,
        Header(
            pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$",
            description="the batch's own id: sent again (a retry after a lost answer), it "
            "is acknowledged with `duplicate: true` and not stored twice",
        ),
    ] = None,
) -> IngestAccepted:
    """The whole batch is validated first; if any observation is invalid, nothing is stored
    and the 422 problem body names every bad field (`observations[3].resource_id`). A token
    bound to some resources gets 403 for a batch naming any other (nothing is stored)."""
    ids = [o.resource_id for o in batch.observations]
    forbid_outside_binding(principal, ids, "observations", "resource_id")
    key = f"{principal.id}:{idempotency_key}"[:200] if idempotency_key else None
    result = rt.service.ingest([_domain(o) for o in batch.observations], rt.clock(), key)
    return IngestAccepted(
        accepted=result.accepted,
        transitions=len(result.transitions),
        version=result.version,
        duplicate=result.duplicate,
    )


def _raw_issues(request: Request, body: Any) -> list[dict[str, str]]:
    """The facility's checks on a body that failed schema validation, so that one 422
    names every bad field at once (schema and facility problems alike)."""
    rt: Runtime = request.app.state.runtime
    items = body.get("observations") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return []
    now = rt.clock()
    issues = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            issues += rt.service.observation_issues(i, item.get("resource_id"), _when(item), now)
    return [{"field": x.path, "message": x.message} for x in issues]


def _when(item: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(item.get("observed_at")))
    except ValueError:
        return None


post_observations.domain_errors = _raw_issues  # type: ignore[attr-defined]


def _domain(o: ObservationIn) -> Observation:
    return Observation(
        resource_id=o.resource_id,
        observed_at=o.observed_at,
        source=o.source,
        state=o.state,
        capacity=o.capacity,
        values=dict(o.values),
        reasons=tuple(Reason(r.code, r.message) for r in o.reasons),
    )
