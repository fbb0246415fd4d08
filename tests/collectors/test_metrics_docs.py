"""docs/metrics.md lists every exported metric and is kept current."""

from __future__ import annotations

from pathlib import Path

from collectors.docs import collector_specs, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def test_the_committed_metrics_reference_matches_the_code() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "run `facstat metrics-docs` and commit the result"
    )


def test_every_collector_metric_follows_the_naming_convention() -> None:
    for _, spec in collector_specs():
        assert spec.name.startswith("facstat_"), spec.name
        assert spec.name.endswith("_total") == (spec.type == "counter"), spec.name
        assert spec.help.endswith("."), spec.name
        assert not {"job_id", "jobid", "node", "node_name"} & set(spec.labels), spec.name
