"""Beamtime schedules from YAML or iCalendar, checked against the facility file. Pure.

YAML (times ISO 8601; one without a UTC offset is read in the entry's `timezone`, else the
file's `timezone`, else the importer's `default_timezone`, else refused)::

    timezone: America/New_York          # optional
    beamtimes:
      - beamline: xpcs-8id              # a beamline id of the facility file
        title: "XPCS: colloidal gel dynamics"
        start: 2026-12-01T08:00:00-05:00
        end: 2026-12-03T08:00:00-05:00
        id: xpcs-gel-dec                # optional; default <beamline>-<start UTC yyyymmddThhmmZ>
        timezone: America/Chicago       # optional, for this entry's offset-less times
        bundle: [scratch, dsn-rabbitmq] # optional: replaces the beamline's bundle

iCalendar: one VEVENT per beamtime. The beamline is `X-FACSTAT-BEAMLINE`, else `LOCATION`
(which must then be exactly a beamline id); UID is the id, SUMMARY the title, DTSTART with
DTEND or DURATION the slot, `X-FACSTAT-BUNDLE` (comma-separated resource ids) an optional
bundle. Events with STATUS:CANCELLED are skipped; RRULE is refused (write one event per
beamtime). Floating times follow `slas.ical_read`.

Both are all-or-nothing: the first problem raises `CalendarImportError` naming the field
(`beamtimes[2].beamline`, or the iCalendar property), the line and the item.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from facility.config import FacilityConfig, yaml_path
from slas.beamtime import Beamtime, default_id
from slas.calendar_errors import CalendarImportError, InvalidBeamtime
from slas.ical_read import IcalEvent, read_events

MAX_BEAMTIMES = 10_000
MAX_YAML_BYTES = 4 * 1024 * 1024
Fail = Callable[[str, str], CalendarImportError]


def _zone_name(name: str | None) -> str | None:
    if name is not None:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise ValueError(f"unknown time zone {name!r}") from exc
    return name


Zone = Annotated[str | None, AfterValidator(_zone_name)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(None, min_length=1, max_length=255)
    beamline: str
    title: str = ""
    start: datetime
    end: datetime
    timezone: Zone = None
    bundle: list[str] | None = Field(None, min_length=1)


class _Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timezone: Zone = None
    beamtimes: list[_Entry] = Field(max_length=MAX_BEAMTIMES)


class _Catalog:
    """What the facility file says about beamlines and resources, looked up once."""

    def __init__(self, config: FacilityConfig) -> None:
        self.beamlines = {
            bl.id: (ef.id, bl) for ef in config.experiment_facilities for bl in ef.beamlines
        }
        self.resources = set(config.resources_by_id())


def parse_beamtimes_yaml(
    data: bytes | str, source: str, config: FacilityConfig, *, default_timezone: str | None = None
) -> list[Beamtime]:
    """The beamtimes of a YAML schedule, in file order; all or nothing."""
    raw, lines = _load_yaml(data, source)
    try:
        schedule = _Schedule.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        line = _line_of(err["loc"], lines)
        path = yaml_path(err["loc"])
        raise CalendarImportError(path, err["msg"], source=source, line=line) from exc
    catalog = _Catalog(config)

    def fail_at(i: int) -> Fail:
        return _yaml_fail(source, f"beamtimes[{i}]", lines[i] if i < len(lines) else None)

    out = []
    for i, entry in enumerate(schedule.beamtimes):
        zone = entry.timezone or schedule.timezone or default_timezone
        out.append(_from_entry(entry, zone, catalog, source, fail_at(i)))
    return _unique(out, fail_at)


def _from_entry(
    entry: _Entry, zone: str | None, catalog: _Catalog, source: str, fail: Fail
) -> Beamtime:
    start, end = _aware(entry.start, zone, "start", fail), _aware(entry.end, zone, "end", fail)
    return _build(
        fail,
        catalog,
        id=entry.id or default_id(entry.beamline, start),
        beamline=entry.beamline,
        title=entry.title,
        start=start,
        end=end,
        bundle=tuple(entry.bundle) if entry.bundle is not None else None,
        source=source,
    )


def _aware(value: datetime, zone: str | None, name: str, fail: Fail) -> datetime:
    if value.utcoffset() is not None:
        return value
    if zone is None:
        raise fail(name, "has no UTC offset: write one (…T08:00:00-05:00) or set timezone")
    try:
        return value.replace(tzinfo=ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise fail("timezone", f"unknown time zone {zone!r}") from exc


def _yaml_fail(source: str, path: str, line: int | None) -> Fail:
    def fail(field: str, reason: str) -> CalendarImportError:
        return CalendarImportError(f"{path}.{field}", reason, source=source, line=line)

    return fail


def _load_yaml(data: bytes | str, source: str) -> tuple[Any, list[int]]:
    """The document, and the line of each `beamtimes` entry. Aliases are refused."""
    if len(data) > MAX_YAML_BYTES:
        raise CalendarImportError("", f"larger than {MAX_YAML_BYTES} bytes", source=source)
    try:
        return _compose(data, source)
    except yaml.YAMLError as exc:
        raise CalendarImportError("", _yaml_message(exc), source=source) from exc
    except RecursionError as exc:
        raise CalendarImportError("", "nested too deeply", source=source) from exc


def _compose(data: bytes | str, source: str) -> tuple[Any, list[int]]:
    loader = yaml.SafeLoader(data)
    try:
        node = loader.get_single_node()
        if node is None:
            raise CalendarImportError("", "the document is empty", source=source)
        _no_aliases(node, source)
        return loader.construct_document(node), _entry_lines(node)
    finally:
        loader.dispose()


def _no_aliases(root: yaml.Node, source: str) -> None:
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            line = node.start_mark.line + 1
            raise CalendarImportError(
                "", "YAML aliases are not supported", source=source, line=line
            )
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in node.value for n in pair)


def _entry_lines(root: yaml.Node) -> list[int]:
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "beamtimes" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _line_of(loc: tuple[Any, ...], lines: list[int]) -> int | None:
    if len(loc) >= 2 and loc[0] == "beamtimes" and isinstance(loc[1], int) and loc[1] < len(lines):
        return lines[loc[1]]
    return None


def _yaml_message(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return f"invalid YAML{where}: {problem}"


def parse_beamtimes_ical(
    data: bytes | str, source: str, config: FacilityConfig, *, default_timezone: str | None = None
) -> list[Beamtime]:
    """The beamtimes of an iCalendar schedule, in document order; all or nothing."""
    events = read_events(data, source, default_timezone)
    for ev in events:
        ev.check()
    kept = [ev for ev in events if ev.text("STATUS").upper() != "CANCELLED"]
    catalog = _Catalog(config)
    out = [_from_event(ev, catalog, source) for ev in kept]
    return _unique(out, lambda i: kept[i].fail)


def _from_event(ev: IcalEvent, catalog: _Catalog, source: str) -> Beamtime:
    if ev.event.get("RRULE") is not None:
        raise ev.fail("RRULE", "a beamtime is one block of time: write one event per beamtime")
    prop = "X-FACSTAT-BEAMLINE" if ev.event.get("X-FACSTAT-BEAMLINE") else "LOCATION"
    bundle = [b.strip() for b in ev.text("X-FACSTAT-BUNDLE").split(",") if b.strip()]
    start = ev.required("DTSTART")
    fields = {"beamline": prop, "bundle": "X-FACSTAT-BUNDLE", "start": "DTSTART", "end": "DTEND"}
    return _build(
        lambda field, reason: ev.fail(fields.get(field, field.upper()), reason),
        catalog,
        id=str(ev.uid),
        beamline=ev.text(prop),
        title=ev.text("SUMMARY"),
        start=start,
        end=ev.end(start),
        bundle=tuple(bundle) or None,
        source=source,
    )


def _build(fail: Fail, catalog: _Catalog, **fields: Any) -> Beamtime:
    """A checked beamtime: a known beamline, known bundle resources, the title defaulted."""
    if fields["beamline"] not in catalog.beamlines:
        known = ", ".join(sorted(catalog.beamlines)) or "none"
        raise fail("beamline", f"unknown beamline {fields['beamline']!r} (known: {known})")
    facility, beamline = catalog.beamlines[fields["beamline"]]
    unknown = [r for r in fields["bundle"] or () if r not in catalog.resources]
    if unknown:
        raise fail("bundle", f"unknown resource(s) {', '.join(map(repr, unknown))}")
    fields["title"] = fields["title"] or beamline.name
    try:
        return Beamtime(facility=facility, **fields)
    except InvalidBeamtime as exc:
        raise fail(exc.field, exc.reason) from exc


def _unique(beamtimes: list[Beamtime], fail_at: Callable[[int], Fail]) -> list[Beamtime]:
    seen: set[str] = set()
    for i, bt in enumerate(beamtimes):
        if bt.id in seen:
            raise fail_at(i)("id", f"another beamtime has the same id {bt.id!r}")
        seen.add(bt.id)
    return beamtimes
