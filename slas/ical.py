"""Maintenance windows to and from iCalendar (RFC 5545). Pure: bytes or text in, bytes out.

One VEVENT is one window. What is read (and written by `maintenance_feed`):

    UID                      the window id (required, stable). An event with RECURRENCE-ID
                             (a moved or changed occurrence) becomes its own window with id
                             `<UID>/<RECURRENCE-ID in UTC, yyyymmddThhmmssZ>`, and that
                             occurrence is excluded from the series it came from
    SUMMARY, DESCRIPTION     title (default "Maintenance") and the text for users
    DTSTART                  required; TZID (IANA, or a Windows name icalendar maps) or UTC;
                             floating and DATE values: see `slas.ical_read`
    DTEND or DURATION        exactly one of them
    RRULE, EXDATE            at most one RRULE (DAILY or coarser); RDATE and EXRULE are refused
    STATUS                   CANCELLED marks the window cancelled; any other value does not
    SEQUENCE                 the revision
    X-FACSTAT-RESOURCES      resource ids, comma-separated, e.g. `scratch,borealis-batch`;
                             if absent, the CATEGORIES are read as resource ids (the feed
                             writes both, so calendar clients can filter by resource)
    X-FACSTAT-EFFECT         down (default) | degraded
    X-FACSTAT-KIND           planned (default) | reservation
    X-FACSTAT-NOTICE         when notice was given; if absent, CREATED; DTSTAMP is never used
                             (in a published feed it is when the feed was generated)
    X-FACSTAT-EXTENDED-UNTIL the extended end of the current or last occurrence
    CREATED, LAST-MODIFIED   created_at, updated_at

Import is all-or-nothing: the first problem raises `CalendarImportError` naming the source,
the line, the property and the event UID, and nothing is returned. A calendar holds at most
`MAX_EVENTS` events and `MAX_BYTES` bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from icalendar import Calendar, Event  # type: ignore[import-untyped]
from icalendar.prop import vCategory, vDDDTypes, vRecur  # type: ignore[import-untyped]

from slas.calendar_errors import CalendarImportError, InvalidWindow
from slas.ical_read import MAX_BYTES, MAX_EVENTS, IcalEvent, read_events, zone_name
from slas.maintenance import Effect, Kind, MaintenanceWindow, check_resources, zone

__all__ = [
    "MAX_BYTES",
    "MAX_EVENTS",
    "CalendarImportError",
    "maintenance_feed",
    "parse_maintenance_calendar",
]

PRODID = "-//facstat//maintenance feed//EN"
X_RESOURCES, X_EFFECT, X_KIND = "X-FACSTAT-RESOURCES", "X-FACSTAT-EFFECT", "X-FACSTAT-KIND"
X_NOTICE, X_EXTENDED = "X-FACSTAT-NOTICE", "X-FACSTAT-EXTENDED-UNTIL"
_PROPERTY = {
    "id": "UID",
    "title": "SUMMARY",
    "resources": X_RESOURCES,
    "effect": X_EFFECT,
    "kind": X_KIND,
    "start": "DTSTART",
    "timezone": "DTSTART",
    "end": "DTEND",
    "rrule": "RRULE",
    "notice_given_at": X_NOTICE,
    "extended_until": X_EXTENDED,
    "created_at": "CREATED",
    "updated_at": "LAST-MODIFIED",
    "sequence": "SEQUENCE",
}


def parse_maintenance_calendar(
    data: bytes | str,
    source: str,
    known_resources: set[str] | None = None,
    *,
    default_timezone: str | None = None,
) -> list[MaintenanceWindow]:
    """The windows of an iCalendar document, in document order; all or nothing."""
    events = read_events(data, source, default_timezone)
    windows = [_checked_window(ev, source, known_resources) for ev in events]
    _no_duplicates(events, windows)
    return _apply_overrides(events, windows)


def _checked_window(ev: IcalEvent, source: str, known: set[str] | None) -> MaintenanceWindow:
    ev.check()
    try:
        window = _window(ev, source)
        if known is not None:
            check_resources(window, known)
    except InvalidWindow as exc:
        prop = _PROPERTY.get(exc.field, "EXDATE" if exc.field.startswith("exdates") else "")
        if prop == "DTEND" and ev.single("DTEND") is None:
            prop = "DURATION"
        raise ev.fail(prop, exc.reason) from exc
    return window


def _window(ev: IcalEvent, source: str) -> MaintenanceWindow:
    start = ev.required("DTSTART")
    for refused in ("RDATE", "EXRULE"):
        if refused in ev.event:
            raise ev.fail(refused, "is not supported: use RRULE and EXDATE, or separate events")
    return MaintenanceWindow(
        id=_window_id(ev),
        title=ev.text("SUMMARY") or "Maintenance",
        description=ev.text("DESCRIPTION"),
        resources=_resources(ev),
        effect=cast(Effect, ev.text(X_EFFECT, "down").lower()),  # the window checks both
        kind=cast(Kind, ev.text(X_KIND, "planned").lower()),
        start=start,
        end=ev.end(start),
        timezone=zone_name(start.tzinfo) or "UTC",
        rrule=_rrule(ev),
        exdates=_exdates(ev, start),
        notice_given_at=ev.when(X_NOTICE) or ev.when("CREATED"),
        source=source,
        cancelled=ev.text("STATUS").upper() == "CANCELLED",
        extended_until=ev.when(X_EXTENDED),
        created_at=ev.when("CREATED"),
        updated_at=ev.when("LAST-MODIFIED"),
        sequence=ev.integer("SEQUENCE"),
    )


def _window_id(ev: IcalEvent) -> str:
    recurrence = ev.when("RECURRENCE-ID")
    return str(ev.uid) if recurrence is None else f"{ev.uid}/{_stamp(recurrence)}"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _resources(ev: IcalEvent) -> tuple[str, ...]:
    raw = ev.event.get(X_RESOURCES)
    if raw is not None:
        texts = [str(v) for v in (raw if isinstance(raw, list) else [raw])]
    else:
        cats = ev.event.get("CATEGORIES") or []
        texts = [str(c) for v in (cats if isinstance(cats, list) else [cats]) for c in v.cats]
    ids = (part.strip() for text in texts for part in text.split(","))
    return tuple(dict.fromkeys(i for i in ids if i))


def _rrule(ev: IcalEvent) -> str | None:
    rule = ev.single("RRULE")
    return None if rule is None else bytes(rule.to_ical()).decode()


def _exdates(ev: IcalEvent, start: datetime) -> tuple[datetime, ...]:
    raw = ev.event.get("EXDATE") or []
    out: list[datetime] = []
    for group in raw if isinstance(raw, list) else [raw]:
        tzid = group.params.get("TZID")
        for item in group.dts:
            value = item.dt
            if not isinstance(value, datetime) and isinstance(value, date):
                value = datetime.combine(value, start.timetz())  # a DATE excludes that day
            out.append(ev.aware("EXDATE", value, tzid))
    return tuple(out)


def _no_duplicates(events: list[IcalEvent], windows: list[MaintenanceWindow]) -> None:
    seen: set[str] = set()
    for ev, w in zip(events, windows, strict=True):
        if w.id in seen:
            raise ev.fail("UID", f"another event has the same UID {ev.uid!r}")
        seen.add(w.id)


def _apply_overrides(
    events: list[IcalEvent], windows: list[MaintenanceWindow]
) -> list[MaintenanceWindow]:
    """Exclude each RECURRENCE-ID occurrence from the series it overrides."""
    moved: dict[str, list[datetime]] = {}
    for ev in events:
        if (recurrence := ev.when("RECURRENCE-ID")) is not None:
            moved.setdefault(str(ev.uid), []).append(recurrence)
    out = []
    for w in windows:
        extra = moved.get(w.id, []) if w.rrule is not None else []
        out.append(replace(w, exdates=(*w.exdates, *extra)) if extra else w)
    return out


def maintenance_feed(windows: Iterable[MaintenanceWindow], name: str, now: datetime) -> bytes:
    """A calendar to subscribe to: one VEVENT per window (by id), with the zones it uses."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    ordered = sorted(windows, key=lambda w: w.id)
    for window in ordered:
        cal.add_component(_vevent(window, now))
    first = min((w.start for w in ordered), default=now).astimezone(UTC).date()
    cal.add_missing_timezones(first_date=first - timedelta(days=1))
    return bytes(cal.to_ical())


