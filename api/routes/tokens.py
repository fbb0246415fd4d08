"""API tokens, for admins: issue one (its string is in that answer only), list them
(never a secret), revoke one (the row is kept, marked). See `api.tokens`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api import audit
from api.auth import Principal
from api.deps import AdminAuth, RuntimeDep
from api.problems import ProblemException
from api.tokens import LIFETIME_HELP, TokenInfo, TokenStore, check_request
from api.views import json_response, ts

router = APIRouter(prefix="/api/v1", tags=["tokens"])
Scope = Literal[
    "status:read-internal", "observations:write", "maintenance:write", "incidents:write", "admin"
]
TokenId = Annotated[str, Path(min_length=1, max_length=64, pattern="^[0-9a-f]+$")]
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing, unknown, expired or revoked token"},
    403: {"description": "the token lacks the admin scope"},
}


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=128, description="who or what uses it")
    scopes: list[Scope] = Field(min_length=1, max_length=5)
    expires_in: str = Field(min_length=1, max_length=64, description=LIFETIME_HELP)
    resources: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description="observations:write only: the resources or systems it may report on",
    )


class TokenOut(BaseModel):
    id: str
    name: str
    scopes: list[Scope]
    resources: list[str]
    status: Literal["active", "expired", "revoked"]
    created_at: str
    created_by: str
    expires_at: str
    revoked_at: str | None
    last_used_at: str | None


class TokenIssued(TokenOut):
    token: str = Field(description="`fst_<id>_<secret>`: this answer is its only copy")


class TokenList(BaseModel):
    items: list[TokenOut]


def _out(t: TokenInfo, now: Any, token: str | None = None) -> dict[str, Any]:
    out = {"id": t.id, "name": t.name, "scopes": list(t.scopes), "resources": list(t.resources),
           "status": t.status(now), "created_at": ts(t.created_at), "created_by": t.created_by,
           "expires_at": ts(t.expires_at), "revoked_at": ts(t.revoked_at),
           "last_used_at": ts(t.last_used_at)}  # fmt: skip
    return out | {"token": token} if token else out


@router.post(
    "/tokens",
    status_code=201,
    response_model=TokenIssued,
    summary="Issue an API token (shown once)",
    responses=AUTH_ERRORS,
)
async def create_token(
    body: TokenIn, request: Request, rt: RuntimeDep, principal: Principal = AdminAuth
) -> Response:
    """The answer's `token` is the only copy: only a hash of its secret is stored. Every
    token expires, at most `FACSTAT_TOKEN_MAX_LIFETIME` from now."""
    maximum = rt.settings.token_max_lifetime
    lifetime, issues = check_request(
        body.name, body.scopes, body.expires_in, body.resources, rt.config, maximum
    )
    if issues or lifetime is None:
        errors = [{"field": i.path, "message": i.message} for i in issues]
        raise ProblemException(422, "; ".join(str(i) for i in issues), errors)
    store, now = TokenStore(rt.store.engine), rt.clock()
    args = (body.name, body.scopes, body.resources, lifetime, principal.id, now)
    issued = await run_in_threadpool(store.create, *args)
    audit.record(request, after=_out(issued.info, now), target=issued.info.id)  # no secret
    return json_response(_out(issued.info, now, issued.token), 201)


@router.get(
    "/tokens",
    response_model=TokenList,
    summary="Every API token, without secrets",
    responses=AUTH_ERRORS,
)
def list_tokens(rt: RuntimeDep, _: Principal = AdminAuth) -> Response:
    now = rt.clock()
    return json_response({"items": [_out(t, now) for t in TokenStore(rt.store.engine).all()]})


@router.delete(
    "/tokens/{token_id}",
    response_model=TokenOut,
    summary="Revoke an API token (kept, marked)",
    responses={**AUTH_ERRORS, 404: {"description": "no such token"}},
)
def revoke_token(
    token_id: TokenId, request: Request, rt: RuntimeDep, _: Principal = AdminAuth
) -> Response:
    """Revoked at once, in every process (each request reads the token's row)."""
    store, now = TokenStore(rt.store.engine), rt.clock()
    before = store.get(token_id)
    revoked = _out(store.revoke(token_id, now), now)
    audit.record(request, before=_out(before, now) if before else None, after=revoked)
    return json_response(revoked)
