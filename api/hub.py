"""The change hub: keeps one API process coherent with the others, and feeds its SSE clients.

Every commit on the store's engine wakes the hub at once (`engine` "commit" event); on
PostgreSQL a listener connection (`LISTEN facstat`) wakes it when any other process
commits a change; on SQLite it also polls. Each wake-up:

1. brings the status snapshot up to the store's version (`StatusService.sync`), so
   reads, ETags and the render cache of this process follow writes made elsewhere;
2. reads the change feed after the last change it saw (`facility.changes`); changes to
   maintenance windows or beamtimes made by another process reload `Operations`;
3. hands the new changes to the SSE streams of this process (`api.stream`), grouped
   per event loop, so 1,000 clients cost one thread hop, not 1,000.

If the store is unreachable the hub keeps trying at its poll interval; the listener
reconnects with backoff and catches up on what it missed from the feed itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from facility import changes
from facility.changes import Change
from facility.errors import StoreUnavailable
from facility.service import StatusService
from slas.operations import Operations

log = logging.getLogger("facstat.hub")
Deliver = Callable[[Sequence[Change]], None]
RELOADS_OPERATIONS = ("maintenance", "beamtime")
SAFETY_POLL = 5.0  # PostgreSQL: seconds between looks when no NOTIFY came (a lost one)


@dataclass(eq=False)
class Subscription:
    loop: asyncio.AbstractEventLoop
    deliver: Deliver  # runs in `loop`


@dataclass
class ChangeHub:
    engine: Engine
    service: StatusService
    ops: Operations
    poll_interval: float = 1.0  # SQLite; PostgreSQL polls only as a safety net
    last_id: int = 0
    available: bool = True
    rendered: OrderedDict[Any, bytes] = field(default_factory=OrderedDict)  # SSE, per event
    on_changes: list[Callable[[Sequence[Change]], None]] = field(default_factory=list)
    _wake: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _subs: list[Subscription] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _processing: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    @property
    def shared(self) -> bool:
        """Whether other processes can write the same store and notify (PostgreSQL)."""
        return self.engine.dialect.name == "postgresql"

    def __post_init__(self) -> None:
        self.gate = CatchUpGate(self.catch_up)

    @property
    def running(self) -> bool:
        return bool(self._threads) and not self._stop.is_set()

    def start(self) -> None:
        """Begin after the feed's current end: what is already there is history."""
        if self._threads:
            return
        try:
            self.last_id = changes.last_id(self.engine)
        except StoreUnavailable:
            self.available = False
        sa.event.listen(self.engine, "commit", self._on_commit)
        self._spawn("change-hub", self._run)
        if self.shared:
            self._spawn("change-listen", self._listen)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if sa.event.contains(self.engine, "commit", self._on_commit):
            sa.event.remove(self.engine, "commit", self._on_commit)
        for t in self._threads:
            t.join(timeout=5)

    def wake(self) -> None:
        self._wake.set()

    # -- subscribers (SSE streams) ----------------------------------------------------

    def subscribe(self, loop: asyncio.AbstractEventLoop, deliver: Deliver) -> Subscription:
        sub = Subscription(loop, deliver)
        with self._lock:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subs)

    # -- the loop -----------------------------------------------------------------------

    def _on_commit(self, _conn: Any) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(SAFETY_POLL if self.shared else self.poll_interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.process()
            except Exception:  # never let the hub die: the next wake-up retries
                log.exception("change hub: processing failed")

    def catch_up(self) -> None:
        """Before a request on a shared store: one small query, and a catch-up only if
        another process wrote since (the listener would do it a moment later; a request
        must not see the past). `StoreUnavailable` if the store cannot be read."""
        version, newest = changes.heads(self.engine)
        if newest > self.last_id:
            self.process(strict=True, version=version)
        elif version != self.service.current().version:
            self.service.sync(version)

    def process(self, strict: bool = False, version: int | None = None) -> list[Change]:
        """One catch-up: the snapshot (to `version` if just read), the feed, operations,
        the streams."""
        with self._processing:
            return self._process(strict, version)

    def _process(self, strict: bool, version: int | None) -> list[Change]:
        try:
            self.service.sync(version)
            new: list[Change] = []
            while True:
                batch = changes.after(self.engine, self.last_id)
                new += batch
                if batch:
                    self.last_id = batch[-1].id
                if len(batch) < 1000:
                    break
        except StoreUnavailable as exc:
            if self.available:
                log.warning("change hub: store unavailable: %s", exc)
            self.available = False
            if strict:
                raise
            return []
        self.available = True
        if any(c.kind in RELOADS_OPERATIONS and not _mine(c) for c in new):
            self.ops.reload()
        if new:
            self._publish(new)
            for hook in self.on_changes:
                hook(new)
        return new

    def _publish(self, new: Sequence[Change]) -> None:
        with self._lock:
            by_loop: dict[asyncio.AbstractEventLoop, list[Subscription]] = {}
            for sub in self._subs:
                by_loop.setdefault(sub.loop, []).append(sub)
        for loop, subs in by_loop.items():
            try:
                loop.call_soon_threadsafe(_fan_out, subs, new)
            except RuntimeError:  # the loop is closed: its streams are gone
                for sub in subs:
                    self.unsubscribe(sub)

    def _listen(self) -> None:
        """PostgreSQL: wake the hub on every `NOTIFY facstat` from any process."""
        import psycopg

        url = self.engine.url.set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        backoff = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {changes.CHANNEL}")
                    backoff = 0.5
                    self._wake.set()  # catch up on whatever happened while disconnected
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=64):
                            self._wake.set()
            except psycopg.Error as exc:
                log.warning("change hub: LISTEN connection lost (%s); retrying", exc)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)


class CatchUpGate:
    """Concurrent requests share one catch-up query, without giving up read-after-write.

    A request may use a check that *started after it arrived* (that check sees every
    commit made before the request came); it never uses one that started earlier. While
    a check runs, every request that arrives waits for the next one, which then serves
    all of them at once: under load, one query per round trip instead of one per
    request. Used from one event loop (each process has one)."""

    def __init__(self, check: Callable[[], None]) -> None:
        self._check = check
        self._task: asyncio.Future[None] | None = None
        self._started = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None

    async def wait(self) -> None:
        from starlette.concurrency import run_in_threadpool

        arrived = time.monotonic()
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new loop (tests build several): start afresh
            self._loop, self._task = loop, None
        while True:
            task = self._task
            if task is not None and self._started >= arrived:
                await asyncio.shield(task)  # a check that began after we came: ours too
                return
            if task is None or task.done():
                self._started = time.monotonic()
                self._task = asyncio.ensure_future(run_in_threadpool(self._check))
                await asyncio.shield(self._task)
                return
            with contextlib.suppress(Exception):  # began before we came: wait it out
                await asyncio.shield(task)


def _mine(change: Change) -> bool:
    return change.payload.get("origin") == changes.ORIGIN


def _fan_out(subs: Sequence[Subscription], new: Sequence[Change]) -> None:
    for sub in subs:
        try:
            sub.deliver(new)
        except Exception:
            log.exception("change hub: a stream failed to take changes")
