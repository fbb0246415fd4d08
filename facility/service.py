"""The status service: the engine's state in memory, written through to the store.

One instance per process. `ingest` and `tick` compute new statuses on copies,
commit them in one transaction, and only then publish them in memory, so a
failed write changes nothing. Reads take a `Snapshot` (immutable, versioned),
which the API renders and caches per `version`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from opentelemetry import trace
from prometheus_client import CollectorRegistry

from facility import engine
from facility.config import FacilityConfig
from facility.engine import MaintenanceOverlay, NoMaintenance, Policy, Track
from facility.engine_metrics import EngineMetrics
from facility.errors import (
    DuplicateBatch,
    Issue,
    ObservationRejected,
    StoreUnavailable,
    VersionConflict,
)
from facility.model import EffectiveStatus, Observation, Transition
from facility.store import Store
from facility.topology import dependents

Clock = Callable[[], datetime]
MAX_CLOCK_SKEW = timedelta(minutes=5)
CONFLICT_RETRIES = 8  # reload-and-recompute rounds when other processes keep writing first

log = logging.getLogger("facstat.service")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a read needs, frozen at one store version."""

    version: int
    changed_at: datetime
    statuses: Mapping[str, EffectiveStatus]


@dataclass(frozen=True, slots=True)
class IngestResult:
    accepted: int
    transitions: list[Transition] = field(default_factory=list)
    version: int = 0
    duplicate: bool = False  # the batch's idempotency key was stored already


