"""Grafana provisioning for the generated dashboards: one Prometheus datasource with the
uid every panel names, and a file provider that loads the dashboards' JSON files."""

from __future__ import annotations

from typing import Any

import yaml

from dashboards.panels import DATASOURCE_UID

PROMETHEUS_URL = "http://prometheus:9090"
DASHBOARDS_PATH = "/var/lib/grafana/dashboards/facstat"
SCRAPE_INTERVAL = "15s"
DATASOURCE_FILE = "provisioning/datasources/datasource.yaml"
DASHBOARDS_FILE = "provisioning/dashboards/dashboards.yaml"


def datasource(url: str = PROMETHEUS_URL, scrape_interval: str = SCRAPE_INTERVAL) -> dict[str, Any]:
    """`scrape_interval` is Prometheus's: Grafana's `$__rate_interval` is four of them."""
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "facstat Prometheus",
                "uid": DATASOURCE_UID,
                "type": "prometheus",
                "access": "proxy",
                "url": url,
                "isDefault": True,
                "editable": False,
                "jsonData": {"timeInterval": scrape_interval, "httpMethod": "POST"},
            }
        ],
    }


def dashboards(path: str = DASHBOARDS_PATH) -> dict[str, Any]:
    """A file provider for the directory where the generated JSON files are mounted."""
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "facstat",
                "orgId": 1,
                "folder": "facstat",
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 30,
                "options": {"path": path, "foldersFromFilesStructure": False},
            }
        ],
    }


def files(
    url: str = PROMETHEUS_URL, path: str = DASHBOARDS_PATH, scrape_interval: str = SCRAPE_INTERVAL
) -> dict[str, str]:
    """Relative file name → YAML text."""
    return {
        DATASOURCE_FILE: _yaml(datasource(url, scrape_interval)),
        DASHBOARDS_FILE: _yaml(dashboards(path)),
    }


def _yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
