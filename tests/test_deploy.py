"""The facility-scale deployment files are checked by the real tools: docker-compose
(Debian's, `config` only: no Docker engine runs here), promtool and amtool."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent / "facstat"


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found is not None, f"{name} is missing: scripts/services installs it"
    return found


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=cwd)


def test_compose_yaml_is_a_valid_compose_file_with_every_service(tmp_path: Path) -> None:
    env = DEPLOY / "facstat.env"
    created = not env.exists()
    if created:
        env.write_text((DEPLOY / "facstat.env.example").read_text())
    try:
        out = run(tool("docker-compose"), "-f", "compose.yaml", "config")
    finally:
        if created:
            env.unlink()
    assert out.returncode == 0, out.stderr
    for service in ("api-1", "api-2", "proxy", "postgres", "prometheus", "alertmanager",
                    "grafana", "otel-collector", "collector-slurm", "collector-brokers",
                    "collector-filesystems", "collector-links"):  # fmt: skip
        assert f"  {service}:" in out.stdout, service
    assert "healthcheck" in out.stdout


def test_the_prometheus_config_and_its_generated_rules_pass_promtool() -> None:
    out = run(tool("promtool"), "check", "config", str(DEPLOY / "prometheus" / "prometheus.yml"))
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_shipped_rules_are_what_facstat_rules_generates_for_the_demo(tmp_path: Path) -> None:
    fresh = tmp_path / "rules.yml"
    out = run(str(BIN), "rules", "--facility", "examples/demo-facility.yaml", "--out", str(fresh))
    assert out.returncode == 0, out.stderr
    assert fresh.read_text() == (DEPLOY / "prometheus" / "rules.yml").read_text(), (
        "regenerate: facstat rules --facility examples/demo-facility.yaml --out deploy/prometheus/rules.yml"
    )


def test_the_alertmanager_config_passes_amtool() -> None:
    out = run(tool("amtool"), "check-config", str(DEPLOY / "alertmanager" / "alertmanager.yml"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout
