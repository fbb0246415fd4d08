"""`GET /api/v1/audit`: the audit log, newest first, for admins (`admin` scope).

Every field that the hash covers is returned as stored (`at` in the chain's own form,
`before`/`after` as kept), with `prev_hash` and `hash`, so a reviewer can recompute the
chain from these answers alone (`facility.audit.link`). There is no write here: the
log is append-only.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime, BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth import ADMIN
from api.deps import RuntimeDep, require
from api.problems import ProblemException
from api.schemas import ProblemOut
from api.views import dumps
from facility.audit import stamp
from facility.audit_store import AuditLog, AuditQuery

router = APIRouter(prefix="/api/v1", tags=["audit"])
CURSOR_PREFIX = "audit:"


class AuditEntryOut(BaseModel):
    id: int
    at: str = Field(description="RFC 3339 UTC with microseconds, as hashed")
    actor: str = Field(description="principal id: token:…, static:…, oidc:…, session:…, anonymous")
    token_id: str | None
    client: str = Field(description="client address as the server saw it")
    method: str
    path: str = Field(description="path and query (secret-looking query values redacted)")
    action: str = Field(description="e.g. maintenance.create, incidents.ack")
    target: str = Field(description="the object written (path parameters), if any")
    status: int = Field(description="HTTP status of the answer")
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for older entries")


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ProblemOut, "description": "Invalid query parameter"},
    401: {"model": ProblemOut, "description": "No or an invalid token"},
    403: {"model": ProblemOut, "description": "The token lacks the admin scope"},
}


@router.get(
    "/audit",
    response_model=AuditPage,
    dependencies=[require(ADMIN)],
    responses=ERRORS,
    summary="The audit log of writes, newest first (admin)",
)
async def list_audit(
    rt: RuntimeDep,
    actor: Annotated[str | None, Query(max_length=128, description="exact actor")] = None,
    action: Annotated[str | None, Query(max_length=64, description="exact action")] = None,
    path: Annotated[str | None, Query(max_length=512, description="path prefix")] = None,
    since: Annotated[AwareDatetime | None, Query(description="at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="before")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=64, description="`next_cursor`")] = None,
) -> Response:
    q = AuditQuery(actor, action, path, since, until, _decode(cursor), limit)
    rows, more = await run_in_threadpool(AuditLog(rt.store.engine).page, q)
    items = [{**r, "at": stamp(r["at"])} for r in rows]
    next_cursor = _encode(rows[-1]["id"]) if more else None
    body = dumps({"items": items, "next_cursor": next_cursor})
    return Response(body, media_type="application/json")


def _encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{last_id}".encode()).decode().rstrip("=")


def _decode(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        text = base64.b64decode(cursor + "=" * (-len(cursor) % 4), b"-_", validate=True).decode()
        if text.startswith(CURSOR_PREFIX):
            return int(text.removeprefix(CURSOR_PREFIX))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ProblemException(
        400, "invalid cursor", [{"field": "query.cursor", "message": "not a cursor from this API"}]
    )
