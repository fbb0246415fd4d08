"""POST with the notifiers' retry policy, shared by the webhook and Alertmanager adapters.

Policy: a connection error, a timeout, a 5xx or a 429 is retried up to `retries` times,
sleeping `backoff`, then 2×, 4×… `backoff` before each retry; any other 4xx is final at
once (the receiver has said no: sending the same request again cannot help); 2xx is
success. Nothing here raises for a failed delivery: the outcome says what happened.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from slas.notify_errors import NotifierConfigError
from slas.notify_model import Delivery

Clock = Callable[[], datetime]
Sleep = Callable[[float], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retries: int = 3
    backoff: float = 0.5

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise NotifierConfigError("retries", "must be 0 or more")
        if self.backoff < 0:
            raise NotifierConfigError("backoff", "must be 0 or more")

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1-based): 1×, 2×, 4×… backoff."""
        return float(self.backoff * 2 ** (retry - 1))


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    attempts: int
    detail: str


def check_http_url(url: str, field: str = "url") -> str:
    """`url` without a trailing slash, or NotifierConfigError if it is not an http(s) URL."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise NotifierConfigError(field, f"not a URL: {exc}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise NotifierConfigError(field, "must be an http:// or https:// URL with a host")
    return url.rstrip("/")


def post_with_retry(
    url: str,
    body: bytes,
    headers: Callable[[], Mapping[str, str]],
    *,
    policy: RetryPolicy,
    timeout: float,
    sleep: Sleep = time.sleep,
) -> Outcome:
    """POST `body` to `url`; `headers()` is called afresh for every attempt (new timestamp)."""
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for attempt in range(1, policy.retries + 2):
            if attempt > 1:
                sleep(policy.delay(attempt - 1))
            answer = _attempt(client, url, body, headers())
            if answer.ok or not answer.retryable:
                break
    return Outcome(answer.ok, attempt, answer.detail)


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int | None  # None: no HTTP answer at all (connection refused, timeout…)
    detail: str

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status >= 500 or self.status == 429


def _attempt(client: httpx.Client, url: str, body: bytes, headers: Mapping[str, str]) -> _Answer:
    try:
        response = client.post(url, content=body, headers=dict(headers))
    except httpx.TransportError as exc:
        return _Answer(None, f"{type(exc).__name__}: {exc or 'no detail'}")
    code = response.status_code
    return _Answer(code, f"HTTP {code} {response.reason_phrase}".rstrip() + _excerpt(response))


def _excerpt(response: httpx.Response, limit: int = 200) -> str:
    """The start of an error response's body, which often says why."""
    if response.is_success:
        return ""
    text = response.text.strip().replace("\n", " ")
    return f": {text[:limit]}" if text else ""


def deliver(receiver_id: str, key: str, clock: Clock, action: Callable[[], Outcome]) -> Delivery:
    """Run `action` and report it as a Delivery; any exception becomes `ok=False`, never raised."""
    try:
        outcome = action()
    except Exception as exc:  # a notifier never raises: the failure is the result
        outcome = Outcome(False, 1, f"{type(exc).__name__}: {exc}")
    return Delivery(receiver_id, key, outcome.ok, outcome.attempts, outcome.detail, clock())
