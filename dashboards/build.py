"""Grafana dashboards generated from the facility file, as JSON, and written with their
provisioning files. The output is deterministic: keys sorted, panel ids numbered in
order, uids made of the facility id and the dashboard's name (file = uid + `.json`):

    <facility>-overview            facility overview (state, capacity, observation age…)
    <facility>-slurm-<cluster>     one per Slurm cluster
    <facility>-streaming           RabbitMQ and Redis data streaming nodes (if any)
    <facility>-filesystems         filesystems and Lustre (if any)
    <facility>-links               network links (if any)
    <facility>-slas                SLAs, error budgets and burn rates (with an SLA file)
    provisioning/datasources/datasource.yaml, provisioning/dashboards/dashboards.yaml
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grafanalib.core as G  # type: ignore[import-untyped]
from grafanalib._gen import DashboardEncoder  # type: ignore[import-untyped]

from dashboards import filesystems, links, overview, provisioning, sla, slurm, streaming
from dashboards.page import Page
from facility.config import FacilityConfig

Dashboard = dict[str, Any]
SECTIONS: tuple[Callable[[FacilityConfig], list[Page]], ...] = (
    overview.pages,
    slurm.pages,
    streaming.pages,
    filesystems.pages,
    links.pages,
    sla.pages,
)
SCHEMA_VERSION = 39  # Grafana 10/11
MAX_UID = 40  # Grafana's limit


def build(config: FacilityConfig) -> dict[str, Dashboard]:
    """File name → dashboard JSON, for every dashboard the facility file calls for."""
    out: dict[str, Dashboard] = {}
    for section in SECTIONS:
        for page in section(config):
            uid = uid_for(config.facility.id, page.slug)
            out[f"{uid}.json"] = dashboard(config, page, uid)
    return dict(sorted(out.items()))


def write(
    config: FacilityConfig,
    out_dir: Path,
    prometheus_url: str = provisioning.PROMETHEUS_URL,
    dashboards_path: str = provisioning.DASHBOARDS_PATH,
) -> list[Path]:
    """Write the dashboards and provisioning files under `out_dir`; remove the dashboards
    generated earlier for this facility that it no longer calls for (a renamed cluster).
    Returns the files written."""
    built = build(config)
    texts = {name: to_text(d) for name, d in built.items()}
    texts |= provisioning.files(prometheus_url, dashboards_path)
    for stale in out_dir.glob("*.json"):
        if stale.name not in built and _generated_for(stale, config.facility.id):
            stale.unlink()
    written = []
    for name, text in texts.items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _generated_for(path: Path, facility_id: str) -> bool:
    """Whether `path` is a dashboard generated for this facility (by its tags)."""
    try:
        tags = json.loads(path.read_text(encoding="utf-8")).get("tags", [])
    except (OSError, ValueError, AttributeError):
        return False
    return isinstance(tags, list) and "facstat" in tags and facility_id in tags


def to_text(d: Dashboard) -> str:
    return json.dumps(d, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def uid_for(facility_id: str, slug: str) -> str:
    """A stable uid from names; long ones keep a prefix and a hash of the whole."""
    uid = re.sub(r"[^a-z0-9-]+", "-", f"{facility_id}-{slug}".lower())
    if len(uid) <= MAX_UID:
        return uid
    return f"{uid[: MAX_UID - 9]}-{hashlib.sha256(uid.encode()).hexdigest()[:8]}"


def dashboard(config: FacilityConfig, page: Page, uid: str) -> Dashboard:
    name = config.facility.short_name or config.facility.id
    board = G.Dashboard(
        title=f"{name} · {page.title}",
        uid=uid,
        description=page.description,
        tags=["facstat", config.facility.id, *page.tags],
        panels=page.board.panels,
        templating=G.Templating(list=page.variables),
        links=[_links(name, config.facility.id)],
        time=G.Time("now-6h", "now"),
        refresh="30s",
        timezone="browser",
        graphTooltip=G.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR,
        schemaVersion=SCHEMA_VERSION,
    ).auto_panel_ids()
    data: Dashboard = json.loads(json.dumps(board.to_json_data(), cls=DashboardEncoder))
    return data


def _links(name: str, facility_id: str) -> Any:
    return G.DashboardLink(
        title=f"{name} dashboards",
        tags=["facstat", facility_id],
        asDropdown=True,
        keepTime=True,
        includeVars=False,
        type="dashboards",
    )
