"""`create_app(settings)`: the FastAPI application of one facstat process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from api import openapi, problems, web
from api.audit import AuditTrail
from api.deps import catch_up
from api.http_metrics import HttpMetrics
from api.limits import BodyLimit
from api.pages import oncall_page, readiness_page, sla_page, status_page
from api.ratelimit import RateLimit
from api.routes import (
    alerts,
    audit,
    beamlines,
    events,
    incidents,
    iri,
    maintenance,
    meta,
    observations,
    readiness,
    resources,
    runbooks,
    slas,
    status,
    stream,
    subscriptions,
    tokens,
)
from api.runtime import Runtime
from api.security_headers import SecurityHeaders, cors_options
from api.stale import StaleMark
from facility.audit_store import AuditLog
from facility.settings import Settings

DESCRIPTION = """Fine-grained, machine-readable status of an HPC facility for the experiments
it serves. Every read supports `ETag`/`If-None-Match` and `If-Modified-Since`; errors are
RFC 9457 problem bodies. The DOE IRI Facility API is served under `/api/v1/status`,
`/api/v1/facility` and the same paths under `/api/v2`."""


def create_app(
    settings: Settings | None = None, runtime: Runtime | None = None, start: bool = True
) -> FastAPI:
    settings = settings or (runtime.settings if runtime else Settings())
    rt = runtime or Runtime.build(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if start:
            rt.start()
        try:
            yield
        finally:
            if start:
                rt.stop()

    app = FastAPI(
        title="facstat",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(catch_up)],
    )
    app.state.runtime = rt
    problems.install(app)
    openapi.install(app)
    for module in (
        status,
        resources,
        events,
        stream,
        observations,
        maintenance,
        beamlines,
        readiness,
        slas,
        incidents,
        runbooks,
        alerts,
        subscriptions,
        tokens,
        audit,
        meta,
    ):
        app.include_router(module.router)
    iri.include(app)
    web.install(app)
    for page in (status_page, readiness_page, sla_page, oncall_page):
        app.include_router(page.router)
    if settings.bench_floor:
        app.include_router(meta.floor_router)
    if rt.tracer_provider is not None:
        FastAPIInstrumentor.instrument_app(app, tracer_provider=rt.tracer_provider)
    # Outermost last: metrics > security headers > CORS > rate limit > body limit > audit.
    app.add_middleware(AuditTrail, runtime=rt, audit_log=AuditLog(rt.store.engine))
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        RateLimit, per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst
    )
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, **cors_options(settings.cors_origins))
    app.add_middleware(StaleMark)
    app.add_middleware(SecurityHeaders, https=settings.base_url.lower().startswith("https://"))
    app.add_middleware(HttpMetrics, registry=rt.registry)
    return app
