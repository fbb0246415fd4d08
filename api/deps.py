"""Request-scoped dependencies, as `Annotated` aliases."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from api import oidc, stale, tokens
from api.auth import (
    ADMIN,
    ADMIN_SCOPES,
    COLLECTOR_SCOPES,
    INCIDENTS_WRITE,
    MAINTENANCE_WRITE,
    OBSERVATIONS_WRITE,
    OPERATOR_SCOPES,
    READ_INTERNAL,
    SCOPES,
    Principal,
)
from api.problems import ProblemException
from api.runtime import Runtime
from api.schemas import ID_MAX
from facility.errors import StoreUnavailable
from facility.service import Snapshot

log = logging.getLogger("facstat.auth")
bearer = HTTPBearer(
    auto_error=False,
    description=(
        "an API token (`fst_<id>_<secret>`, issued by an admin), a static token of the "
        "settings (FACSTAT_COLLECTOR_TOKEN, FACSTAT_OPERATOR_TOKEN, FACSTAT_ADMIN_TOKEN), "
        "or, where OIDC is configured, a JWT from the centre's identity provider"
    ),
)


async def get_runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
# a stored row's id in a path: bounded to what every store's `integer` column holds
IdPath = Annotated[int, Path(ge=1, le=ID_MAX)]


async def get_snapshot(request: Request, rt: RuntimeDep) -> Snapshot:
    """The current snapshot; the rare read that must first record staleness (a database
    write) does it in a worker thread so the event loop never waits on the store. When
    the store cannot record it, staleness is applied in memory (statuses still turn
    `unknown` when their data ages past `stale_after`) and the answer is marked stale."""
    now = rt.clock()
    if rt.service.due(now):
        snap = await run_in_threadpool(rt.service.snapshot, now)
        if snap.version < 0:  # staleness applied in memory: the store could not record it
            stale.mark(request)
        return snap
    return rt.service.snapshot(now)


async def catch_up(request: Request) -> None:
    """Every request, on a store other API processes write too (PostgreSQL): first catch
    up with their writes (one small query), so a write through any process is seen by
    the next request through every other. If the store cannot be read, the answer is
    the last known state, marked stale (`api.stale`); writes then fail with 503."""
    rt: Runtime = request.app.state.runtime
    if rt.hub is None or not rt.hub.shared:
        return
    try:
        await rt.hub.gate.wait()
    except StoreUnavailable:
        stale.mark(request)


SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]


CHALLENGE = {"WWW-Authenticate": 'Bearer realm="facstat"'}
Creds = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def resolve(rt: Runtime, creds: HTTPAuthorizationCredentials | None) -> Principal | None:
    """The principal of a bearer token; None without one; 401 for a token that is not
    (or no longer) valid. Static tokens of the settings map to fixed scopes; a stored
    API token or an OIDC JWT carries its own (this may read the store: call it from a
    worker thread, as `get_principal` does)."""
    if creds is None:
        return None
    return _static(rt, creds.credentials) or _dynamic(rt, creds.credentials)


def _static(rt: Runtime, given: str) -> Principal | None:
    raw, found = given.encode(), None
    for secret, principal in _static_tokens(rt):
        if hmac.compare_digest(raw, secret):
            found = principal
    return found


def _static_tokens(rt: Runtime) -> list[tuple[bytes, Principal]]:
    out = []
    for setting, name, scopes in (
        (rt.settings.collector_token, "collector", COLLECTOR_SCOPES),
        (rt.settings.operator_token, "operator", OPERATOR_SCOPES),
        (rt.settings.admin_token, "admin", ADMIN_SCOPES),
    ):
        if setting is not None:
            principal = Principal(f"static:{name}", name, "static", scopes)
            out.append((setting.get_secret_value().encode(), principal))
    return out


def _dynamic(rt: Runtime, given: str) -> Principal:
    if given.startswith(tokens.PREFIX):
        return _stored(rt, given)
    if rt.settings.oidc_jwks_url and oidc.looks_like_jwt(given):
        return _oidc(rt, given)
    raise _invalid("unknown or invalid token")


def _stored(rt: Runtime, given: str) -> Principal:
    try:
        info = tokens.TokenStore(rt.store.engine).verify(given, rt.clock())
    except tokens.TokenRejected as exc:
        raise _invalid(exc.reason) from exc
    bound = tokens.bound_resources(info.resources, rt.config)
    return Principal(f"token:{info.id}", info.name, "token", frozenset(info.scopes), bound, info.id)


def _oidc(rt: Runtime, given: str) -> Principal:
    try:
        claims = oidc.verify(given, rt.settings, rt.clock())
    except oidc.OidcRejected as exc:
        raise _invalid(exc.reason) from exc
    except oidc.JwksUnavailable as exc:
        log.warning("OIDC token not checked: %s", exc)
        detail = "the identity provider's keys cannot be fetched; retry later"
        raise ProblemException(503, detail, headers={"Retry-After": "30"}) from exc
    wanted = oidc.words(claims.get(rt.settings.oidc_scope_claim))
    scopes = frozenset(s for s in wanted if s in SCOPES)
    bound = tokens.bound_resources(oidc.words(claims.get(oidc.RESOURCES_CLAIM)), rt.config)
    sub, jti = str(claims["sub"]), claims.get("jti")
    name = str(claims.get("preferred_username") or claims.get("name") or sub)
    return Principal(
        f"oidc:{sub}"[:128], name, "oidc", scopes, bound, str(jti)[:64] if jti else None
    )


def _invalid(reason: str) -> ProblemException:
    """401 with an RFC 6750 challenge; the reason is cut to safe header characters."""
    safe = "".join(c for c in reason if " " <= c <= "~" and c not in '"\\')[:120]
    challenge = f'Bearer realm="facstat", error="invalid_token", error_description="{safe}"'
    return ProblemException(401, reason, headers={"WWW-Authenticate": challenge})


async def get_principal(request: Request, rt: RuntimeDep, creds: Creds) -> Principal | None:
    principal = None
    if creds is not None:
        principal = _static(rt, creds.credentials)
        if principal is None:
            principal = await run_in_threadpool(_dynamic, rt, creds.credentials)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal | None, Depends(get_principal)]


def require(scope: str) -> Any:
    """A dependency: 401 without credentials, 403 without `scope`. The check carries
    its scope (`check.scope`), so tests can read every route's requirement."""

    async def check(principal: PrincipalDep) -> Principal:
        if principal is None:
            raise ProblemException(401, "a bearer token is required", headers=CHALLENGE)
        if not principal.can(scope):
            raise ProblemException(403, f"this token lacks the {scope} scope")
        return principal

    check.scope = scope  # type: ignore[attr-defined]
    return Depends(check)


