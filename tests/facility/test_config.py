"""The facility file: shipped examples load, bad files get located messages, never tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from api.cli import app
from facility.config import load_facility, parse_facility
from facility.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*facility*.yaml")) + sorted(
    (ROOT / "tests" / "data").glob("*facility*.yaml")
)
DEMO = ROOT / "examples" / "demo-facility.yaml"


def _demo() -> dict:
    return yaml.safe_load(DEMO.read_text())


def _problems(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_facility(yaml.safe_dump(data))
    return [str(i) for i in exc.value.issues]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_shipped_facility_file_loads(path: Path) -> None:
    config = load_facility(path)
    assert config.resources


def test_the_demo_facility_has_what_the_issue_asks_for() -> None:
    c = load_facility(DEMO)
    kinds = {s.kind for s in c.systems}
    assert {"production", "testbed"} <= kinds
    types = [r.type for r in c.resources]
    assert types.count("urn:facstat:partition") >= 3
    assert types.count("urn:facstat:dsn") == 2
    assert types.count("storage:filesystem") == 3
    assert types.count("network") == 2
    assert {
        r.collector.kind for r in c.resources if r.type == "urn:facstat:dsn" and r.collector
    } == {"rabbitmq", "redis"}
    assert sum(len(e.beamlines) for e in c.experiment_facilities) >= 2
    assert all(bl.bundle for e in c.experiment_facilities for bl in e.beamlines)


def test_an_unknown_dependency_is_named_with_its_yaml_path() -> None:
    data = _demo()
    data["resources"][3]["depends_on"] = ["scrach"]
    assert _problems(data) == ["resources[3].depends_on[0]: unknown resource 'scrach'"]


def test_a_dependency_cycle_is_rejected_and_shown() -> None:
    data = _demo()
    scratch = next(r for r in data["resources"] if r["id"] == "scratch")
    scratch["depends_on"] = ["dsn-rabbitmq"]
    (problem,) = _problems(data)
    assert "dependency cycle" in problem
    assert "scratch" in problem and "dsn-rabbitmq" in problem


def test_a_wrong_field_type_names_the_field() -> None:
    data = _demo()
    data["resources"][0]["stale_after"] = "soon"
    (problem,) = _problems(data)
    assert problem.startswith("resources[0].stale_after:")


def test_unknown_keys_are_refused_rather_than_ignored() -> None:
    data = _demo()
    data["resources"][1]["stale_afer"] = "2m"
    assert _problems(data) == ["resources[1].stale_afer: Extra inputs are not permitted"]


def test_unknown_system_type_site_and_bundle_references_are_all_reported_at_once() -> None:
    data = _demo()
    data["resources"][0]["system"] = "nowhere"
    data["resources"][1]["type"] = "compute:toaster"
    data["systems"][0]["site"] = "mars"
    data["experiment_facilities"][0]["beamlines"][0]["bundle"][0]["resource"] = "ghost"
    problems = _problems(data)
    assert "resources[0].system: unknown system 'nowhere'" in problems
    assert "resources[1].type: unknown resource type 'compute:toaster'" in problems
    assert "systems[0].site: unknown site 'mars'" in problems
    assert (
        "experiment_facilities[0].beamlines[0].bundle[0].resource: unknown resource 'ghost'"
        in problems
    )


def test_duplicate_ids_are_rejected() -> None:
    data = _demo()
    data["resources"].append(dict(data["resources"][0]))
    assert any("duplicate id" in p for p in _problems(data))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("facility: [unclosed", "invalid YAML at line 1"),
        ("- just\n- a list\n", "the file must be a YAML mapping"),
        ("", "the file must be a YAML mapping"),
    ],
)
def test_malformed_yaml_gets_a_located_message(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_facility(text)
    assert expected in str(exc.value)


def test_durations_accept_human_units() -> None:
    data = _demo()
    data["resources"][0]["stale_after"] = "90s"
    config = parse_facility(yaml.safe_dump(data))
    assert config.stale_after(config.resources[0]).total_seconds() == 90


def test_check_config_exits_zero_on_a_valid_file_and_one_on_an_invalid_one(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["check-config", str(DEMO)])
    assert ok.exit_code == 0, ok.output
    assert "17 resources" in ok.output
    bad = tmp_path / "bad.yaml"
    data = _demo()
    data["resources"][3]["depends_on"] = ["scrach"]
    bad.write_text(yaml.safe_dump(data))
    result = runner.invoke(app, ["check-config", str(bad)])
    assert result.exit_code == 1
    assert "resources[3].depends_on[0]: unknown resource 'scrach'" in result.output
    assert "Traceback" not in result.output


def test_check_config_on_a_missing_file_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check-config", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "cannot read file" in result.output


def test_check_config_names_a_bad_collector_option(tmp_path: Path) -> None:
    data = _demo()
    broker = next(r for r in data["resources"] if r["id"] == "dsn-redis")
    broker["collector"]["options"]["ping_degraded_seconds"] = -1
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(app, ["check-config", str(bad)])
    assert result.exit_code == 1
    assert "resources[dsn-redis].collector.options.ping_degraded_seconds" in result.output
