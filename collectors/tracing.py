"""Spans for the calls a collector makes to its source, as children of the cycle's span.

The runner sets the tracer of the current cycle (`use`); adapters wrap each call
to their source in `call(...)`, and need to know nothing about providers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from opentelemetry import trace
from opentelemetry.trace import Span

_TRACER: ContextVar[trace.Tracer | None] = ContextVar("facstat_collector_tracer", default=None)


def use(tracer: trace.Tracer) -> None:
    _TRACER.set(tracer)


@contextmanager
def call(name: str, **attributes: str | int | float) -> Iterator[Span]:
    """`with call("sinfo", argv="sinfo --json"):` around one call to a source."""
    tracer = _TRACER.get() or trace.get_tracer("facstat.collectors")
    with tracer.start_as_current_span(name, attributes=attributes) as span:
        yield span
