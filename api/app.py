"""`create_app(settings)`: the FastAPI application of one facstat process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from api import openapi, problems
from api.http_metrics import HttpMetrics
from api.limits import BodyLimit
from api.routes import events, iri, meta, observations, resources, status
from api.runtime import Runtime
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

    app = FastAPI(title="facstat", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.runtime = rt
    problems.install(app)
    openapi.install(app)
    for module in (status, resources, events, observations, meta):
        app.include_router(module.router)
    iri.include(app)
    if settings.bench_floor:
        app.include_router(meta.floor_router)
    if rt.tracer_provider is not None:
        FastAPIInstrumentor.instrument_app(app, tracer_provider=rt.tracer_provider)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(HttpMetrics, registry=rt.registry)
    return app
