"""Times and durations as the pages write them: in the facility's time zone, in words.

Pure functions of values (and `now`); every page's view-model uses them, so a time
reads the same on every page.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

UNITS = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def human_duration(seconds: float) -> str:
    """`0 s`, `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`: the largest unit and the next."""
    secs = max(0, round(seconds))
    i = next(i for i, (_, size) in enumerate(UNITS) if secs >= size or size == 1)
    unit, size = UNITS[i]
    text = f"{secs // size} {unit}"
    if i + 1 < len(UNITS) and (rest := secs % size // UNITS[i + 1][1]):
        text += f" {rest} {UNITS[i + 1][0]}"
    return text


def ago(value: datetime | None, now: datetime) -> str:
    """`12 s ago`, `4 min ago`, `3 h ago` (the largest unit, as `api.web.ago`); `never`."""
    if value is None:
        return "never"
    secs = max(0, int((now - value).total_seconds()))
    unit, size = next((u, n) for u, n in UNITS if secs >= n or n == 1)
    return f"{secs // size} {unit} ago"


def until(value: datetime, now: datetime) -> str:
    """`in 3 h 5 min`, or `now` once it has come."""
    left = (value - now).total_seconds()
    return "now" if left <= 0 else f"in {human_duration(left)}"


def local(value: datetime, tz: tzinfo) -> str:
    """`Sat 21 Nov 2026 10:00 EST`."""
    return value.astimezone(tz).strftime("%a %d %b %Y %H:%M %Z")


def span(start: datetime, end: datetime, tz: tzinfo) -> str:
    """`Sat 21 Nov 2026 10:00 – 12:00 EST`, the end's date repeated only if it differs."""
    a, b = start.astimezone(tz), end.astimezone(tz)
    if a.date() == b.date():
        return f"{a:%a %d %b %Y %H:%M} – {b:%H:%M %Z}"
    return f"{a:%a %d %b %Y %H:%M} – {b:%a %d %b %Y %H:%M %Z}"


def day_start(day: date, tz: tzinfo) -> datetime:
    """Local midnight of `day` (days last 23 or 25 hours when the clocks move)."""
    return datetime.combine(day, time(0), tz)


def day_end(day: date, tz: tzinfo) -> datetime:
    return day_start(day + timedelta(days=1), tz)


def input_value(value: datetime, tz: tzinfo) -> str:
    """The value of an `<input type="datetime-local">`: `2026-11-21T10:00`."""
    return value.astimezone(tz).strftime("%Y-%m-%dT%H:%M")
