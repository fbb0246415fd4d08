"""Request-scoped dependencies, as `Annotated` aliases."""

from __future__ import annotations

import hmac
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from api.problems import ProblemException
from api.runtime import Runtime
from facility.service import Snapshot

_bearer = HTTPBearer(auto_error=False, description="collector token (FACSTAT_COLLECTOR_TOKEN)")


async def get_runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_snapshot(rt: RuntimeDep) -> Snapshot:
    """The current snapshot; the rare read that must first record staleness (a database
    write) does it in a worker thread so the event loop never waits on the store."""
    now = rt.clock()
    if rt.service.due(now):
        return await run_in_threadpool(rt.service.snapshot, now)
    return rt.service.snapshot(now)


SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]


async def require_collector(
    rt: RuntimeDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """401 unless the request carries the configured collector token."""
    expected = rt.settings.collector_token
    challenge = {"WWW-Authenticate": 'Bearer realm="facstat"'}
    if creds is None:
        raise ProblemException(401, "a bearer token is required", headers=challenge)
    if expected is None or not hmac.compare_digest(
        creds.credentials.encode(), expected.get_secret_value().encode()
    ):
        raise ProblemException(401, "unknown or invalid token", headers=challenge)


CollectorAuth = Depends(require_collector)


ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_query(model: type[ModelT], request: Request) -> ModelT:
    """Validate a route's query string as `model`; errors name `query.<field>` (400)."""
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as exc:
        errors = [{**e, "loc": ("query", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from exc
