"""A set of maintenance windows as the status engine's `MaintenanceOverlay`, and its queries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from facility.engine import Window
from slas.maintenance import MaintenanceWindow, Occurrence, next_start, occurrences

_TICK = timedelta(microseconds=1)


class MaintenanceCalendar:
    """A set of windows; implements the status engine's `MaintenanceOverlay` port."""

    def __init__(self, windows: Iterable[MaintenanceWindow]) -> None:
        self.windows: tuple[MaintenanceWindow, ...] = tuple(sorted(windows, key=_window_order))
        self._live = tuple(w for w in self.windows if not w.cancelled)
        self._by_resource: dict[str, list[MaintenanceWindow]] = {}
        for w in self._live:
            for rid in w.resources:
                self._by_resource.setdefault(rid, []).append(w)

    def active(self, now: datetime) -> list[Occurrence]:
        """Occurrences of windows not cancelled that cover `now`, by start then window id."""
        found = (o for w in self._live for o in occurrences(w, now, now + _TICK))
        return sorted(found, key=_order)

    def active_window(self, resource_id: str, now: datetime) -> Window | None:
        """The window covering the resource at `now` (the earliest started, then by id)."""
        pool = self._by_resource.get(resource_id, ())
        found = sorted((o for w in pool for o in occurrences(w, now, now + _TICK)), key=_order)
        return Window(found[0].window.id, found[0].window.title) if found else None

    def next_change(self, now: datetime) -> datetime | None:
        """The first start or end of an occurrence strictly after `now`."""
        edges = (e for w in self._live if (e := _next_edge(w, now)) is not None)
        return min(edges, default=None)

    def upcoming(
        self, now: datetime, horizon: timedelta, *, include_cancelled: bool = False
    ) -> list[Occurrence]:
        """Occurrences that start after `now` and before `now + horizon`, in order."""
        pool = self.windows if include_cancelled else self._live
        found = (o for w in pool for o in occurrences(w, now, now + horizon) if o.start > now)
        return sorted(found, key=_order)

    def for_resources(self, ids: Iterable[str]) -> MaintenanceCalendar:
        """The calendar of the windows that affect any of `ids`."""
        wanted = set(ids)
        return MaintenanceCalendar(w for w in self.windows if wanted & set(w.resources))


def _next_edge(w: MaintenanceWindow, now: datetime) -> datetime | None:
    """The end of an occurrence active at `now` or the next start, whichever comes first
    (an occurrence not active at `now` ends after the next start)."""
    edges = [o.end for o in occurrences(w, now, now + _TICK)]
    start = next_start(w, now)
    return min([*edges, start] if start is not None else edges, default=None)


def _window_order(w: MaintenanceWindow) -> tuple[datetime, str]:
    return (w.start, w.id)


def _order(o: Occurrence) -> tuple[datetime, str]:
    return (o.start, o.window.id)
