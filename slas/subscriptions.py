"""Subscriptions: status changes of chosen resources, delivered to a webhook (JSON,
HMAC-signed, retried with backoff) or by e-mail, from the change feed in a background
thread so the status engine never waits on a receiver, and a crash loses nothing.
Every delivery is recorded; failed ones are the dead letters (`deliveries`)."""

from __future__ import annotations

import json
import logging
import secrets
import smtplib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from facility import changes
from facility.changes import Change
from facility.tables import StoreMeta, SubscriptionDeliveryRecord, SubscriptionRecord
from slas.notify_http import RetryPolicy, post_with_retry
from slas.notify_webhook import sign

log = logging.getLogger("facstat.subscriptions")
_S = SubscriptionRecord.__table__  # type: ignore[attr-defined]
_D = SubscriptionDeliveryRecord.__table__  # type: ignore[attr-defined]
_M = StoreMeta.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    kind: str
    target: str
    resources: list[str]
    secret: str | None
    created_at: datetime
    created_by: str

    def wants(self, resource_id: str) -> bool:
        return not self.resources or resource_id in self.resources


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: int
    subscription_id: int
    event_uuid: str
    at: datetime
    ok: bool
    attempts: int
    detail: str
    body: str


@dataclass(frozen=True, slots=True)
class SmtpRelay:
    host: str
    port: int
    sender: str


class SubscriptionStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(
        self, kind: str, target: str, resources: Sequence[str], actor: str, now: datetime
    ) -> Subscription:
        secret = secrets.token_urlsafe(32) if kind == "webhook" else None
        row: dict[str, Any] = {"kind": kind, "target": target, "resources": list(resources),
                               "secret": secret, "created_at": now, "created_by": actor}  # fmt: skip
        with self.engine.begin() as conn:
            key = conn.execute(sa.insert(_S).values(**row)).inserted_primary_key
            assert key is not None
            return Subscription(id=int(key[0]), **row)

    def all(self) -> list[Subscription]:
        with self.engine.connect() as conn:
            return [
                Subscription(**r) for r in conn.execute(sa.select(_S).order_by(_S.c.id)).mappings()
            ]

    def delete(self, sub_id: int) -> bool:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(_D).where(_D.c.subscription_id == sub_id))
            return bool(conn.execute(sa.delete(_S).where(_S.c.id == sub_id)).rowcount)

    def record(self, row: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.insert(_D), [row])

    def deliveries(
        self, sub_id: int | None = None, failed_only: bool = False, limit: int = 200
    ) -> list[DeliveryRow]:
        q = sa.select(_D).order_by(_D.c.id.desc()).limit(limit)
        if sub_id is not None:
            q = q.where(_D.c.subscription_id == sub_id)
        if failed_only:
            q = q.where(_D.c.ok.is_(False))
        with self.engine.connect() as conn:
            return [DeliveryRow(**r) for r in conn.execute(q).mappings()]


