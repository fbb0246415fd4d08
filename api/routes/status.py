"""`GET /api/v1/status`: the overall state and the roll-up per system."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.caching import conditional_async
from api.deps import RuntimeDep, SnapshotDep
from api.redaction import PUBLIC
from api.schemas import StatusOut
from api.views import dumps, status_summary

router = APIRouter(prefix="/api/v1", tags=["status"])


@router.get("/status", response_model=StatusOut, summary="Overall status and per-system roll-up")
async def get_status(request: Request, rt: RuntimeDep, snap: SnapshotDep) -> Response:
    """A system is `down` only when all its resources are down; otherwise its worst
    state, capped at `degraded`. Supports ETag/If-None-Match and If-Modified-Since.
    States and counts only, nothing internal: every caller gets the public body."""
    return await conditional_async(
        request,
        rt.cache,
        snap.version,
        snap.changed_at,
        lambda: dumps(status_summary(rt.config, snap.statuses, snap.version)),
        audience=PUBLIC,
    )
