"""The DOE IRI Facility API (status and facility parts) as a projection of our model.

Pure functions: facility config, effective statuses and stored events in, IRI v1 or
v2 dicts out (field names, enums and nullability as in `docs/iri-facts.md`). No I/O;
`api.routes.iri` reads the store and serves the results. For callers without
`status:read-internal` the routes hand these functions the public view of events and
incidents (`api.redaction`), so descriptions never carry node names or drain reasons.

State mapping: `up`, `degraded`, `down` and `unknown` are the same in IRI. `maintenance`
becomes `down`, because the resource is not available to users; its planned window
will also appear as a `planned` Incident once maintenance windows are stored.

Incidents have no projection here: facstat has no incident engine yet, so the IRI
incident endpoints serve none. Their projection arrives with the incident issue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from api.views import ts
from facility.config import (
    FACSTAT_RESOURCE_TYPES,
    IRI_URN_PREFIX,
    FacilityConfig,
    Resource,
    Site,
)
from facility.model import SEVERITY, EffectiveStatus, State
from facility.store import EventRecord
from slas.incident_store import Incident
from slas.maintenance import (
    MaintenanceWindow,
    Occurrence,
    current_or_next,
    occurrences,
    resolution,
)

Version = Literal["v1", "v2"]
Doc = dict[str, Any]
Check = Callable[[Doc], bool]
FACSTAT_URN = "urn:facstat:"
EXT_AUTHORITY = "facstat"
STATUS_CHANGED = "status_changed"


@dataclass(frozen=True, slots=True)
class Context:
    """What every projection needs: the facility, the public base URL, the API version
    and when the facility file was loaded (the `last_modified` of static objects)."""

    config: FacilityConfig
    base_url: str
    version: Version
    loaded_at: datetime

    def uri(self, *parts: str) -> str:
        """Absolute URL of an API path of this version, e.g. `…/api/v2/facility`."""
        return "/".join((self.base_url.rstrip("/"), "api", self.version, *parts))


# -- values -------------------------------------------------------------------------


def iri_status(state: str) -> str:
    """Our state as an IRI `Status`: `maintenance` is `down`, the rest are the same."""
    return "down" if state == State.MAINTENANCE else State(state).value


def _iri_short_type(rtype: str) -> str:
    """`storage:filesystem` stays; `urn:facstat:partition` becomes its parent `compute`."""
    return FACSTAT_RESOURCE_TYPES.get(rtype, rtype)


def v1_resource_type(rtype: str) -> str:
    """The v1 `ResourceType`: the first segment of the IRI type (`storage:filesystem`→`storage`)."""
    return _iri_short_type(rtype).split(":", 1)[0]


def v2_resource_type(rtype: str) -> str:
    """The v2 URN: `urn:doe-iri:resource:<type>`, or for our own types an extension under
    their IRI parent, e.g. `urn:doe-iri:resource:compute:ext:facstat:partition`."""
    if rtype.startswith(FACSTAT_URN):
        name = rtype.removeprefix(FACSTAT_URN)
        return f"{IRI_URN_PREFIX}{_iri_short_type(rtype)}:ext:{EXT_AUTHORITY}:{name}"
    return IRI_URN_PREFIX + rtype


def resource_type(rtype: str, version: Version) -> str:
    return v1_resource_type(rtype) if version == "v1" else v2_resource_type(rtype)


def type_within(value: str, query: str) -> bool:
    """URN prefix match on whole colon-separated segments (`…:stor` is not `…:storage`)."""
    return value == query or value.startswith(query + ":")


# -- facility and sites ---------------------------------------------------------------


def sites(config: FacilityConfig) -> list[Site]:
    """The facility's sites; a facility file naming none gets one site, the facility itself,
    because every IRI Resource must point at a site."""
    info = config.facility
    return list(info.sites) or [Site(id=info.id, name=info.name, operator=info.organization)]


def site_of(r: Resource, config: FacilityConfig) -> str:
    """The id of the site hosting `r`: its system's site, else the facility's first site."""
    system = next(s for s in config.systems if s.id == r.system)
    return system.site or sites(config)[0].id


def _named(id_: str, name: str | None, description: str | None) -> Doc:
    """The common fields. v2 `attributes` is optional and omitted: nothing to report yet."""
    return {"id": id_, "name": name, "description": description or None}


def facility(ctx: Context) -> Doc:
    info = ctx.config.facility
    return {
        **_named(info.id, info.name, info.description),
        "last_modified": ts(ctx.loaded_at),
        "short_name": info.short_name,
        "organization_name": info.organization,
        "support_uri": info.support_url,
        "self_uri": ctx.uri("facility"),
        "site_uris": [ctx.uri("facility", "sites", s.id) for s in sites(ctx.config)],
    }


def site(ctx: Context, s: Site) -> Doc:
    hosted = [r.id for r in ctx.config.resources if site_of(r, ctx.config) == s.id]
    return {
        **_named(s.id, s.name, s.description),
        "last_modified": ts(ctx.loaded_at),
        "short_name": s.short_name,
        "operating_organization": s.operator,
        "country_name": s.country,
        "locality_name": s.locality,
        "latitude": s.latitude,
        "longitude": s.longitude,
        "self_uri": ctx.uri("facility", "sites", s.id),
        "resource_uris": [ctx.uri("status", "resources", rid) for rid in hosted],
    }


# -- status ---------------------------------------------------------------------------


def resource(ctx: Context, r: Resource, status: EffectiveStatus | None) -> Doc:
    """`last_modified` is when the current state began (load time if none is recorded)."""
    since = status.since if status and status.since else ctx.loaded_at
    return {
        **_named(r.id, r.name, r.description),
        "last_modified": ts(since),
        "group": r.group,
        "current_status": iri_status(status.state) if status else "unknown",
        "resource_type": resource_type(r.type, ctx.version),
        "self_uri": ctx.uri("status", "resources", r.id),
        "site_uri": ctx.uri("facility", "sites", site_of(r, ctx.config)),
        "capability_uris": [],
    }


def event_name(e: EventRecord) -> str:
    change = f"{e.from_state} -> {e.to_state}" if e.from_state else e.to_state
    return f"{e.resource_id}: {change}"


def event(ctx: Context, e: EventRecord, incident_of: IncidentOf | None = None) -> Doc:
    """A `status_changed` row, linked to the unplanned incident it was part of (if any)."""
    found = incident_of(e) if incident_of is not None else None
    return {
        **_named(e.uuid, event_name(e), e.description),
        "last_modified": ts(e.occurred_at),
        "occurred_at": ts(e.occurred_at),
        "status": iri_status(e.to_state),
        "self_uri": ctx.uri("status", "events", e.uuid),
        "resource_uri": ctx.uri("status", "resources", e.resource_id),
        "incident_uri": ctx.uri("status", "incidents", found) if found else None,
    }


IncidentOf = Callable[[EventRecord], str | None]
_RESOLUTION = {"resolved": "completed", "cancelled": "cancelled"}


def incident_id(inc: Incident) -> str:
    return f"inc-{inc.id}"


def unplanned_incident(ctx: Context, inc: Incident, events: Iterable[str]) -> Doc:
    """An incident of facstat's engine as an IRI incident of type `unplanned`; its status
    is the worst state of what it still impacts (`up` once it is over)."""
    live = [v.get("state", "unknown") for v in inc.impacted.values() if not v.get("recovered_at")]
    worst_state = max((State(x) for x in live), key=SEVERITY.__getitem__, default=State.UP)
    status = "up" if not inc.is_open else iri_status(worst_state)
    return {
        **_named(incident_id(inc), inc.title, inc.explanation.get("summary") or None),
        "last_modified": ts(inc.updated_at),
        "status": status,
        "start": ts(inc.opened_at),
        "end": ts(inc.resolved_at),
        "type": "unplanned",
        "resolution": _RESOLUTION.get(inc.status, "unresolved"),
        "self_uri": ctx.uri("status", "incidents", incident_id(inc)),
        "event_uris": [ctx.uri("status", "events", u) for u in events],
        "resource_uris": [ctx.uri("status", "resources", rid) for rid in sorted(inc.impacted)],
    }


def incident_index(incidents: Iterable[Incident]) -> IncidentOf:
    """Which incident an event belongs to: one that impacted its resource at its time."""
    spans: dict[str, list[tuple[datetime, datetime | None, str]]] = {}
    for inc in incidents:
        for rid in inc.impacted:
            spans.setdefault(rid, []).append((inc.opened_at, inc.resolved_at, incident_id(inc)))

    def incident_of(e: EventRecord) -> str | None:
        for start, end, iid in spans.get(e.resource_id, ()):
            if start <= e.occurred_at and (end is None or e.occurred_at <= end):
                return iid
        return None

    return incident_of


def maintenance_incident(ctx: Context, w: MaintenanceWindow, now: datetime) -> Doc:
    """A maintenance window as an IRI incident of type `planned` (or `reservation`, for a
    scheduler's MAINT reservation). A recurring window is one incident whose `start`/`end`
    are its current or next occurrence (its last one once it is over)."""
    occ = current_or_next(w, now) or _last(w, now)
    start, end = (occ.start, occ.end) if occ is not None else (w.start, w.end)
    return {
        **_named(w.id, w.title, w.description),
        "last_modified": ts(w.updated_at or w.created_at or w.start),
        "status": "down" if w.effect == "down" else "degraded",
        "start": ts(start),
        "end": ts(end),
        "type": "reservation" if w.kind == "reservation" else "planned",
        "resolution": resolution(w, now),
        "self_uri": ctx.uri("status", "incidents", w.id),
        "event_uris": [],
        "resource_uris": [ctx.uri("status", "resources", rid) for rid in w.resources],
    }


def _last(w: MaintenanceWindow, now: datetime) -> Occurrence | None:
    found = occurrences(w, w.start, now, limit=100_000)
    return found[-1] if found else None


def overlaps(start: datetime | None, end: datetime | None) -> Check | None:
    """Incidents whose [start, end] meets [start, end] (either bound may be open)."""
    if start is None and end is None:
        return None
    lo = start or datetime.min.replace(tzinfo=UTC)
    hi = end or datetime.max.replace(tzinfo=UTC)
    return lambda d: (
        datetime.fromisoformat(d["start"]) <= hi
        and (d["end"] is None or datetime.fromisoformat(d["end"]) >= lo)
    )


def about(resource_uri: str | None) -> Check | None:
    return None if resource_uri is None else lambda d: resource_uri in d["resource_uris"]


# -- filters (on projected docs) ------------------------------------------------------


def equal(field: str, value: object | None) -> Check | None:
    return None if value is None else lambda d: d.get(field) == value


def contains(field: str, text: str | None) -> Check | None:
    return None if text is None else lambda d: text in (d.get(field) or "")


def type_check(query: str | None) -> Check | None:
    return None if query is None else lambda d: type_within(d["resource_type"], query)


def newer(since: datetime | None) -> Check | None:
    """`last_modified` strictly after `since` (what `modified_since` asks for)."""
    if since is None:
        return None
    return lambda d: datetime.fromisoformat(d["last_modified"]) > since


def with_capability(
    units: Iterable[str] | None, capability_units: Mapping[str, frozenset[str]]
) -> Check | None:
    """Resources with a capability (by URI) that offers one of `units`. facstat models no
    capabilities yet, so with an empty `capability_units` nothing matches."""
    if units is None:
        return None
    wanted = frozenset(units)
    return lambda d: any(
        capability_units.get(u, frozenset()) & wanted for u in d["capability_uris"]
    )


def matches(doc: Doc, checks: Iterable[Check | None]) -> bool:
    return all(c(doc) for c in checks if c is not None)


def select(docs: Iterable[Doc], checks: Iterable[Check | None]) -> list[Doc]:
    checks = list(checks)
    return [d for d in docs if matches(d, checks)]
