"""Request-scoped dependencies, as `Annotated` aliases."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.problems import ProblemException
from api.runtime import Runtime
from facility.service import Snapshot

_bearer = HTTPBearer(auto_error=False, description="collector token (FACSTAT_COLLECTOR_TOKEN)")


def get_runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_snapshot(rt: RuntimeDep) -> Snapshot:
    return rt.service.snapshot(rt.clock())


SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]


def require_collector(
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
