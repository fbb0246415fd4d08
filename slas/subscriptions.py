"""Subscriptions: status changes of chosen resources, delivered to a webhook (JSON,
HMAC-signed, retried with backoff) or by e-mail, in a background thread so the status
engine never waits on a receiver. Every delivery is recorded; failed ones are the
dead letters (`dead_letters`)."""

from __future__ import annotations

import json
import logging
import queue
import secrets
import smtplib
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from facility.model import Transition
from facility.service import Snapshot
from facility.tables import SubscriptionDeliveryRecord, SubscriptionRecord
from slas.notify_http import RetryPolicy, post_with_retry
from slas.notify_webhook import sign

log = logging.getLogger("facstat.subscriptions")
_S = SubscriptionRecord.__table__  # type: ignore[attr-defined]
_D = SubscriptionDeliveryRecord.__table__  # type: ignore[attr-defined]


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
    """The status service's listener: queues each change for its subscribers."""

    def __init__(
        self,
        store: SubscriptionStore,
        clock: Callable[[], datetime],
        smtp: SmtpRelay | None = None,
        policy: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.store, self.clock, self.smtp, self.policy = store, clock, smtp, policy
        self._queue: queue.Queue[tuple[Subscription, dict[str, Any]] | threading.Event | None] = (
            queue.Queue()
        )
        self._thread = threading.Thread(target=self._run, name="subscriptions", daemon=True)
        self._thread.start()

    def on_status(self, snap: Snapshot, transitions: list[Transition]) -> None:
        changes = [t for t in transitions if t.state_changed]
        if not changes:
            return
        subs = self.store.all()
        for t in changes:
            body = change_body(t)
            for s in subs:
                if s.wants(t.after.resource_id):
                    self._queue.put((s, body))

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued so far has been delivered (or has failed)."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def stop(self) -> None:
        self._queue.put(None)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if isinstance(item, threading.Event):
                item.set()
                continue
            try:
                self._deliver(*item)
            except Exception:  # a receiver must never stop the dispatcher
                log.exception("subscription delivery failed")

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


def change_body(t: Transition) -> dict[str, Any]:
    a = t.after
    why = "; ".join(r.message for r in a.reasons)
    return {
        "id": str(uuid.uuid4()),
        "event": "status_changed",
        "resource_id": a.resource_id,
        "from": t.before.state.value if t.before else None,
        "to": a.state.value,
        "at": t.at.isoformat(),
        "capacity": a.capacity,
        "reasons": [r.as_dict() for r in a.reasons],
        "root_cause": a.root_cause.as_dict() if a.root_cause else None,
        "description": f"{a.resource_id} is {a.state.value}" + (f": {why}" if why else ""),
    }
