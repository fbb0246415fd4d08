"""`POST /api/v1/observations`: collectors deliver batches of observations."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CollectorAuth, RuntimeDep
from api.schemas import IngestAccepted, ObservationBatch, ObservationIn
from facility.model import Observation, Reason

router = APIRouter(prefix="/api/v1", tags=["observations"])


@router.post(
    "/observations",
    response_model=IngestAccepted,
    dependencies=[CollectorAuth],
    summary="Store a batch of observations (all or nothing)",
    responses={
        401: {"description": "missing or unknown token"},
        422: {"description": "invalid batch"},
    },
)
def post_observations(batch: ObservationBatch, rt: RuntimeDep) -> IngestAccepted:
    """The whole batch is validated first; if any observation is invalid, nothing is stored
    and the 422 problem body names every bad field (`observations[3].resource_id`)."""
    result = rt.service.ingest([_domain(o) for o in batch.observations], rt.clock())
    return IngestAccepted(
        accepted=result.accepted, transitions=len(result.transitions), version=result.version
    )


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
