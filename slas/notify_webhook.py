"""Signed JSON webhooks: render the body and headers, POST with retries, verify on receipt.

The body is one JSON object with every field of the Notification (stable: compact,
keys sorted, UTF-8, times in ISO 8601 UTC) plus `"version": "1"`:

    {"at":"2026-11-21T12:00:00+00:00","explanation":"tier-1 service, 40% capacity lost",
     "incident_id":"inc-12","key":"inc-12:1:0","kind":"trigger","level":0,"priority":"P1",
     "recipients":[{"email":"ada@example.org","id":"ada","name":"Ada"}],
     "resources":["lustre-home"],"runbook_url":null,"status":"open","summary":"…",
     "title":"lustre-home down","url":"https://facstat.example/incidents/inc-12","version":"1"}

Headers: `Content-Type: application/json`, `X-Facstat-Event: <kind>`,
`X-Facstat-Delivery: <key>` (receivers de-duplicate on it: a retry repeats it),
`X-Facstat-Timestamp: <unix seconds of this attempt>` and, when a secret is set,
`X-Facstat-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
A receiver checks the last two with `verify_signature`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from slas.notify_errors import NotifierConfigError
from slas.notify_http import (
    Clock,
    Outcome,
    RetryPolicy,
    Sleep,
    check_http_url,
    deliver,
    post_with_retry,
    utc_now,
)
from slas.notify_model import Delivery, Notification, Person

BODY_VERSION = "1"
SIGNATURE_TOLERANCE = timedelta(seconds=300)


def webhook_document(n: Notification) -> dict[str, Any]:
    """The webhook body as a JSON-ready dict (see the module docstring)."""
    return {
        "version": BODY_VERSION,
        "key": n.key,
        "incident_id": n.incident_id,
        "kind": n.kind,
        "priority": n.priority,
        "title": n.title,
        "summary": n.summary,
        "explanation": n.explanation,
        "status": n.status,
        "resources": list(n.resources),
        "url": n.url,
        "runbook_url": n.runbook_url,
        "recipients": [_person(p) for p in n.recipients],
        "level": n.level,
        "at": n.at.astimezone(UTC).isoformat(),
    }


def _person(p: Person) -> dict[str, str | None]:
    return {"id": p.id, "name": p.name, "email": p.email}


def webhook_body(n: Notification) -> bytes:
    """The exact bytes that are POSTed and signed."""
    doc = webhook_document(n)
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>`."""
    digest = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify_signature(
    secret: bytes,
    timestamp: str,
    body: bytes,
    header: str,
    now: datetime,
    tolerance: timedelta = SIGNATURE_TOLERANCE,
) -> bool:
    """True when `header` signs `body` at `timestamp` with `secret`, and `timestamp` is
    within `tolerance` of `now` (either side), so a captured request cannot be replayed later."""
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    if abs(now.timestamp() - int(timestamp)) > tolerance.total_seconds():
        return False
    expected = sign(secret, timestamp, body).encode()
    return hmac.compare_digest(expected, header.strip().encode("utf-8", "replace"))


def webhook_headers(
    n: Notification, body: bytes, secret: bytes | None, at: datetime
) -> dict[str, str]:
    timestamp = str(int(at.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "facstat-notify/1",
        "X-Facstat-Event": n.kind,
        "X-Facstat-Delivery": n.key,
        "X-Facstat-Timestamp": timestamp,
    }
    if secret is not None:
        headers["X-Facstat-Signature"] = sign(secret, timestamp, body)
    return headers


class WebhookNotifier:
    """POSTs each notification as signed JSON to one URL (see the module docstring)."""

    def __init__(
        self,
        id: str,
        url: str,
        secret: bytes | None,
        timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 0.5,
        sleep: Sleep = time.sleep,
        clock: Clock = utc_now,
    ) -> None:
        if secret is not None and not secret:
            raise NotifierConfigError("secret", "must not be empty (use None for unsigned)")
        self.id = id
        self.url = check_http_url(url)
        self._secret = secret
        self._timeout = timeout
        self._policy = RetryPolicy(retries, backoff)
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:
        return f"WebhookNotifier(id={self.id!r}, url={self.url!r})"

    def send(self, n: Notification) -> Delivery:
        return deliver(self.id, n.key, self._clock, lambda: self._post(n))

    def _post(self, n: Notification) -> Outcome:
        body = webhook_body(n)
        return post_with_retry(
            self.url,
            body,
            lambda: webhook_headers(n, body, self._secret, self._clock()),
            policy=self._policy,
            timeout=self._timeout,
            sleep=self._sleep,
        )
