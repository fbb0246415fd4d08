"""Prometheus rules from SLA definitions, checked and unit-tested by the real promtool.

The rules of the fixture SLA file are kept in `tests/data/slas/rules.golden.yaml`;
regenerate it with `FACSTAT_UPDATE_GOLDEN=1 .venv/bin/pytest tests/slas/test_rules.py`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from slas.definitions import SlaDefinition
from slas.rules import BURN_ALERT, MEMBERS_ALERT, render_rules, rule_groups
from slas.sla_file import load_slas

DATA = Path(__file__).parent.parent / "data"
GOLDEN = DATA / "slas" / "rules.golden.yaml"
RESOURCES = ["scratch", "home", "broker", "batch", "gateway"]
STATES = ("up", "degraded", "down", "unknown", "maintenance")
PROMTOOL = shutil.which("promtool")


@pytest.fixture(scope="module")
def slas() -> list[SlaDefinition]:
    return load_slas(DATA / "slas" / "slas.yaml", RESOURCES)


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None, "promtool is missing: scripts/services installs it"
    cmd = [PROMTOOL, *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_the_rules_of_the_fixture_file_match_the_golden_file(slas: list[SlaDefinition]) -> None:
    text = render_rules(slas)
    if os.environ.get("FACSTAT_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_promtool_accepts_the_generated_rules(slas: list[SlaDefinition], tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(render_rules(slas))
    done = promtool("check", "rules", tmp_path / "rules.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 50 rules found" in done.stdout


def test_every_burn_alert_names_its_sla_service_severity_and_windows(
    slas: list[SlaDefinition],
) -> None:
    alerts = [
        r for g in rule_groups(slas)["groups"] for r in g["rules"] if r.get("alert") == BURN_ALERT
    ]
    assert len(alerts) == 4 * len(slas)
    keys = {"sla", "service", "severity", "long_window", "short_window"}
    assert all(keys <= a["labels"].keys() for a in alerts)


# --- promtool unit tests: input series in, expected alerts out --------------------------------


def states(resource: str, timeline: list[tuple[str, int]]) -> list[dict[str, str]]:
    """One `facstat_resource_state` series per state from [(state, minutes), ...] (1m steps)."""
    out = []
    for state in STATES:
        values = " ".join(f"{int(s == state)}x{n - 1}" for s, n in timeline)
        name = f'facstat_resource_state{{resource="{resource}",state="{state}"}}'
        out.append({"series": name, "values": _steps(values)})
    return out


def _steps(values: str) -> str:
    """`1x4 0x9` → `1+0x4 0+0x9`, the series notation of promtool."""
    return " ".join(f"{v.split('x')[0]}+0x{v.split('x')[1]}" for v in values.split())


def firing(slas: list[SlaDefinition], sla_id: str, pairs: list[str]) -> list[dict[str, Any]]:
    """The expected burn alerts of `sla_id` for window pairs such as `1h/5m`."""
    group = next(g for g in rule_groups(slas)["groups"] if g["name"] == f"facstat-sla-{sla_id}")
    rules = [r for r in group["rules"] if r.get("alert") == BURN_ALERT]
    chosen = [
        r for r in rules if f"{r['labels']['long_window']}/{r['labels']['short_window']}" in pairs
    ]
    return [{"exp_labels": r["labels"], "exp_annotations": r["annotations"]} for r in chosen]


def burn_test(at: str, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"eval_time": at, "alertname": BURN_ALERT, "exp_alerts": alerts}


ALL_PAIRS = ["1h/5m", "6h/30m", "1d/2h", "3d/6h"]


def unit_tests(slas: list[SlaDefinition]) -> dict[str, Any]:
    up_scratch = states("scratch", [("up", 600)])
    return {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {  # a 24x7 outage of scratch from 00:30 pages within minutes and stops when over
                "interval": "1m",
                "input_series": states("scratch", [("up", 30), ("down", 60), ("up", 240)]),
                "alert_rule_test": [
                    burn_test("20m", []),
                    burn_test("40m", firing(slas, "scratch-monthly", ALL_PAIRS)),
                    burn_test(
                        "100m", firing(slas, "scratch-monthly", ["6h/30m", "1d/2h", "3d/6h"])
                    ),
                ],
                "promql_expr_test": [
                    {
                        "expr": 'facstat:sla_error_ratio:rate5m{sla="scratch-monthly"}',
                        "eval_time": "40m",
                        "exp_samples": [
                            {
                                "labels": 'facstat:sla_error_ratio:rate5m{service="scratch",sla="scratch-monthly"}',
                                "value": 1,
                            }
                        ],
                    }
                ],
            },
            {  # planned maintenance is excluded: no burn
                "interval": "1m",
                "input_series": states("scratch", [("up", 30), ("maintenance", 60), ("up", 60)]),
                "alert_rule_test": [burn_test("40m", []), burn_test("100m", [])],
            },
            {  # 16x5 in Berlin: a broker outage at night burns nothing, at 07:00 local it pages
                "interval": "1m",
                "input_series": up_scratch
                + states(
                    "broker", [("up", 60), ("down", 60), ("up", 240), ("down", 60), ("up", 180)]
                ),
                "alert_rule_test": [
                    burn_test("100m", []),
                    burn_test("400m", firing(slas, "streaming-16x5", ALL_PAIRS)),
                ],
                "promql_expr_test": [
                    _hours("streaming-16x5", "streaming-path", "100m", 0),
                    _hours("streaming-16x5", "streaming-path", "400m", 1),
                ],
            },
            {  # the group's SLI: degraded by capacity, unknown counted as down (07:00 local on)
                "interval": "1m",
                "input_series": [
                    *states("scratch", [("up", 360), ("degraded", 30), ("up", 60)]),
                    {
                        "series": 'facstat_resource_capacity_ratio{resource="scratch"}',
                        "values": "1+0x359 0.6+0x29 1+0x59",
                    },
                    *states("broker", [("up", 400), ("unknown", 10), ("up", 40)]),
                ],
                "promql_expr_test": [
                    _bad("streaming-16x5", "streaming-path", "370m", 0.4),
                    _bad("streaming-16x5", "streaming-path", "405m", 1),
                    _bad("streaming-16x5", "streaming-path", "430m", 0),
                ],
            },
            {  # a member whose state is not exported is reported, not taken for available
                "interval": "1m",
                "input_series": up_scratch,
                "alert_rule_test": [
                    {"eval_time": "5m", "alertname": MEMBERS_ALERT, "exp_alerts": []},
                    {
                        "eval_time": "15m",
                        "alertname": MEMBERS_ALERT,
                        "exp_alerts": missing(slas, ["streaming-16x5", "batch-weekly"]),
                    },
                ],
            },
        ],
    }


def missing(slas: list[SlaDefinition], sla_ids: list[str]) -> list[dict[str, Any]]:
    rules = [r for g in rule_groups(slas)["groups"] for r in g["rules"]]
    chosen = [r for r in rules if r.get("alert") == MEMBERS_ALERT and r["labels"]["sla"] in sla_ids]
    return [{"exp_labels": r["labels"], "exp_annotations": r["annotations"]} for r in chosen]


def _bad(sla_id: str, service: str, at: str, value: float) -> dict[str, Any]:
    name = f'facstat:sla_bad:ratio{{service="{service}",sla="{sla_id}"}}'
    return {
        "expr": f'facstat:sla_bad:ratio{{sla="{sla_id}"}}',
        "eval_time": at,
        "exp_samples": [{"labels": name, "value": value}],
    }


def _hours(sla_id: str, service: str, at: str, value: int) -> dict[str, Any]:
    name = f'facstat:sla_service_hours:active{{service="{service}",sla="{sla_id}"}}'
    return {
        "expr": f'facstat:sla_service_hours:active{{sla="{sla_id}"}}',
        "eval_time": at,
        "exp_samples": [{"labels": name, "value": value}],
    }


def run_unit_tests(tmp_path: Path, rules: str, tests: dict[str, Any]) -> None:
    (tmp_path / "rules.yaml").write_text(rules)
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))
    done = promtool("test", "rules", tmp_path / "tests.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_promtool_unit_tests_see_the_expected_alerts_fire(
    slas: list[SlaDefinition], tmp_path: Path
) -> None:
    run_unit_tests(tmp_path, render_rules(slas), unit_tests(slas))


def test_local_time_in_prometheus_follows_dst(tmp_path: Path) -> None:
    """New York moved to daylight time on 26 April 1970: 120 days in, local is UTC-4."""
    sla = SlaDefinition.model_validate(
        {"id": "ny", "service": "batch", "resources": ["batch"], "objective": 99,
         "timezone": "America/New_York", "service_hours": {"calendar": "8x5"}}
    )  # fmt: skip
    name = 'facstat:sla_local_time:seconds{service="batch",sla="ny"}'
    tests = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1h",
        "tests": [
            {
                "interval": "1h",
                "input_series": [],
                "promql_expr_test": [
                    {
                        "expr": 'facstat:sla_local_time:seconds{sla="ny"}',
                        "eval_time": t,
                        "exp_samples": [{"labels": name, "value": v}],
                    }
                    for t, v in (("100d", 100 * 86400 - 5 * 3600), ("120d", 120 * 86400 - 4 * 3600))
                ],
            }
        ],
    }
    run_unit_tests(tmp_path, render_rules([sla], horizon=(1970, 1972)), tests)


def test_a_24x7_sla_needs_no_local_time_and_no_horizon_alert() -> None:
    sla = SlaDefinition.model_validate(
        {"id": "a", "service": "g", "resources": ["fs.home", "broker"], "objective": 99}
    )
    rules = rule_groups([sla])
    names = [r.get("record") for g in rules["groups"] for r in g["rules"]]
    assert len(rules["groups"]) == 1 and "facstat:sla_local_time:seconds" not in names
    assert 'resource=~"fs\\\\.home|broker"' in render_rules([sla]).replace("\n", " ")


def test_the_demo_facilitys_rules_from_the_cli_pass_promtool(tmp_path: Path) -> None:
    facility = Path(__file__).parents[2] / "examples" / "demo-facility.yaml"
    out = tmp_path / "demo-rules.yaml"
    bin_ = Path(sys.executable).parent / "facstat"
    done = subprocess.run(
        [str(bin_), "rules", "--facility", str(facility), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "interactive-monthly" in out.read_text()
    checked = promtool("check", "rules", out)
    assert checked.returncode == 0, checked.stdout + checked.stderr
