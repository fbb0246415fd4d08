"""The maintenance calendar of a running facility: stored windows, imports, the
status engine's overlay, and Slurm MAINT reservations turned into windows.

`Operations` owns the windows of every source (`api`, `ical:<name>`,
`slurm:<collector>`, `demo`), keeps them in a `MaintenanceCalendar`, and tells
its listeners (the status service) when the calendar changed, so that affected
resources show `maintenance` at once rather than at the next tick.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from facility.config import FacilityConfig
from facility.engine import Window
from facility.errors import ConflictError, NotFoundError
from facility.model import ReservationFact
from slas.beamtime import (
    Beamtime,
    Conflict,
    beamline_needs,
    conflicts,
    depends_on_graph,
    needed_resources,
)
from slas.calendar_errors import CalendarImportError
from slas.maintenance import MaintenanceWindow, Occurrence, check_resources
from slas.maintenance_calendar import MaintenanceCalendar
from slas.maintenance_notice import DEFAULT_NOTICE, Notice, NoticePolicy, notice_check
from slas.repository import Repository

Listener = Callable[[], None]
CONFLICT_HORIZON = timedelta(days=366)


class Overlay:
    """The engine's `MaintenanceOverlay` over the current calendar. One evaluation asks
    for every resource at the same `now`; the active occurrences are computed once."""

    def __init__(self, ops: Operations) -> None:
        self._ops = ops
        self._at: tuple[datetime, MaintenanceCalendar, dict[str, Window]] | None = None

    def active_window(self, resource_id: str, now: datetime) -> Window | None:
        cal = self._ops.calendar
        if self._at is None or self._at[0] != now or self._at[1] is not cal:
            self._at = (now, cal, _by_resource(cal.active(now)))
        return self._at[2].get(resource_id)

    def next_change(self, now: datetime) -> datetime | None:
        return self._ops.calendar.next_change(now)


def _by_resource(active: Sequence[Occurrence]) -> dict[str, Window]:
    out: dict[str, Window] = {}
    for occ in active:
        w = occ.window
        for rid in w.resources:
            out.setdefault(rid, Window(w.id, _describe(w)))
    return out


def _describe(w: MaintenanceWindow) -> str:
    return w.title if w.effect == "down" else f"{w.title} (partial: degraded)"


class Operations:
    def __init__(self, config: FacilityConfig, repo: Repository) -> None:
        self.config = config
        self.repo = repo
        self.known = {r.id for r in config.resources}
        notice = config.operations.notice
        self.notice_policy: NoticePolicy = {str(k): v for k, v in notice.items()} or DEFAULT_NOTICE
        self.calendar = MaintenanceCalendar(())
        self.overlay = Overlay(self)
        self._listeners: list[Listener] = []
        self._lock = threading.RLock()
        self._beamtimes: tuple[Beamtime, ...] = ()
        self._conflicts: tuple[object, list[Conflict]] | None = None
        self.needs = beamline_needs(config)
        self.graph = depends_on_graph(config)
        self.reload()

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def reload(self) -> None:
        """Re-read every window and beamtime from the store and tell the listeners."""
        with self._lock:
            self.calendar = MaintenanceCalendar(self.repo.windows())
            self._beamtimes = tuple(self.repo.beamtimes())
        for listener in self._listeners:
            listener()

    # -- reads ------------------------------------------------------------------------

    def windows(self) -> tuple[MaintenanceWindow, ...]:
        return self.calendar.windows

    def window(self, window_id: str) -> MaintenanceWindow:
        for w in self.calendar.windows:
            if w.id == window_id:
                return w
        raise NotFoundError("maintenance window", window_id)

    def tier_of(self, resource_id: str) -> str | None:
        r = self.config.resources_by_id().get(resource_id)
        return self.config.tier(r) if r is not None else None

    def notice(self, window: MaintenanceWindow) -> Notice:
        tiers = {rid: self.tier_of(rid) for rid in window.resources}
        return notice_check(window, tiers, self.notice_policy)

    # -- writes -----------------------------------------------------------------------

    def create(self, window: MaintenanceWindow) -> MaintenanceWindow:
        check_resources(window, self.known)
        with self._lock:
            if any(w.id == window.id for w in self.calendar.windows):
                raise ConflictError(f"maintenance window {window.id!r} already exists", "id")
            self.repo.save_window(window)
        self.reload()
        return window

    def update(
        self,
        window_id: str,
        change: Callable[[MaintenanceWindow], MaintenanceWindow],
        expected_sequence: int | None = None,
    ) -> MaintenanceWindow:
        """Apply `change` to a window and store it with the next sequence number; with
        `expected_sequence`, refuse (409) when someone else changed it first."""
        with self._lock:
            old = self.window(window_id)
            if expected_sequence is not None and expected_sequence != old.sequence:
                raise ConflictError(
                    f"window {window_id!r} is at sequence {old.sequence}, not {expected_sequence}",
                    "sequence",
                )
            new = change(old)
            check_resources(new, self.known)
            new = replace(new, id=old.id, sequence=old.sequence + 1, created_at=old.created_at)
            if not self.repo.save_window(new, expected_sequence=old.sequence):
                raise ConflictError(f"window {window_id!r} changed meanwhile; retry", "sequence")
        self.reload()
        return new

    def replace_source(self, source: str, windows: Sequence[MaintenanceWindow]) -> None:
        """Everything of one import source at once (a calendar file or URL)."""
        for w in windows:
            check_resources(w, self.known)
            taken = next((o for o in self.calendar.windows if o.id == w.id), None)
            if taken is not None and taken.source != source:
                raise CalendarImportError(
                    "UID", f"already the id of a window from source {taken.source!r}", item=w.id
                )
        self.repo.replace_windows(source, [replace(w, source=source) for w in windows])
        self.reload()

    def sync_reservations(
        self, collector: str, facts: Sequence[ReservationFact], now: datetime
    ) -> None:
        """A collector's current reservations; its MAINT ones become windows."""
        source = f"slurm:{collector}"
        maint = [f for f in facts if f.maintenance and f.resources]
        windows = [_reservation_window(source, f, now) for f in maint]
        before = {w.id: w for w in self.windows() if w.source == source}
        kept = [
            replace(w, created_at=before[w.id].created_at) if w.id in before else w for w in windows
        ]
        self.repo.replace_reservations(source, facts, kept, now)
        if _shape(kept) != _shape(before.values()):
            self.reload()

    def reservations(self) -> list[ReservationFact]:
        return [f for facts in self.repo.reservations().values() for f in facts]

    # -- beamtimes and conflicts --------------------------------------------------------

    def beamtimes(self) -> tuple[Beamtime, ...]:
        return self._beamtimes

    def replace_beamtimes(self, source: str, beamtimes: Sequence[Beamtime]) -> None:
        self.repo.replace_beamtimes(source, [replace(b, source=source) for b in beamtimes])
        self.reload()

    def beamtime_needs_of(self, resource_ids: Iterable[str]) -> frozenset[str]:
        """The resources and everything they depend on, directly or not."""
        return needed_resources(resource_ids, self.graph)

    def beamtime_needs(self, b: Beamtime) -> frozenset[str]:
        """What a beamtime needs: its own bundle or its beamline's, with dependencies."""
        if b.bundle is not None:
            return needed_resources(b.bundle, self.graph)
        return self.needs.get(b.beamline, frozenset())

    def conflicts(self, start: datetime, end: datetime) -> list[Conflict]:
        return conflicts(
            self._beamtimes, self.calendar.windows, self.needs, start, end, depends_on=self.graph
        )

    def upcoming_conflicts(self, now: datetime) -> list[Conflict]:
        """Conflicts of beamtimes not yet over, cached until the calendar changes."""
        key = (self.calendar, now.replace(second=0, microsecond=0))
        if self._conflicts is None or self._conflicts[0] != key:
            self._conflicts = (key, self.conflicts(now, now + CONFLICT_HORIZON))
        return self._conflicts[1]


def _shape(windows: Iterable[MaintenanceWindow]) -> set[tuple[object, ...]]:
    """What of a reservation window matters to the calendar (not its bookkeeping)."""
    return {(w.id, w.start, w.end, w.resources, w.effect) for w in windows}


def _reservation_window(source: str, f: ReservationFact, now: datetime) -> MaintenanceWindow:
    return MaintenanceWindow(
        id=f"{source}:{f.name}",
        title=f"Slurm maintenance reservation {f.name}",
        description=f"{f.nodes} nodes reserved for maintenance by the scheduler",
        resources=f.resources,
        start=f.start,
        end=f.end,
        effect="degraded" if f.partial else "down",
        kind="reservation",
        source=source,
        created_at=now,
        updated_at=now,
    )
