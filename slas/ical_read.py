"""Reading untrusted iCalendar (RFC 5545) text into events whose errors name a line. Pure.

`read_events` checks what the `icalendar` library is lenient about (UTF-8, one VCALENDAR,
BEGIN/END balance) and the size (`MAX_BYTES`, `MAX_LINES`, `MAX_EVENTS`, `MAX_DEPTH`, so a
hostile document costs seconds, not hours), parses with `icalendar`, and hands back one
`IcalEvent` per VEVENT. An `IcalEvent` reads properties and raises `CalendarImportError` naming the
source, the line, the property and the event UID.

Times: a TZID must be an IANA name (or a Windows name `icalendar` maps to one); a value
with `Z` is UTC. Floating times and all-day DATE values have no zone of their own: they are
read in the calendar's `X-WR-TIMEZONE` if it has one, else in the importer's
`default_timezone`, else rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar  # type: ignore[import-untyped]
from icalendar.parser import Contentline  # type: ignore[import-untyped]
from icalendar.prop import vDDDTypes  # type: ignore[import-untyped]

from slas.calendar_errors import CalendarImportError

MAX_EVENTS = 10_000
MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 8  # VCALENDAR > VEVENT > VALARM is 3 deep
MAX_LINES = 250_000  # content lines after unfolding: 25 per event at the event cap
_NAME = re.compile(r"[A-Za-z0-9-]*")
_PARSE_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError)


@dataclass(frozen=True, slots=True)
class Line:
    """One unfolded content line and the number of its first physical line."""

    number: int
    name: str
    text: str


def read_events(
    data: bytes | str, source: str, default_timezone: str | None = None
) -> list[IcalEvent]:
    """Every VEVENT of one VCALENDAR, or `CalendarImportError` for the first problem."""
    lines = _lines(_text(data, source))
    if len(lines) > MAX_LINES:
        raise _fail(source, lines[MAX_LINES], "", f"more than {MAX_LINES} content lines")
    blocks = _structure(lines, source)
    cal = _calendar(lines, source)
    floating = _floating_zone(cal, lines, source, default_timezone)
    events = cal.walk("VEVENT")
    if len(events) != len(blocks):  # only for input the two readers see differently
        blocks = [[] for _ in events]
    return [IcalEvent(e, b, source, floating) for e, b in zip(events, blocks, strict=True)]


def _text(data: bytes | str, source: str) -> str:
    if len(data) > MAX_BYTES:
        raise CalendarImportError("", f"larger than {MAX_BYTES} bytes", source=source)
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text (byte {exc.start}: {exc.reason})"
        raise CalendarImportError("", reason, source=source) from exc


def _lines(text: str) -> list[Line]:
    """Unfolded content lines (a physical line starting with a space or tab continues the
    previous one), each with the number of its first physical line."""
    starts: list[tuple[int, list[str]]] = []
    for number, raw in enumerate(re.split(r"\r?\n", text), start=1):
        if raw[:1] in (" ", "\t") and starts:
            starts[-1][1].append(raw[1:])
        elif raw:
            starts.append((number, [raw]))
            if len(starts) > MAX_LINES:  # enough to refuse the document
                break
    return [Line(n, _name(parts[0]), "".join(parts)) for n, parts in starts]


def _name(raw: str) -> str:
    match = _NAME.match(raw)
    return match.group().upper() if match else ""


def _structure(lines: list[Line], source: str) -> list[list[Line]]:
    """The lines of each VEVENT; checks BEGIN/END nesting, one VCALENDAR, the caps."""
    stack: list[str] = []
    blocks: list[list[Line]] = []
    for line in lines:
        if not stack and not (line.name == "BEGIN" and _value(line) == "VCALENDAR"):
            raise _fail(source, line, "", "content outside BEGIN:VCALENDAR … END:VCALENDAR")
        _nest(stack, line, source)
        if line.name == "BEGIN" and _value(line) == "VEVENT":
            blocks.append([])
            if len(blocks) > MAX_EVENTS:
                raise _fail(source, line, "", f"more than {MAX_EVENTS} events")
        if "VEVENT" in stack and blocks:  # the stack is at most MAX_DEPTH deep
            blocks[-1].append(line)
    if stack:
        raise CalendarImportError("", f"BEGIN:{stack[-1]} is never ended", source=source)
    return blocks


def _nest(stack: list[str], line: Line, source: str) -> None:
    if line.name == "BEGIN":
        stack.append(_value(line))
        if len(stack) > MAX_DEPTH:
            raise _fail(source, line, "", f"components nested deeper than {MAX_DEPTH}")
    elif line.name == "END":
        if not stack or stack[-1] != _value(line):
            expected = f"END:{stack[-1]}" if stack else "nothing"
            raise _fail(source, line, "", f"END:{_value(line)} where {expected} was expected")
        stack.pop()


def _value(line: Line) -> str:
    return line.text.partition(":")[2].strip().upper()


def _fail(source: str, line: Line | None, prop: str, reason: str) -> CalendarImportError:
    return CalendarImportError(prop, reason, source=source, line=line.number if line else None)


def _calendar(lines: list[Line], source: str) -> Any:
    try:
        cals = Calendar.from_ical("\r\n".join(line.text for line in lines), multiple=True)
    except _PARSE_ERRORS as exc:
        bad = bad_line(lines)
        raise _fail(source, bad, "", f"cannot parse: {exc}") from exc
    if len(cals) != 1 or cals[0].name != "VCALENDAR":
        raise CalendarImportError("", "expected exactly one VCALENDAR", source=source)
    if cals[0].errors:
        prop, reason = cals[0].errors[0]
        raise _fail(source, bad_line(lines), prop or "", str(reason))
    return cals[0]


def bad_line(lines: list[Line]) -> Line | None:
    """The first line that is not a well-formed content line."""
    for line in lines:
        try:
            Contentline(line.text).parts()
        except _PARSE_ERRORS:
            return line
    return None


def _floating_zone(cal: Any, lines: list[Line], source: str, default: str | None) -> str | None:
    name = str(cal.get("X-WR-TIMEZONE", "")).strip() or default
    if name is not None and _zone(name) is None:
        at = next((x for x in lines if x.name == "X-WR-TIMEZONE"), None)
        raise _fail(source, at, "X-WR-TIMEZONE", f"unknown time zone {name!r}")
    return name


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return None


def zone_name(tz: tzinfo | None) -> str | None:
    """The IANA name of a time zone `icalendar` produced, None for any other kind."""
    if tz is UTC:
        return "UTC"
    return tz.key if isinstance(tz, ZoneInfo) else None


class IcalEvent:
    """One VEVENT with the lines it came from; its readers raise located errors."""

    def __init__(self, event: Any, lines: list[Line], source: str, floating: str | None) -> None:
        self.event, self.lines, self.source, self.floating = event, lines, source, floating
        self.uid = str(event.get("UID", "")).strip() or None

    def fail(self, prop: str, reason: str, at: Line | None = None) -> CalendarImportError:
        """An error on `prop`, at its line (else the event's first line, or `at`)."""
        first = self.lines[0] if self.lines else None
        at = at or next((x for x in self.lines if x.name == prop), first)
        line = at.number if at else None
        return CalendarImportError(prop, reason, item=self.uid, source=self.source, line=line)

    def check(self) -> None:
        """Raise for the first property `icalendar` could not read, and for a missing UID."""
        if self.event.errors:
            prop, reason = self.event.errors[0]
            raise self.fail(prop or "", str(reason), None if prop else bad_line(self.lines))
        if self.uid is None:
            raise self.fail("UID", "every event needs a UID (it is the stable id)")

    def single(self, prop: str) -> Any:
        value = self.event.get(prop)
        if isinstance(value, list):
            raise self.fail(prop, "appears more than once")
        return value

    def text(self, prop: str, default: str = "") -> str:
        value = self.single(prop)
        return default if value is None else str(value).strip()

    def integer(self, prop: str, default: int = 0) -> int:
        value = self.single(prop)
        if value is None:
            return default
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise self.fail(prop, f"expected an integer, not {value!r}")

    def when(self, prop: str) -> datetime | None:
        """A date-time property (standard or X-) as an aware datetime, None if absent."""
        value = self.single(prop)
        if value is None:
            return None
        return self.aware(prop, self._dt(prop, value), value.params.get("TZID"))

    def required(self, prop: str) -> datetime:
        when = self.when(prop)
        if when is None:
            raise self.fail(prop, "is required")
        return when

    def _dt(self, prop: str, value: Any) -> Any:
        if hasattr(value, "dt"):
            return value.dt
        try:  # an X- property arrives as text
            return vDDDTypes.from_ical(str(value), timezone=value.params.get("TZID"))
        except _PARSE_ERRORS as exc:
            raise self.fail(prop, f"not a date-time: {str(value)!r}") from exc

    def aware(self, prop: str, value: Any, tzid: str | None) -> datetime:
        """A datetime with an IANA zone; floating times and dates in the floating zone."""
        if isinstance(value, datetime) and value.tzinfo is not None:
            if zone_name(value.tzinfo) is None:
                raise self.fail(prop, f"TZID {tzid!r} is not an IANA time zone name")
            return value
        if isinstance(value, datetime) and tzid:
            raise self.fail(prop, f"unknown TZID {tzid!r}")
        if not isinstance(value, date):
            raise self.fail(prop, f"expected a date-time, not {value!r}")
        if self.floating is None:
            kind = "a floating time" if isinstance(value, datetime) else "a DATE (all-day) value"
            reason = f"{kind} needs a time zone: set X-WR-TIMEZONE or use TZID or UTC (Z)"
            raise self.fail(prop, reason)
        local = value if isinstance(value, datetime) else datetime.combine(value, time())
        return local.replace(tzinfo=ZoneInfo(self.floating))

    def duration(self, prop: str = "DURATION") -> timedelta | None:
        value = self.single(prop)
        if value is None:
            return None
        if not isinstance(getattr(value, "dt", None), timedelta):
            raise self.fail(prop, f"expected a duration, not {value!r}")
        span: timedelta = value.dt
        return span

    def end(self, start: datetime) -> datetime:
        """DTEND, or DTSTART plus DURATION: exactly one of the two must be given."""
        end, duration = self.when("DTEND"), self.duration()
        if end is not None and duration is not None:
            raise self.fail("DURATION", "an event has DTEND or DURATION, not both")
        if end is not None:
            return end
        if duration is None:
            raise self.fail("DTEND", "DTEND or DURATION is required")
        return start + duration
