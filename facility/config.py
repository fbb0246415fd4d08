"""The facility file: what a centre has, how it depends on itself, who needs what.

A facility file is YAML validated by the models below (every field carries a
description, which `docs/facility-file.md` and the JSON schema show). Loading
never raises anything but `ConfigError`, whose issues name the YAML path and
the problem, e.g. ``resources[3].depends_on: unknown resource 'scrach'``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from facility.errors import ConfigError, Issue

# DOE IRI v2 resource types, written without their `urn:doe-iri:resource:` prefix.
IRI_RESOURCE_TYPES = (
    "compute",
    "compute:system",
    "compute:node",
    "compute:cpu",
    "compute:gpu",
    "storage",
    "storage:system",
    "storage:filesystem",
    "storage:mount",
    "storage:block",
    "storage:object",
    "network",
    "system",
    "website",
    "service",
    "service:dtn",
    "service:inference",
    "unknown",
)
IRI_URN_PREFIX = "urn:doe-iri:resource:"
# facstat's own types, each with the IRI type it refines (for the IRI projection).
FACSTAT_RESOURCE_TYPES = {
    "urn:facstat:partition": "compute",
    "urn:facstat:scheduler": "service",
    "urn:facstat:dsn": "service",
    "urn:facstat:interactive-service": "service",
}
RESOURCE_TYPES = (*IRI_RESOURCE_TYPES, *FACSTAT_RESOURCE_TYPES)
Tier = Literal["24x7", "16x5", "8x5"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")


def _duration(value: Any) -> Any:
    """Accept `90s`, `2m`, `1h`, `1d` besides pydantic's seconds and ISO 8601."""
    if isinstance(value, str) and (m := _DURATION.match(value)):
        return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
Identifier = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$", description="lower-case id: letters, digits, . _ -"
    ),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Hysteresis(_Model):
    consecutive: int = Field(
        2, ge=1, le=100, description="observations in a row needed to change state"
    )
    min_duration: Duration | None = Field(
        None, description="or: a new state held this long is accepted even with fewer observations"
    )
    capacity_step: float = Field(
        0.05, gt=0, le=1, description="capacity change that starts a new history interval"
    )


class Thresholds(_Model):
    degraded_below: float = Field(
        0.9, ge=0, le=1, description="capacity fraction under which an up resource is degraded"
    )
    down_below: float = Field(
        0.0, ge=0, le=1, description="capacity fraction under which a resource is down"
    )


class Defaults(_Model):
    stale_after: Duration = Field(
        timedelta(minutes=5), description="silence after which a resource becomes unknown"
    )
    tier: Tier | None = Field(None, description="service tier for resources that name none")
    hysteresis: Hysteresis = Field(default_factory=Hysteresis, description="default hysteresis")
    thresholds: Thresholds = Field(default_factory=Thresholds, description="default thresholds")


class Site(_Model):
    id: Identifier
    name: str = Field(description="full name of the site")
    short_name: str | None = Field(None, description="short name, e.g. the lab's acronym")
    description: str = Field("", description="what the site is")
    country: str | None = Field(None, description="ISO 3166 country name")
    locality: str | None = Field(None, description="city")
    latitude: float | None = Field(None, ge=-90, le=90, description="decimal degrees")
    longitude: float | None = Field(None, ge=-180, le=180, description="decimal degrees")
    operator: str | None = Field(None, description="operating organisation")


class FacilityInfo(_Model):
    id: Identifier
    name: str = Field(description="full name of the facility")
    short_name: str | None = Field(None, description="acronym")
    description: str = Field("", description="what the facility offers")
    organization: str | None = Field(None, description="operating organisation")
    support_url: str | None = Field(None, description="where users get help")
    timezone: str = Field("UTC", description="IANA time zone of the facility")
    sites: list[Site] = Field(default_factory=list, description="physical sites")


class System(_Model):
    id: Identifier
    name: str = Field(description="display name")
    site: str | None = Field(None, description="id of the site that hosts it")
    kind: Literal["production", "testbed", "service"] = Field(
        "production", description="production system, testbed, or a group of shared services"
    )
    description: str = Field("", description="what the system is")


class CollectorRef(_Model):
    kind: str = Field(description="collector kind, e.g. slurm, redis, rabbitmq, filesystem, link")
    options: dict[str, Any] = Field(default_factory=dict, description="collector-specific options")


