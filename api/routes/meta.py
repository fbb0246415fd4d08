"""`/metrics` (Prometheus), `/healthz`, and the benchmark floor endpoint."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import RuntimeDep

router = APIRouter(tags=["meta"])
FLOOR_BODY = b'{"floor":true}'


@router.get("/metrics", summary="Prometheus exposition", response_class=Response)
def metrics(rt: RuntimeDep) -> Response:
    return Response(generate_latest(rt.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


floor_router = APIRouter(include_in_schema=False)


@floor_router.get("/api/v1/_floor")
async def floor() -> Response:
    """A pre-rendered body on the same stack: the benchmark's upper bound."""
    return Response(FLOOR_BODY, media_type="application/json")
