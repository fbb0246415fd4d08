"""Maintenance windows: what is taken down or degraded, when, how often. Pure; `now` is passed in.

A `MaintenanceWindow` is one planned outage or reservation, possibly recurring: its RFC 5545
RRULE is expanded by dateutil in the window's own time zone, so a weekly 06:00 Europe/Berlin
window stays at 06:00 local time across daylight-saving changes, and each occurrence lasts
the exact duration of the first (RFC 5545 §3.8.5.3). `occurrences` expands a window over an
interval; `resolution` places a window or an occurrence in its life with the DOE IRI
incident `resolution` values; `slas.maintenance_notice` checks the notice given against
the tiers of the affected resources; `slas.maintenance_calendar.MaintenanceCalendar` answers
the status engine's `MaintenanceOverlay` port.

Rules a window always obeys (else `InvalidWindow`, naming the field): tz-aware times, end
after start, an IANA time zone, a parseable RRULE no more frequent than DAILY (the rule is
stored in canonical form, a floating or date-only UNTIL being read in the window's zone),
a rule that yields an occurrence within ten years (so no impossible rule, such as February
30th, makes an expansion scan to the year 9999), at least one resource, an extension that
ends after the first occurrence's end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import islice, takewhile
from typing import Literal, cast, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rruleset, rrulestr  # type: ignore[import-untyped]
from icalendar.prop import vRecur  # type: ignore[import-untyped]

from slas.calendar_errors import InvalidWindow

Effect = Literal["down", "degraded"]
Kind = Literal["planned", "reservation"]
Resolution = Literal["pending", "unresolved", "extended", "completed", "cancelled"]
EFFECTS: tuple[str, ...] = get_args(Effect)
KINDS: tuple[str, ...] = get_args(Kind)
MAX_OCCURRENCES = 1000  # per `occurrences` call: a window expands to at most this many
_PROBE = timedelta(days=3660)  # a rule must yield an occurrence this soon after DTSTART
_TICK = timedelta(microseconds=1)
_TOO_FREQUENT = {"SECONDLY", "MINUTELY", "HOURLY"}


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintenanceWindow:
    """A planned outage or reservation of some resources; `start`/`end`: the first occurrence."""

    id: str
    title: str
    resources: tuple[str, ...]
    start: datetime
    end: datetime
    timezone: str = "UTC"
    description: str = ""
    effect: Effect = "down"
    kind: Kind = "planned"
    rrule: str | None = None
    exdates: tuple[datetime, ...] = ()
    notice_given_at: datetime | None = None
    source: str = "api"
    cancelled: bool = False
    extended_until: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    sequence: int = 0

    def __post_init__(self) -> None:
        _check(self)
        object.__setattr__(self, "exdates", tuple(sorted(set(self.exdates))))
        if self.rrule is not None:
            object.__setattr__(self, "rrule", canonical_rrule(self.rrule, self.timezone, self.id))
            _series(self)  # dateutil must accept the rule with this start

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One occurrence of a window; `end` includes an extension, `original_end` does not."""

    window: MaintenanceWindow
    start: datetime
    end: datetime
    original_end: datetime

    @property
    def window_id(self) -> str:
        return self.window.id

    @property
    def extended(self) -> bool:
        return self.end > self.original_end


def _check(w: MaintenanceWindow) -> None:
    def bad(name: str, reason: str) -> InvalidWindow:
        return InvalidWindow(name, reason, item=w.id or None)

    if not w.id.strip():
        raise bad("id", "must not be empty")
    if not w.title.strip():
        raise bad("title", "must not be empty")
    if not w.resources or not all(isinstance(r, str) and r for r in w.resources):
        raise bad("resources", "name at least one resource id")
    if w.effect not in EFFECTS:
        raise bad("effect", f"must be one of {', '.join(EFFECTS)}, not {w.effect!r}")
    if w.kind not in KINDS:
        raise bad("kind", f"must be one of {', '.join(KINDS)}, not {w.kind!r}")
    _check_times(w, bad)
    zone(w.timezone, w.id)
    if w.sequence < 0:
        raise bad("sequence", "must not be negative")


def _check_times(w: MaintenanceWindow, bad: Callable[[str, str], InvalidWindow]) -> None:
    named = {"start": w.start, "end": w.end, "notice_given_at": w.notice_given_at}
    named |= {"extended_until": w.extended_until, "created_at": w.created_at}
    named |= {"updated_at": w.updated_at} | {f"exdates[{i}]": d for i, d in enumerate(w.exdates)}
    for name, value in named.items():
        if value is not None and not _aware(value):
            raise bad(name, "must be a date-time with a time zone or UTC offset")
    if w.end <= w.start:
        raise bad("end", f"must be after start ({w.start.isoformat()})")
    if w.extended_until is not None and w.extended_until <= w.end:
        raise bad("extended_until", f"must be after the end ({w.end.isoformat()})")


def _aware(value: object) -> bool:
    return isinstance(value, datetime) and value.utcoffset() is not None


