"""A real Prometheus (Debian's `prometheus` package) of our own, on a free loopback port,
scraping one target every second and evaluating a rule file every second."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def config(target: str, rule_file: Path) -> dict[str, Any]:
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rule_file)],
        "scrape_configs": [{"job_name": "facstat", "static_configs": [{"targets": [target]}]}],
    }


class Prometheus:
    def __init__(self, workdir: Path, target: str, rules: str, port: int) -> None:
        self.workdir, self.url = workdir, f"http://127.0.0.1:{port}"
        self.port = port
        (workdir / "rules.yaml").write_text(rules, encoding="utf-8")
        self.config_file = workdir / "prometheus.yml"
        text = yaml.safe_dump(config(target, workdir / "rules.yaml"), sort_keys=False)
        self.config_file.write_text(text, encoding="utf-8")
        self.proc: subprocess.Popen[bytes] | None = None

    def check_config(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PROMTOOL, "check", "config", str(self.config_file)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def start(self) -> None:
        args = [
            PROMETHEUS,
            f"--config.file={self.config_file}",
            f"--storage.tsdb.path={self.workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]
        with (self.workdir / "prometheus.log").open("wb") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready(30)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, self.log()
            try:
                if httpx.get(self.url + "/-/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"prometheus did not get ready:\n{self.log()}")

    def log(self) -> str:
        return (self.workdir / "prometheus.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def query(self, expr: str) -> list[Any]:
        """The result of an instant query now; a PromQL error fails with Prometheus's message."""
        r = httpx.get(self.url + "/api/v1/query", params={"query": expr}, timeout=10)
        body = r.json()
        assert r.status_code == 200 and body["status"] == "success", f"{expr}\n{body}"
        result: list[Any] = body["data"]["result"]
        return result

    def label_values(self, label: str, match: str) -> list[str]:
        r = httpx.get(
            f"{self.url}/api/v1/label/{label}/values", params={"match[]": match}, timeout=10
        )
        body = r.json()
        assert r.status_code == 200 and body["status"] == "success", f"{match}\n{body}"
        values: list[str] = body["data"]
        return values