def _vevent(w: MaintenanceWindow, now: datetime) -> Any:
    tz = zone(w.timezone, w.id)
    ev = Event()
    ev.add("uid", w.id)
    ev.add("dtstamp", now.astimezone(UTC))
    ev.add("sequence", w.sequence)
    ev.add("summary", w.title)
    if w.description:
        ev.add("description", w.description)
    ev.add("dtstart", w.start.astimezone(tz))
    ev.add("dtend", w.end.astimezone(tz))
    if w.rrule is not None:
        ev.add("rrule", vRecur.from_ical(w.rrule))
    if w.exdates:
        ev.add("exdate", [d.astimezone(tz) for d in w.exdates])
    ev.add("status", "CANCELLED" if w.cancelled else "CONFIRMED")
    ev.add("categories", list(w.resources))
    _facstat_properties(ev, w)
    return ev


def _facstat_properties(ev: Any, w: MaintenanceWindow) -> None:
    ev.add(X_RESOURCES, vCategory(list(w.resources)))
    ev.add(X_EFFECT, w.effect)
    ev.add(X_KIND, w.kind)
    for prop, moment in (
        (X_NOTICE, w.notice_given_at),
        (X_EXTENDED, w.extended_until),
        ("CREATED", w.created_at),
        ("LAST-MODIFIED", w.updated_at),
    ):
        if moment is not None:
            ev.add(prop, vDDDTypes(moment.astimezone(UTC)))