def zone(name: str, item: str | None = None) -> ZoneInfo:
    """The IANA time zone `name`, or `InvalidWindow` on the `timezone` field."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise InvalidWindow("timezone", f"unknown time zone {name!r}", item=item) from exc


def canonical_rrule(text: str, timezone: str, item: str | None = None) -> str:
    """The RRULE in canonical form, UNTIL in UTC; `InvalidWindow` on the `rrule` field."""
    body = text.strip().removeprefix("RRULE:")
    try:
        rule = vRecur.from_ical(body)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise InvalidWindow("rrule", f"cannot parse {text!r}: {exc}", item=item) from exc
    freq = rule.get("FREQ") or [None]
    if freq[0] is None or freq[0] in _TOO_FREQUENT:
        reason = f"FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY, not {freq[0]}"
        raise InvalidWindow("rrule", reason, item=item)
    if "UNTIL" in rule:
        rule["UNTIL"] = [_utc_until(rule["UNTIL"][0], zone(timezone, item))]
    return cast(bytes, rule.to_ical()).decode()


def _utc_until(until: date | datetime, tz: ZoneInfo) -> datetime:
    if not isinstance(until, datetime):
        until = datetime.combine(until, time(23, 59, 59))
    return (until if _aware(until) else until.replace(tzinfo=tz)).astimezone(UTC)


@lru_cache(maxsize=4096)
def _series_of(rrule: str | None, first: datetime, exdates: tuple[datetime, ...]) -> rruleset:
    series = rruleset(cache=True)
    series.rdate(first)  # DTSTART is always the first occurrence (RFC 5545 §3.8.5.3)
    if rrule is not None:
        rule = rrulestr(rrule, dtstart=first)
        if not _occurs_soon(rule, first):
            raise ValueError("the rule yields no occurrence within ten years of the start")
        series.rrule(rule)
    for d in exdates:
        series.exdate(d)
    return series


def _occurs_soon(rule: rrule, first: datetime) -> bool:
    """Whether `rule` yields within ten years of `first`. Checked 400·k years later (the
    Gregorian calendar repeats every 400 years, weekdays included), just before the year
    9999 where dateutil's scan for a rule that never matches (February 30th) stops."""
    later = first.replace(year=first.year + 400 * ((9988 - first.year) // 400))
    probe = rule.replace(dtstart=later, count=None, until=later + _PROBE)
    return probe.after(later, inc=True) is not None


def _series(w: MaintenanceWindow) -> rruleset:
    first = w.start.astimezone(zone(w.timezone, w.id))
    try:
        return _series_of(w.rrule, first, w.exdates)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidWindow("rrule", f"cannot expand {w.rrule!r}: {exc}", item=w.id) from exc


def occurrences(
    window: MaintenanceWindow, start: datetime, end: datetime, *, limit: int = MAX_OCCURRENCES
) -> list[Occurrence]:
    """The window's occurrences that overlap [start, end), in order, at most `limit` of them."""
    if end <= start:
        return []
    series = _series(window)
    candidates = takewhile(lambda s: s < end, series.xafter(start - window.duration))
    starts = list(islice(candidates, limit))
    extended = _extended_start(window)
    if extended is not None and extended not in starts:
        starts = sorted([*starts, extended])
    found = (_occurrence(window, s, extended) for s in starts)
    return [o for o in found if o.end > start and o.start < end][:limit]


def _extended_start(w: MaintenanceWindow) -> datetime | None:
    """The start of the occurrence that `extended_until` extends, if any."""
    if w.extended_until is None:
        return None
    last: datetime | None = _series(w).before(w.extended_until)
    return last


def _occurrence(w: MaintenanceWindow, start: datetime, extended: datetime | None) -> Occurrence:
    original_end = start + w.duration
    end = original_end
    if start == extended and w.extended_until is not None:
        end = max(original_end, w.extended_until)
    return Occurrence(w, start, end, original_end)


def current_or_next(window: MaintenanceWindow, now: datetime) -> Occurrence | None:
    """The occurrence active at `now`, else the next one to start, else None."""
    active = occurrences(window, now, now + _TICK, limit=1)
    if active:
        return active[0]
    start = next_start(window, now)
    return None if start is None else _occurrence(window, start, _extended_start(window))


def next_start(window: MaintenanceWindow, now: datetime) -> datetime | None:
    """The first occurrence start strictly after `now`, or None."""
    start: datetime | None = _series(window).after(now)
    return start


def resolution(item: MaintenanceWindow | Occurrence, now: datetime) -> Resolution:
    """pending, unresolved (active), extended (active past its original end), completed,
    or cancelled — the DOE IRI incident `resolution` values."""
    window = item if isinstance(item, MaintenanceWindow) else item.window
    if window.cancelled:
        return "cancelled"
    occ = current_or_next(item, now) if isinstance(item, MaintenanceWindow) else item
    if occ is None or now >= occ.end:
        return "completed"
    if now < occ.start:
        return "pending"
    return "extended" if now >= occ.original_end else "unresolved"


def check_resources(window: MaintenanceWindow, known: Iterable[str]) -> None:
    """`InvalidWindow` on `resources` if the window names a resource not in `known`."""
    known = set(known)
    unknown = [r for r in window.resources if r not in known]
    if unknown:
        names = ", ".join(repr(r) for r in unknown)
        raise InvalidWindow("resources", f"unknown resource(s) {names}", item=window.id)
