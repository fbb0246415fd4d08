"""Errors of maintenance windows, beamtimes and the calendars they come from.

    FacstatError                  (facility.errors)
    └── CalendarError             base: `field` and `reason`, optionally `item`, `source`, `line`
        ├── InvalidWindow         a maintenance window breaks a rule (end before start, bad RRULE, …)
        ├── InvalidBeamtime       a beamtime breaks a rule (end before start, unknown beamline, …)
        └── CalendarImportError   an iCalendar or YAML document cannot be imported (nothing of it is kept)

Every error names the field (an iCalendar property such as `DTEND`, or a path such as
`beamtimes[2].start`) and says why; import errors also name the line and the event UID
when they are known. Imports are all-or-nothing: when one of these is raised, no window
or beamtime of the document was returned.
"""

from __future__ import annotations

from facility.errors import FacstatError


class CalendarError(FacstatError):
    """A window, a beamtime or a calendar document is not acceptable."""

    def __init__(
        self,
        field: str,
        reason: str,
        *,
        item: str | None = None,
        source: str | None = None,
        line: int | None = None,
    ) -> None:
        self.field = field
        self.reason = reason
        self.item = item
        self.source = source
        self.line = line
        super().__init__(self._message())

    def _message(self) -> str:
        where = [self.source] if self.source else []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.item is not None:
            where.append(f"item {self.item!r}")
        prefix = ", ".join(where)
        head = f"{prefix}: " if prefix else ""
        return f"{head}{self.field}: {self.reason}" if self.field else f"{head}{self.reason}"


class InvalidWindow(CalendarError):
    """A maintenance window value is invalid; `field` is the window's attribute."""


class InvalidBeamtime(CalendarError):
    """A beamtime value is invalid; `field` is the beamtime's attribute."""


class CalendarImportError(CalendarError):
    """A calendar or schedule document cannot be imported (nothing of it was imported)."""
