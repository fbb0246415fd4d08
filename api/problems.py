"""Errors as RFC 9457 problem bodies: the one place that maps failures to HTTP.

Every error response has `type`, `title`, `status`, `detail`, `instance` and,
for input errors, `errors`: a list of `{field, message}` naming each bad field
(`observations[3].capacity`, `query.limit`). Nothing here leaks a traceback.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from facility.config import yaml_path
from facility.errors import (
    ConflictError,
    NotFoundError,
    ObservationRejected,
    StoreUnavailable,
    UnknownResourceError,
)
from slas.calendar_errors import CalendarError
from slas.errors import PeriodError
from slas.notify_errors import NotifierConfigError

log = logging.getLogger("facstat.api")
PROBLEM_JSON = "application/problem+json"


class ProblemException(Exception):
    """Raised by routes for a 4xx that carries field errors."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status, self.detail, self.errors, self.headers = status, detail, errors, headers


def problem(
    request: Request,
    status: int,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": str(request.url.path),
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def field_name(loc: tuple[Any, ...]) -> str:
    """`('body', 'observations', 3, 'capacity')` -> `observations[3].capacity`."""
    if loc and loc[0] == "body":
        return yaml_path(loc[1:]) or "body"
    if loc and loc[0] in ("query", "path", "header"):
        return f"{loc[0]}.{yaml_path(loc[1:])}"
    return yaml_path(loc)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    """Schema errors, plus the route's own checks on the raw body, in one answer."""
    assert isinstance(exc, RequestValidationError)
    errors = [_validation_error(e) for e in exc.errors()]
    in_body = any(e["loc"] and e["loc"][0] == "body" for e in exc.errors())
    domain = getattr(getattr(request.scope.get("route"), "endpoint", None), "domain_errors", None)
    if in_body and domain is not None:
        errors += domain(request, getattr(exc, "body", None))
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem(request, 422 if in_body else 400, f"invalid request: {summary}", errors)


def _validation_error(e: Any) -> dict[str, str]:
    if e.get("type") == "json_invalid":
        return {
            "field": "body",
            "message": f"invalid JSON: {e.get('ctx', {}).get('error', e['msg'])}",
        }
    return {"field": field_name(tuple(e["loc"])), "message": e["msg"]}


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem(request, exc.status_code, detail, headers=getattr(exc, "headers", None))


async def _problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemException)
    return problem(request, exc.status, exc.detail, exc.errors, exc.headers)


async def _rejected(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ObservationRejected)
    errors = [{"field": i.path, "message": i.message} for i in exc.issues]
    return problem(request, 422, f"batch rejected, nothing stored: {exc}", errors)


async def _unknown_resource(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnknownResourceError)
    return problem(request, 404, str(exc))


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotFoundError)
    return problem(request, 404, str(exc))


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ConflictError)
    errors = [{"field": exc.field, "message": str(exc)}] if exc.field else None
    return problem(request, 409, str(exc), errors)


async def _calendar(request: Request, exc: Exception) -> JSONResponse:
    """A window, a beamtime or a calendar that breaks a rule: 422 naming the field
    (and, for imports, the line and event); nothing of it was stored."""
    assert isinstance(exc, CalendarError)
    where = {k: v for k, v in (("line", exc.line), ("item", exc.item)) if v is not None}
    errors = [{"field": exc.field or "body", "message": exc.reason, **where}]
    return problem(request, 422, f"rejected, nothing stored: {exc}", errors)


async def _notify(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotifierConfigError)
    errors = [{"field": f"body.{exc.field}", "message": exc.reason}]
    return problem(request, 422, str(exc), errors)


async def _period(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PeriodError)
    return problem(request, 400, str(exc), [{"field": "query.period", "message": str(exc)}])


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StoreUnavailable)
    headers = {"Retry-After": str(exc.retry_after)}
    return problem(request, 503, "the status store is unavailable; retry later", headers=headers)


async def _database_gone(request: Request, exc: Exception) -> JSONResponse:
    """A read that needs the database while it is down: the same 503 as a write."""
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return await _unavailable(request, StoreUnavailable(str(exc)))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(request, 500, "internal error; it has been logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(ProblemException, _problem)
    app.add_exception_handler(ObservationRejected, _rejected)
    app.add_exception_handler(UnknownResourceError, _unknown_resource)
    app.add_exception_handler(StoreUnavailable, _unavailable)
    app.add_exception_handler(sa_exc.OperationalError, _database_gone)
    app.add_exception_handler(sa_exc.InterfaceError, _database_gone)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(ConflictError, _conflict)
    app.add_exception_handler(CalendarError, _calendar)
    app.add_exception_handler(PeriodError, _period)
    app.add_exception_handler(NotifierConfigError, _notify)
    app.add_exception_handler(Exception, _unexpected)