def forbid_outside_binding(
    principal: Principal, resource_ids: Sequence[str | None], field: str, item_field: str = ""
) -> None:
    """403, nothing taken, if a token bound to some resources names any other, or
    sends an item that is about no resource of the facility (None). Errors name
    `field[i]` (or `field[i].item_field`)."""
    if principal.resources is None:
        return
    suffix = f".{item_field}" if item_field else ""
    errors = [
        {"field": f"{field}[{i}]{suffix}", "message": _outside(rid)}
        for i, rid in enumerate(resource_ids)
        if rid is None or not principal.may_report(rid)
    ]
    if errors:
        detail = "rejected, nothing taken: items outside the token's resource binding"
        raise ProblemException(403, detail, errors)


def _outside(resource_id: str | None) -> str:
    if resource_id is None:
        return "names no resource of this token's binding"
    return f"this token may not report on {resource_id!r}"


def is_operator(rt: Runtime, creds: HTTPAuthorizationCredentials | None) -> bool:
    """Whether a request may see internal details (`status:read-internal`)."""
    try:
        principal = resolve(rt, creds)
    except ProblemException:
        return False
    return principal is not None and principal.internal


CollectorAuth = require(OBSERVATIONS_WRITE)
OperatorAuth = require(MAINTENANCE_WRITE)
IncidentsAuth = require(INCIDENTS_WRITE)
InternalAuth = require(READ_INTERNAL)
AdminAuth = require(ADMIN)


ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_query(model: type[ModelT], request: Request) -> ModelT:
    """Validate a route's query string as `model`; errors name `query.<field>` (400)."""
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as exc:
        errors = [{**e, "loc": ("query", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from exc
