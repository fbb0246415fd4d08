"""Pydantic models of the DOE IRI Facility API bodies (status and facility, v1 and v2).

They document `/api/v1/...` and `/api/v2/...` in our OpenAPI and give the query
parameters their types; the bodies themselves are rendered by `api.iri`. Fields,
enums and nullability follow `docs/iri-facts.md`; extra keys are allowed everywhere.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# v2 `resource_type` query values and allocation-unit URNs (docs/iri-facts.md §3.1).
_SEG = r"(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2}|[!$&'()*+,;=@]|/)+"
P_RT = rf"^urn:doe-iri:[A-Za-z0-9][A-Za-z0-9-]{{0,31}}:{_SEG}(?::{_SEG})*$"
P_ALLOC = rf"^urn:doe-iri:allocation:{_SEG}(?::{_SEG})*$"


class Status(enum.StrEnum):
    up = "up"
    down = "down"
    degraded = "degraded"
    unknown = "unknown"


class IncidentType(enum.StrEnum):
    planned = "planned"
    unplanned = "unplanned"
    reservation = "reservation"


class Resolution(enum.StrEnum):
    unresolved = "unresolved"
    cancelled = "cancelled"
    completed = "completed"
    extended = "extended"
    pending = "pending"


class ResourceType(enum.StrEnum):
    """v1 only; v2 uses resource-type URNs."""

    website = "website"
    service = "service"
    compute = "compute"
    system = "system"
    storage = "storage"
    network = "network"
    unknown = "unknown"


class AllocationUnit(enum.StrEnum):
    """v1 only; v2 uses allocation URNs."""

    node_hours = "node_hours"
    bytes = "bytes"
    inodes = "inodes"


class Endpoint(enum.StrEnum):
    compute = "compute"
    filesystem = "filesystem"


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class _V2(_Out):
    attributes: dict[str, Any] | None = Field(
        None, description="type-specific metadata; omitted when there is nothing to report"
    )


class _Named(_Out):
    id: str
    name: str | None = None
    description: str | None = None
    last_modified: datetime


class _Resource(_Named):
    group: str | None = None
    current_status: Status | None = None
    resource_type: str
    supported_endpoints: list[Endpoint] | None = None
    self_uri: str
    site_uri: str
    capability_uris: list[str]


class IriResourceV1(_Resource):
    resource_type: ResourceType


class IriResourceV2(_Resource, _V2):
    resource_type: str = Field(
        description="resource-type URN", examples=["urn:doe-iri:resource:storage:filesystem"]
    )


class _Incident(_Named):
    status: Status
    start: datetime
    end: datetime | None = None
    type: IncidentType
    resolution: Resolution
    self_uri: str
    event_uris: list[str]
    resource_uris: list[str]


class IriIncidentV1(_Incident):
    pass


class IriIncidentV2(_Incident, _V2):
    pass


class _Event(_Named):
    occurred_at: datetime
    status: Status = Field(description="the resource's status at the event")
    self_uri: str
    resource_uri: str
    incident_uri: str | None


class IriEventV1(_Event):
    pass


class IriEventV2(_Event, _V2):
    pass


class _Facility(_Named):
    short_name: str | None = None
    organization_name: str | None = None
    support_uri: str | None = Field(None, min_length=1, max_length=2083)
    self_uri: str
    site_uris: list[str]


class IriFacilityV1(_Facility):
    pass


class IriFacilityV2(_Facility, _V2):
    pass


class _Site(_Named):
    short_name: str | None = None
    operating_organization: str | None
    country_name: str | None = None
    locality_name: str | None = None
    state_or_province_name: str | None = None
    street_address: str | None = None
    unlocode: str | None = None
    altitude: float | None = None
    latitude: float | None = None
    longitude: float | None = None
    self_uri: str
    resource_uris: list[str]


class IriSiteV1(_Site):
    pass


class IriSiteV2(_Site, _V2):
    pass


class FieldError(BaseModel):
    field: str
    message: str


class Problem(_Out):
    """RFC 9457 problem body (the same in v1 and v2)."""

    type: str = "about:blank"
    title: str | None = None
    status: int = Field(ge=100, le=599)
    detail: str | None = None
    instance: str
    errors: list[FieldError] | None = Field(None, description="bad input fields (400)")


MODELS: dict[str, dict[str, type[BaseModel]]] = {
    "v1": {
        "Resource": IriResourceV1,
        "Incident": IriIncidentV1,
        "Event": IriEventV1,
        "Facility": IriFacilityV1,
        "Site": IriSiteV1,
    },
    "v2": {
        "Resource": IriResourceV2,
        "Incident": IriIncidentV2,
        "Event": IriEventV2,
        "Facility": IriFacilityV2,
        "Site": IriSiteV2,
    },
}