class StatusService:
    """Turns observations into stored effective statuses; serves consistent snapshots."""

    def __init__(
        self,
        config: FacilityConfig,
        store: Store,
        maintenance: MaintenanceOverlay | None = None,
        clock: Clock = utcnow,
        registry: CollectorRegistry | None = None,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.maintenance = maintenance or NoMaintenance()
        self.clock = clock
        self.policies: dict[str, Policy] = engine.policies(config)
        self.order = engine.topo_index(config)
        self.dependents = dependents(config)
        self._lock = threading.RLock()
        self.metrics = EngineMetrics(registry or CollectorRegistry())
        self.tracer = trace.get_tracer("facstat.engine", tracer_provider=tracer_provider)
        self._listeners: list[Callable[[Snapshot, list[Transition]], None]] = []
        self._tracks: dict[str, Track] = {}
        self._snapshot = Snapshot(0, clock(), {})
        self._deadline: datetime | None = None
        self._maintenance_next: datetime | None = None
        self.capacity_steps = {r.id: config.hysteresis(r).capacity_step for r in config.resources}
        self._load()

    # -- start-up -----------------------------------------------------------------

    def _load(self) -> None:
        self._reload()
        self.tick(self.clock(), force=True)

    def _reload(self, full: bool = True) -> None:
        """Take the engine's state from the store, as another process may have left it:
        all of it, or only the rows written since this process's version."""
        with self._lock:
            since = None if full or self._snapshot.version <= 0 else self._snapshot.version
            version, stored = self.store.load_state(since)
            known = {rid: v for rid, v in stored.items() if rid in self.policies}
            tracks = {rid: tr for rid, (_, tr) in known.items()}
            statuses = {rid: st for rid, (st, _) in known.items()}
            if since is not None:
                tracks = {**self._tracks, **tracks}
                statuses = {**self._snapshot.statuses, **statuses}
            self._tracks = tracks
            self._snapshot = Snapshot(version, self.clock(), statuses)
            self._deadline = self._next_deadline(self._tracks, self.clock())

    def sync(self, version: int | None = None) -> bool:
        """Catch up with writes of other processes sharing the store: reload when the
        store's version (read now, or the one given) differs from this process's.
        Whether it reloaded; `StoreUnavailable` when the store cannot be read."""
        with self._lock:
            mine = self._snapshot.version
            if version is not None and version <= mine:  # read before this process wrote
                return False
            current = self.store.version() if version is None else version
            if current == mine:
                return False
            self._reload(full=current < mine)  # the store went back: it was reset
            return True

    # -- reads --------------------------------------------------------------------

    def snapshot(self, now: datetime | None = None) -> Snapshot:
        """The current statuses, first turning anything now stale into `unknown`."""
        now = now or self.clock()
        if self.due(now):
            try:
                self.tick(now)
            except StoreUnavailable:
                return self._unsaved(now)
        return self._snapshot

    def current(self) -> Snapshot:
        """The last published snapshot, without re-evaluating anything (safe to call from
        a listener, which runs inside an evaluation)."""
        return self._snapshot

    def due(self, now: datetime) -> bool:
        """Whether a read at `now` must first re-evaluate (staleness, maintenance)."""
        return self._deadline is not None and now >= self._deadline

    def _unsaved(self, now: datetime) -> Snapshot:
        """Staleness applied in memory while the store cannot record it: reads stay
        truthful during a database outage. Its negative version is never cached."""
        with self._lock:
            due = self._due(now)
            old = self._snapshot.statuses
            affected = set(due).union(*(self.dependents[rid] for rid in due))
            new = engine.evaluate(
                affected, self.order, self._tracks, self.policies, old, self.maintenance, now
            )
        return Snapshot(-int(now.timestamp() * 1000), now, {**old, **new})

    def subscribe(self, listener: Callable[[Snapshot, list[Transition]], None]) -> None:
        self._listeners.append(listener)

    # -- writes -------------------------------------------------------------------

    def ingest(
        self,
        observations: Sequence[Observation],
        now: datetime | None = None,
        key: str | None = None,
    ) -> IngestResult:
        """Validate a whole batch, then store it with the status changes it causes. With
        `key` (the caller's idempotency key), a batch stored before is acknowledged as a
        duplicate and nothing changes."""
        now = now or self.clock()
        self._validate(observations, now)
        if self.due(now):  # a window ended or data went stale since the last tick
            self.tick(now)
        span = self.tracer.start_as_current_span(
            "engine.ingest", attributes={"observations": len(observations)}
        )
        ordered = sorted(observations, key=lambda o: o.observed_at)
        touched = {o.resource_id for o in observations}
        with span, self.metrics.cycle.labels("ingest").time(), self._lock:
            for attempt in range(CONFLICT_RETRIES):
                tracks = dict(self._tracks)
                for obs in ordered:
                    tracks[obs.resource_id] = engine.observe(
                        tracks.get(obs.resource_id, Track()), obs, self.policies[obs.resource_id]
                    )
                moved = {rid for rid in touched if self._moved(rid, tracks[rid])}
                try:
                    seen = touched - moved
                    transitions = self._apply(tracks, moved, now, observations, seen, key)
                    break
                except VersionConflict:
                    self._after_conflict(attempt)
                except DuplicateBatch:
                    return IngestResult(0, [], self._snapshot.version, duplicate=True)
            self._deadline = self._earliest(tracks, touched, now)
        self.metrics.ingested.inc(len(observations))
        return IngestResult(len(observations), transitions, self._snapshot.version)

    def tick(self, now: datetime | None = None, force: bool = False) -> list[Transition]:
        """Re-evaluate what time alone changes: staleness and maintenance windows."""
        now = now or self.clock()
        with self._lock:
            due = set(self.policies) if force else self._due(now)
            if not due:
                self._deadline = self._next_deadline(self._tracks, now)
                return []
            with self.tracer.start_as_current_span(
                "engine.tick", attributes={"resources": len(due)}
            ):
                for attempt in range(CONFLICT_RETRIES):
                    try:
                        transitions = self._apply(dict(self._tracks), due, now, ())
                        break
                    except VersionConflict:  # another process wrote first: its view wins
                        self._after_conflict(attempt)
                        due = set(self.policies) if force else self._due(now)
            if force or (self._maintenance_next is not None and self._maintenance_next <= now):
                self._maintenance_next = self.maintenance.next_change(now)
            self._deadline = self._next_deadline(self._tracks, now)
            return transitions

    def _after_conflict(self, attempt: int) -> None:
        """Another process wrote the store since this one computed: reload and retry
        (the lock is held, so only other processes can get in between)."""
        self.metrics.conflicts.inc()
        if attempt + 1 == CONFLICT_RETRIES:
            raise StoreUnavailable("the status store is busy with other writers; retry", 1)
        self._reload(full=False)

    def _due(self, now: datetime) -> set[str]:
        statuses = self._snapshot.statuses
        due = {
            rid
            for rid, tr in self._tracks.items()
            if (d := engine.stale_deadline(tr, self.policies[rid])) is not None
            and d <= now
            and rid in statuses
            and not _already_stale(statuses[rid])
        }
        if self._maintenance_next is not None and self._maintenance_next <= now:
            due |= set(self.policies)
        return due

    def _moved(self, rid: str, track: Track) -> bool:
        """Whether a new observation can change the status, so it must be evaluated
        (with its dependents); otherwise only `observed_at` and `source` move."""
        status = self._snapshot.statuses.get(rid)
        if status is None or _already_stale(status):
            return True
        return engine.material(track) != engine.material(self._tracks.get(rid, Track()))

    def _apply(
        self,
        tracks: dict[str, Track],
        touched: set[str],
        now: datetime,
        observations: Sequence[Observation],
        seen: AbstractSet[str] = frozenset(),
        key: str | None = None,
    ) -> list[Transition]:
        """Evaluate `touched` and their dependents; refresh `seen` (nothing material
        changed); store it all in one transaction, then publish the new snapshot."""
        affected = set(touched).union(*(self.dependents[rid] for rid in touched))
        old = self._snapshot.statuses
        new = engine.evaluate(
            affected, self.order, tracks, self.policies, old, self.maintenance, now
        )
        transitions = _transitions(old, new, now, self.capacity_steps)
        changed = [(s, tracks.get(rid, Track())) for rid, s in new.items() if s != old.get(rid)]
        refreshed = {rid: _refreshed(old[rid], tracks[rid]) for rid in seen - new.keys()}
        if observations or changed:
            version = self.store.commit(
                observations,
                now,
                changed,
                list(refreshed.values()),
                transitions,
                expected_version=self._snapshot.version,
                key=key,
            )
            self._tracks = tracks
            self._snapshot = Snapshot(version, now, {**old, **new, **refreshed})
        if not changed:
            return transitions
        for t in transitions:
            if t.state_changed:
                self.metrics.transitions.labels(t.after.state.value).inc()
        for listener in self._listeners:
            try:
                listener(self._snapshot, transitions)
            except Exception:  # what listens must never undo or block an ingest
                log.exception("a status listener failed")
        return transitions

    def _earliest(
        self, tracks: Mapping[str, Track], rids: set[str], now: datetime
    ) -> datetime | None:
        """The next deadline after an ingest, looking only at what it touched. It may be
        earlier than the true one (a touched resource held it), never later: a read at
        an early deadline finds nothing due and recomputes it in full."""
        if self._deadline is not None and self._deadline <= now:
            return self._deadline  # still due: the next read or tick evaluates it
        cands = [
            d
            for rid in rids
            if (d := engine.stale_deadline(tracks[rid], self.policies[rid])) is not None and d > now
        ]
        cands += [d for d in (self._deadline, self._maintenance_next) if d is not None]
        return min(cands, default=None)

    def _next_deadline(self, tracks: Mapping[str, Track], now: datetime) -> datetime | None:
        deadlines = [
            d
            for rid, tr in tracks.items()
            if (d := engine.stale_deadline(tr, self.policies[rid])) is not None and d > now
        ]
        if self._maintenance_next is not None:
            deadlines.append(self._maintenance_next)
        return min(deadlines, default=None)

    def _validate(self, observations: Sequence[Observation], now: datetime) -> None:
        issues: list[Issue] = []
        for i, obs in enumerate(observations):
            issues += self.observation_issues(i, obs.resource_id, obs.observed_at, now)
        if issues:
            raise ObservationRejected(issues)

    def observation_issues(
        self, index: int, resource_id: object, observed_at: datetime | None, now: datetime
    ) -> list[Issue]:
        """What the facility (not the schema) finds wrong with one observation."""
        issues = []
        if isinstance(resource_id, str) and resource_id not in self.policies:
            path = f"observations[{index}].resource_id"
            issues.append(Issue(path, f"unknown resource {resource_id!r}"))
        if observed_at is not None and observed_at.tzinfo and observed_at - now > MAX_CLOCK_SKEW:
            path = f"observations[{index}].observed_at"
            issues.append(Issue(path, "is in the future by more than 5 minutes"))
        return issues


def _refreshed(s: EffectiveStatus, track: Track) -> EffectiveStatus:
    return EffectiveStatus(
        s.resource_id,
        s.state,
        s.capacity,
        s.reasons,
        s.since,
        track.observed_at,
        track.source,
        s.root_cause,
        s.underlying,
    )


def _already_stale(status: EffectiveStatus) -> bool:
    return any(r.code in ("stale", "no_data") for r in status.reasons)


def _transitions(
    old: Mapping[str, EffectiveStatus],
    new: Mapping[str, EffectiveStatus],
    now: datetime,
    capacity_steps: Mapping[str, float],
) -> list[Transition]:
    out = []
    for rid, after in new.items():
        before = old.get(rid)
        if before is not None and before.same_interval(after, capacity_steps[rid]):
            continue
        changed = before is None or before.state != after.state
        out.append(Transition(before, after, now, state_changed=changed))
    return out