class SubscriptionDispatcher:
    """Delivers the change feed's status changes to the subscribers: an outbox.

    The feed (`facility.changes`) is read after a cursor kept in the store, and the cursor
    moves past a change only once every subscriber of it has been answered (delivered or
    recorded as a dead letter). So a process that dies loses nothing: whoever delivers
    next starts from the cursor (at least once: the change being delivered at the crash
    goes out again, with the same `id` for the receiver to recognise). With several API
    processes on PostgreSQL, one delivers at a time (an advisory lock); the others find
    the lock taken and leave it. Woken by the store's commits in this process and, across
    processes, by the change hub (`wake`).
    """

    def __init__(
        self,
        store: SubscriptionStore,
        clock: Callable[[], datetime],
        smtp: SmtpRelay | None = None,
        policy: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.store, self.clock, self.smtp, self.policy = store, clock, smtp, policy
        self.engine = store.engine
        self.cursor = _start_cursor(self.engine)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._passes = 0
        self._done = threading.Condition()
        sa.event.listen(self.engine, "commit", self._on_commit)
        # also look without being woken, every `poll` seconds (set by a started runtime):
        # a process that died mid-delivery leaves work another process must pick up
        self.poll: float | None = None
        self._thread = threading.Thread(target=self._run, name="subscriptions", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every change committed so far has been handed to its subscribers
        (by this process or another)."""
        target = changes.last_id(self.engine)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _read_cursor(self.engine) >= target:
                return True
            with self._done:
                seen = self._passes
                self._wake.set()
                self._done.wait_for(partial(_after, self, seen), timeout=0.5)
        return False

    def stop(self, timeout: float = 15.0) -> None:
        """End the delivery thread (after the delivery in hand, if any)."""
        self._stop.set()
        self._wake.set()
        if sa.event.contains(self.engine, "commit", self._on_commit):
            sa.event.remove(self.engine, "commit", self._on_commit)
        self._thread.join(timeout)

    def _on_commit(self, _conn: Any) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.deliver_pending()
            except Exception:  # a receiver or an outage must never stop the dispatcher
                log.exception("subscription delivery pass failed")
            with self._done:
                self._passes += 1
                self._done.notify_all()

    def deliver_pending(self) -> int:
        """One pass: every change after the cursor, if this process holds the lock."""
        sent = 0
        if changes.last_id(self.engine) <= self.cursor:  # the common case: nothing new
            return 0
        with _leader(self.engine) as leading:
            if not leading:  # another process delivers; it looks again when it is done
                return 0
            cursor = _read_cursor(self.engine)
            while not self._stop.is_set():
                batch = changes.after(self.engine, cursor, limit=200)
                if not batch:
                    break
                subs = self.store.all()
                for c in batch:
                    if self._stop.is_set():
                        break
                    wanted = [s for s in subs if _wants(s, c)]
                    for s in wanted:
                        self._deliver(s, change_body(c))
                        sent += 1
                    cursor = c.id
                    if wanted:  # answered: never again, even if this process dies now
                        _write_cursor(self.engine, cursor)
                _write_cursor(self.engine, cursor)
            self.cursor = cursor
        # a change committed while the lock was about to be released found it taken in
        # its own process: look once more now that it is free
        if not self._stop.is_set() and changes.last_id(self.engine) > self.cursor:
            self._wake.set()
        return sent

    def _deliver(self, s: Subscription, body: dict[str, Any]) -> None:
        data = json.dumps(body, sort_keys=True, separators=(",", ":"))
        ok, attempts, detail = (
            self._webhook(s, data) if s.kind == "webhook" else self._email(s, body)
        )
        self.store.record({"subscription_id": s.id, "event_uuid": body["id"], "at": self.clock(),
                           "ok": ok, "attempts": attempts, "detail": detail, "body": data})  # fmt: skip

    def _webhook(self, s: Subscription, data: str) -> tuple[bool, int, str]:
        raw = data.encode()

        def headers() -> dict[str, str]:
            ts = str(int(self.clock().timestamp()))
            out = {"Content-Type": "application/json", "X-Facstat-Event": "status_changed",
                   "X-Facstat-Timestamp": ts}  # fmt: skip
            if s.secret:
                out["X-Facstat-Signature"] = sign(s.secret.encode(), ts, raw)
            return out

        outcome = post_with_retry(s.target, raw, headers, policy=self.policy, timeout=5.0)
        return outcome.ok, outcome.attempts, outcome.detail

    def _email(self, s: Subscription, body: dict[str, Any]) -> tuple[bool, int, str]:
        if self.smtp is None:
            return False, 0, "no SMTP relay configured (FACSTAT_SMTP_HOST)"
        msg = EmailMessage()
        msg["From"], msg["To"] = self.smtp.sender, s.target
        msg["Subject"] = f"facstat: {body['resource_id']} is {body['to']}"
        msg.set_content(f"{body['description']}\n\nat {body['at']}\n")
        try:
            with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=10) as smtp:
                smtp.send_message(msg)
            return True, 1, "sent"
        except (OSError, smtplib.SMTPException) as exc:
            return False, 1, f"{type(exc).__name__}: {exc}"


def change_body(c: Change) -> dict[str, Any]:
    """A status change from the feed as subscribers get it; `id` is the change's own
    (stable: a redelivery carries the same one)."""
    p = c.payload
    details = p.get("details", {})
    reasons = details.get("reasons", [])
    why = "; ".join(r.get("message", "") for r in reasons)
    return {
        "id": p["uuid"],
        "event": "status_changed",
        "resource_id": p["resource_id"],
        "from": p["from_state"],
        "to": p["to_state"],
        "at": p["occurred_at"],
        "capacity": details.get("capacity"),
        "reasons": reasons,
        "root_cause": details.get("root_cause"),
        "description": f"{p['resource_id']} is {p['to_state']}" + (f": {why}" if why else ""),
    }


def _wants(s: Subscription, c: Change) -> bool:
    return c.kind == "status" and s.wants(c.ref) and c.at >= s.created_at


def _after(d: SubscriptionDispatcher, passes: int) -> bool:
    return d._passes > passes


CURSOR = "subscriptions_cursor"
LEADER_LOCK = 0x66737562  # PostgreSQL advisory lock id of the delivering process


def _read_cursor(engine: Engine) -> int:
    with engine.connect() as conn:
        value = conn.execute(sa.select(_M.c.value).where(_M.c.key == CURSOR)).scalar()
    return int(value or 0)


def _write_cursor(engine: Engine, cursor: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(_M).where(_M.c.key == CURSOR).values(value=str(cursor)))


def _start_cursor(engine: Engine) -> int:
    """The cursor; a store without one starts at the feed's end (subscribers get what
    happens from now on, not the retained past)."""
    with engine.begin() as conn:
        value = conn.execute(sa.select(_M.c.value).where(_M.c.key == CURSOR)).scalar()
        if value is not None:
            return int(value)
    start = changes.last_id(engine)
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(_M), [{"key": CURSOR, "value": str(start)}])
    except IntegrityError:  # another process set it first
        return _read_cursor(engine)
    return start


@contextmanager
def _leader(engine: Engine) -> Iterator[bool]:
    """Whether this process may deliver now: on PostgreSQL, holding the advisory lock
    (released when done, or when the process dies with its connection); SQLite serves
    one process."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect() as conn:
        got = bool(conn.execute(sa.select(sa.func.pg_try_advisory_lock(LEADER_LOCK))).scalar())
        try:
            yield got
        finally:
            if got:
                conn.execute(sa.select(sa.func.pg_advisory_unlock(LEADER_LOCK)))
            conn.commit()
