"""OpenTelemetry: a span per API request and per engine cycle."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from api.app import create_app
from api.runtime import Runtime
from tests.conftest import AUTH, SMALL, Clock, make_settings


def test_requests_and_engine_cycles_are_traced(tmp_path, clock: Clock) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    rt = Runtime.build(
        make_settings(f"sqlite:///{tmp_path / 't.db'}", SMALL),
        clock=clock,
        tracer_provider=provider,
    )
    with TestClient(create_app(runtime=rt, start=False)) as client:
        body = {
            "observations": [
                {
                    "resource_id": "home",
                    "observed_at": clock.now.isoformat(),
                    "source": "t",
                    "state": "up",
                }
            ]
        }
        assert client.post("/api/v1/observations", json=body, headers=AUTH).status_code == 200
        clock.advance(timedelta(minutes=5).total_seconds())
        assert client.get("/api/v1/status").status_code == 200
    names = [s.name for s in exporter.get_finished_spans()]
    assert "engine.ingest" in names
    assert "engine.tick" in names
    assert any(n.startswith("POST /api/v1/observations") for n in names)
    assert any(n.startswith("GET /api/v1/status") for n in names)
    ingest = next(s for s in exporter.get_finished_spans() if s.name == "engine.ingest")
    assert ingest.attributes is not None and ingest.attributes["observations"] == 1
    rt.store.close()
