"""OpenTelemetry set-up: a tracer provider with the exporter the settings name."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)

from facility.settings import Settings

tracer = trace.get_tracer("facstat")


def make_provider(
    settings: Settings, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """A provider for `settings.otel_exporter` (or the given exporter); None for `none`."""
    if exporter is None and settings.otel_exporter == "none":
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": "facstat"}))
    provider.add_span_processor(_processor(settings, exporter))
    return provider


def _processor(settings: Settings, exporter: SpanExporter | None) -> SpanProcessor:
    if exporter is not None:
        return SimpleSpanProcessor(exporter)
    if settings.otel_exporter == "console":
        return SimpleSpanProcessor(ConsoleSpanExporter())
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otel_endpoint))
