"""The dashboards generated from a facility file: the demo facility's are committed under
`dashboards/generated/` and must be what the code generates (regenerate them with
`FACSTAT_UPDATE_GOLDEN=1 .venv/bin/pytest tests/dashboards/test_build.py`); every panel
queries the one Prometheus datasource; every metric a query names is one facstat exports
(docs/metrics.md) or records (`facstat rules`)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import dashboards
from dashboards import provisioning
from dashboards.build import build, to_text, uid_for, write
from dashboards.cli import build_command
from dashboards.panels import DATASOURCE_UID
from facility.config import load_facility
from facility.settings import demo_facility_file
from slas.rules import rule_groups
from slas.sources import slas_of
from tests.conftest import SMALL
from tests.dashboards import queries as Q

ROOT = Path(__file__).resolve().parents[2]
GENERATED = Path(dashboards.__file__).parent / "generated"
METRICS_DOC = ROOT / "docs" / "metrics.md"
DEMO = demo_facility_file()
CONFIG = load_facility(DEMO)
BUILT = build(CONFIG)
PROMETHEUS_OWN = {"ALERTS"}  # series Prometheus makes itself
NAME = re.compile(r"\b(facstat[a-zA-Z0-9_:]*|ALERTS)\b")


def files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_the_committed_dashboards_are_what_the_demo_facility_generates(tmp_path: Path) -> None:
    if os.environ.get("FACSTAT_UPDATE_GOLDEN"):
        write(CONFIG, GENERATED)
    write(CONFIG, tmp_path)
    fresh, committed = files(tmp_path), files(GENERATED)
    assert sorted(fresh) == sorted(committed), "regenerate with FACSTAT_UPDATE_GOLDEN=1"
    for name, text in fresh.items():
        assert committed[name] == text, f"{name} differs: regenerate with FACSTAT_UPDATE_GOLDEN=1"


def test_building_twice_gives_the_same_bytes() -> None:
    again = build(load_facility(DEMO))
    assert [to_text(d) for d in again.values()] == [to_text(d) for d in BUILT.values()]


def test_the_demo_facility_gets_an_overview_a_dashboard_per_slurm_cluster_and_one_per_kind() -> (
    None
):
    assert sorted(BUILT) == [
        "dlcf-filesystems.json",
        "dlcf-links.json",
        "dlcf-overview.json",
        "dlcf-slas.json",
        "dlcf-slurm-borealis.json",
        "dlcf-slurm-tern.json",
        "dlcf-streaming.json",
    ]
    assert [d["uid"] for d in BUILT.values()] == [n.removesuffix(".json") for n in BUILT]


def test_a_facility_without_collectors_or_slas_gets_only_the_overview() -> None:
    assert list(build(load_facility(SMALL))) == ["testfac-overview.json"]


def test_long_uids_are_cut_to_grafanas_limit_and_stay_distinct() -> None:
    a, b = uid_for("dlcf", "slurm-" + "a" * 60), uid_for("dlcf", "slurm-" + "a" * 59 + "b")
    assert len(a) == len(b) == 40 and a != b
    assert uid_for("dlcf", "slurm-Big.Cluster_1") == "dlcf-slurm-big-cluster-1"


@pytest.mark.parametrize("name", sorted(BUILT))
def test_every_panel_queries_the_facstat_datasource_with_an_expression(name: str) -> None:
    found = list(Q.panels(BUILT[name]))
    assert found
    for panel in found:
        assert panel["datasource"]["uid"] == DATASOURCE_UID, panel["title"]
        assert panel["targets"], panel["title"]
        for t in panel["targets"]:
            assert t["datasource"]["uid"] == DATASOURCE_UID, panel["title"]
            assert t["expr"].strip(), panel["title"]
    for v in Q.variables(BUILT[name]):
        if v["type"] == "query":
            assert v["datasource"]["uid"] == DATASOURCE_UID, v["name"]


@pytest.mark.parametrize("name", sorted(BUILT))
def test_panels_have_unique_ids_and_fit_the_grid(name: str) -> None:
    every = BUILT[name]["panels"]
    ids = [p["id"] for p in every]
    assert len(ids) == len(set(ids))
    for p in every:
        pos = p["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, p["title"]


def _documented() -> set[str]:
    """Metric names of docs/metrics.md, with the series a histogram is exposed as."""
    rows = re.findall(r"^\| `(facstat_[a-z0-9_]+)` \| (\w+) \|", METRICS_DOC.read_text(), re.M)
    names = {n for n, _ in rows}
    names |= {
        n + s for n, kind in rows if kind == "histogram" for s in ("_bucket", "_sum", "_count")
    }
    return names


def _recorded() -> set[str]:
    groups = rule_groups(slas_of(CONFIG, DEMO.parent))["groups"]
    return {r["record"] for g in groups for r in g["rules"] if "record" in r}


def test_every_metric_a_query_names_is_documented_or_recorded() -> None:
    known = _documented() | _recorded() | PROMETHEUS_OWN
    used = {n for q in Q.panel_queries(BUILT) for n in NAME.findall(q.expr)}
    used |= {
        n for d in BUILT.values() for v in Q.variables(d) for n in NAME.findall(str(v["query"]))
    }
    assert used, "no metric found in the queries"
    assert used <= known, f"unknown metrics: {sorted(used - known)}"


def _yaml(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((GENERATED / name).read_text(encoding="utf-8"))
    return loaded


def test_the_datasource_file_provisions_prometheus_with_the_uid_every_panel_uses() -> None:
    doc = _yaml(provisioning.DATASOURCE_FILE)
    assert doc["apiVersion"] == 1
    [ds] = doc["datasources"]
    assert (ds["uid"], ds["type"], ds["access"]) == (DATASOURCE_UID, "prometheus", "proxy")
    assert ds["url"].startswith("http") and ds["jsonData"]["timeInterval"]


def test_the_dashboards_file_provisions_the_generated_json_from_a_directory() -> None:
    doc = _yaml(provisioning.DASHBOARDS_FILE)
    assert doc["apiVersion"] == 1
    [provider] = doc["providers"]
    assert provider["type"] == "file" and provider["folder"] == "facstat"
    assert provider["options"]["path"] == provisioning.DASHBOARDS_PATH


def test_the_cli_function_writes_the_demo_facility_and_removes_stale_dashboards(
    tmp_path: Path,
) -> None:
    stale = tmp_path / "dlcf-slurm-gone.json"
    stale.write_text('{"tags": ["facstat", "dlcf", "slurm"]}')
    other_facility = tmp_path / "dlcf-test-overview.json"
    other_facility.write_text('{"tags": ["facstat", "dlcf-test"]}')
    not_ours = tmp_path / "dlcf-mine.json"
    not_ours.write_text("{}")
    written = build_command(None, tmp_path)
    assert {p.relative_to(tmp_path).as_posix() for p in written} == set(files(GENERATED))
    assert not stale.exists() and other_facility.exists() and not_ours.exists()
