"""View-models of what the status page announces: open incidents with their public
notes, and maintenance now and ahead. Pure.

The public page shows an incident's title, status, impact and **public** timeline
entries only; internal notes, who did what, the team and the priority's explanation
stay on the staff pages. `public_entries` filters again even when the store was
already asked for public entries only, so a caller's slip cannot leak a note.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Any

from api.pages.time_view import ago, local, span, until
from slas.incident_store import Incident, TimelineEntry
from slas.maintenance import Occurrence

STATUS_WORDS = {
    "triggered": "investigating",
    "acknowledged": "being worked on",
    "mitigated": "mitigated, monitoring",
    "resolved": "resolved",
    "cancelled": "cancelled",
}


@dataclass(frozen=True, slots=True)
class Note:
    at: str
    text: str


@dataclass(frozen=True, slots=True)
class IncidentCard:
    id: int
    title: str
    status: str
    opened: str  # "opened 12 min ago (Sat 21 Nov 2026 10:00 EST)"
    impacted: tuple[str, ...]
    notes: tuple[Note, ...]


@dataclass(frozen=True, slots=True)
class MaintenanceItem:
    window_id: str
    title: str
    description: str
    resources: tuple[str, ...]
    effect: str  # "down" / "degraded"
    when: str
    relative: str  # "starts in 3 h", "now, ends in 40 min"
    active: bool
    more: str = ""  # "and 9 more until Sat 21 Nov 2026 11:00 EST" (a repeating window)


def public_entries(timeline: Sequence[TimelineEntry]) -> list[TimelineEntry]:
    return [e for e in timeline if e.public]


def incident_card(
    inc: Incident,
    timeline: Sequence[TimelineEntry],
    names: Mapping[str, str],
    tz: tzinfo,
    now: datetime,
) -> IncidentCard:
    return IncidentCard(
        id=inc.id,
        title=inc.title,
        status=STATUS_WORDS.get(inc.status, inc.status),
        opened=f"opened {ago(inc.opened_at, now)} ({local(inc.opened_at, tz)})",
        impacted=tuple(_impact(rid, entry, names) for rid, entry in sorted(inc.impacted.items())),
        notes=tuple(Note(local(e.at, tz), e.text) for e in public_entries(timeline)),
    )


def _impact(rid: str, entry: Mapping[str, Any], names: Mapping[str, str]) -> str:
    name = names.get(rid, rid)
    if entry.get("recovered_at"):
        return f"{name}: recovered"
    return f"{name}: {entry.get('summary') or entry.get('state', '')}"


def maintenance_item(
    o: Occurrence, names: Mapping[str, str], tz: tzinfo, now: datetime
) -> MaintenanceItem:
    w = o.window
    active = o.start <= now < o.end
    relative = f"now, ends {until(o.end, now)}" if active else f"starts {until(o.start, now)}"
    listed = tuple(names.get(rid, rid) for rid in w.resources)
    return MaintenanceItem(
        window_id=w.id,
        title=w.title,
        description=w.description,
        resources=listed,
        effect="degraded" if w.effect == "degraded" else "down",
        when=span(o.start, o.end, tz),
        relative=relative,
        active=active,
    )


def maintenance_items(
    active: Sequence[Occurrence],
    upcoming: Sequence[Occurrence],
    names: Mapping[str, str],
    tz: tzinfo,
    now: datetime,
    limit: int = 20,
) -> list[MaintenanceItem]:
    """What is under maintenance now, then what is planned, soonest first. Occurrences
    of the same work (title, resources, effect) are shown once, with how many follow."""
    groups: dict[tuple[object, ...], list[Occurrence]] = {}
    for o in [*active, *(o for o in upcoming if o not in active)]:
        w = o.window
        groups.setdefault((w.title, w.resources, w.effect), []).append(o)
    items = []
    for found in list(groups.values())[:limit]:
        item = maintenance_item(found[0], names, tz, now)
        if len(found) > 1:
            item = replace(item, more=f"and {len(found) - 1} more until {local(found[-1].end, tz)}")
        items.append(item)
    return items