class Resource(_Model):
    id: Identifier
    name: str = Field(description="display name")
    type: str = Field(
        description="IRI v2 resource type without its urn:doe-iri:resource: prefix "
        "(compute:system, storage:filesystem, service:dtn, network, …) or a urn:facstat: type"
    )
    system: str = Field(description="id of the system (group) the resource belongs to")
    group: str | None = Field(None, description="free grouping label, e.g. 'filesystems'")
    description: str = Field("", description="what users get from it")
    depends_on: list[str] = Field(default_factory=list, description="ids of resources it needs")
    tier: Tier | None = Field(None, description="service tier; none means not paged")
    time_sensitive: bool = Field(False, description="serves interactive/real-time experiment work")
    stale_after: Duration | None = Field(None, description="silence after which it is unknown")
    hysteresis: Hysteresis | None = Field(None, description="overrides the facility default")
    thresholds: Thresholds | None = Field(None, description="overrides the facility default")
    collector: CollectorRef | None = Field(None, description="how it is observed")


class BundleNeed(_Model):
    resource: str = Field(description="id of a resource the workflow needs")
    nodes: int | None = Field(None, ge=1, description="nodes needed on a partition")
    bandwidth_gbps: float | None = Field(None, gt=0, description="throughput needed on a link")
    free_space_tb: float | None = Field(None, gt=0, description="free space needed on a filesystem")
    note: str = Field("", description="why the workflow needs it")


class Beamline(_Model):
    id: Identifier
    name: str = Field(description="display name")
    description: str = Field("", description="what is measured there")
    bundle: list[BundleNeed] = Field(description="resources its workflow needs during beamtime")


class ExperimentFacility(_Model):
    id: Identifier
    name: str = Field(description="e.g. a light source or a fusion experiment")
    description: str = Field("", description="what it is")
    beamlines: list[Beamline] = Field(description="beamlines or experiment stations")


class Operations(_Model):
    slas: str | None = Field(
        None, description="SLA definitions (YAML file), relative to the facility file"
    )
    maintenance_calendars: list[str] = Field(
        default_factory=list,
        description="iCalendar files (relative to the facility file) or http(s) URLs of "
        "maintenance windows, imported at start-up as one source each",
    )
    beamtime_schedules: list[str] = Field(
        default_factory=list,
        description="beamtime schedules (YAML or .ics files, or http(s) URLs), imported at start-up",
    )
    incidents: str | None = Field(
        None,
        description="incident policy (YAML file: priority, people, teams and on-call rotations, "
        "receivers, routes, escalation), relative to the facility file; none: incidents are "
        "recorded but nobody is paged",
    )
    notice: dict[Tier, Duration] = Field(
        default_factory=dict,
        description="minimum notice for a maintenance window per service tier, e.g. {24x7: 7d}",
    )
    imminent_beamtime: Duration = Field(
        timedelta(hours=24), description="how soon a beamtime counts as imminent"
    )


class FacilityConfig(_Model):
    facility: FacilityInfo = Field(description="the facility and its sites")
    defaults: Defaults = Field(default_factory=Defaults, description="defaults for resources")
    systems: list[System] = Field(description="systems and service groups")
    resources: list[Resource] = Field(description="everything whose status is tracked")
    experiment_facilities: list[ExperimentFacility] = Field(
        default_factory=list, description="experiment facilities served, with beamline bundles"
    )
    operations: Operations = Field(
        default_factory=Operations,
        description="SLAs, maintenance calendars, beamtime schedules and notice policy",
    )

    def resource(self, resource_id: str) -> Resource:
        return self.resources_by_id()[resource_id]

    def resources_by_id(self) -> dict[str, Resource]:
        return {r.id: r for r in self.resources}

    def stale_after(self, r: Resource) -> timedelta:
        return r.stale_after or self.defaults.stale_after

    def hysteresis(self, r: Resource) -> Hysteresis:
        return r.hysteresis or self.defaults.hysteresis

    def thresholds(self, r: Resource) -> Thresholds:
        return r.thresholds or self.defaults.thresholds

    def tier(self, r: Resource) -> str | None:
        return r.tier or self.defaults.tier


def load_facility(path: str | Path) -> FacilityConfig:
    """Read and validate a facility file; raise `ConfigError` naming every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [Issue("", f"cannot read file: {exc}")]) from exc
    return parse_facility(text, str(path))


def parse_facility(text: str, source: str = "<facility>") -> FacilityConfig:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(source, [Issue("", _yaml_message(exc))]) from exc
    if not isinstance(data, dict):
        raise ConfigError(source, [Issue("", "the file must be a YAML mapping")])
    try:
        config = FacilityConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [_issue(err) for err in exc.errors()]) from exc
    from facility.topology import check_references  # the graph checks live with the graph

    issues = check_references(config)
    if issues:
        raise ConfigError(source, issues)
    return config


def _yaml_message(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is None:
        return f"invalid YAML: {problem}"
    return f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"


def _issue(err: Any) -> Issue:
    return Issue(yaml_path(err["loc"]), err["msg"])


def yaml_path(loc: tuple[Any, ...]) -> str:
    """`('resources', 3, 'depends_on')` -> `resources[3].depends_on`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
