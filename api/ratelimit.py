"""Rate limits per token and per client address: token buckets, `429` with `Retry-After`.

Every HTTP request takes one token from the bucket of its client address and, when it
carries an `Authorization` header, one from the bucket of that credential as well. The
middleware runs before authentication, so a credential's bucket is keyed by the
SHA-256 of the header (the secret itself is never kept); inventing credentials gives
a caller fresh credential buckets but never a fresh address bucket. A request is
refused when either bucket is empty, and then takes from neither.

Each bucket holds up to `burst` tokens and refills at `per_minute / 60` tokens per
second. Loopback is not exempt. Buckets live in the process's memory: with several
API processes each one counts on its own. At most `max_keys` buckets are kept; the
least recently used goes first (an idle bucket refills to full anyway).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

MAX_KEYS = 100_000


class Buckets:
    """Token buckets by key; `take` answers 0 (allowed) or the seconds to wait."""

    def __init__(
        self,
        per_minute: int,
        burst: int,
        now: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.rate, self.burst, self.now, self.max_keys = (
            per_minute / 60,
            float(burst),
            now,
            max_keys,
        )
        self._levels: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, keys: list[str]) -> float:
        t = self.now()
        levels = {k: self._level(k, t) for k in keys}
        short = [lv for lv in levels.values() if lv < 1]
        wait = max(((1 - lv) / self.rate for lv in short), default=0.0)
        for k, lv in levels.items():
            self._store(k, lv if short else lv - 1, t)
        return wait

    def _level(self, key: str, t: float) -> float:
        tokens, last = self._levels.get(key, (self.burst, t))
        return min(self.burst, tokens + (t - last) * self.rate)

    def _store(self, key: str, tokens: float, t: float) -> None:
        self._levels[key] = (tokens, t)
        self._levels.move_to_end(key)
        while len(self._levels) > self.max_keys:
            self._levels.popitem(last=False)


class RateLimit:
    """Pure-ASGI middleware; `per_minute=0` disables it."""

    def __init__(self, app: ASGIApp, per_minute: int, burst: int, buckets: Buckets | None = None):
        self.app, self.per_minute, self.burst = app, per_minute, burst
        self.buckets = buckets or (Buckets(per_minute, burst) if per_minute > 0 else None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.buckets is None:
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(keys(scope))
        if wait > 0:
            await self._refuse(scope, send, max(1, math.ceil(wait)))
            return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, send: Send, retry_after: int) -> None:
        detail = (
            f"rate limit exceeded: {self.per_minute} requests per minute (bursts of "
            f"{self.burst}) per client address and per token; retry after {retry_after} s"
        )
        data = json.dumps({
            "type": "about:blank", "title": "Too Many Requests", "status": 429,
            "detail": detail, "instance": scope.get("path", ""),
        }).encode()  # fmt: skip
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(data)).encode()),
            (b"retry-after", str(retry_after).encode()),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": data})


def keys(scope: Scope) -> list[str]:
    """The buckets a request draws from: its address, and its credential if any."""
    client = scope.get("client")
    out = [f"addr:{client[0] if client else 'unknown'}"]
    auth = dict(scope["headers"]).get(b"authorization")
    if auth:
        out.append("cred:" + hashlib.sha256(auth).hexdigest()[:32])
    return out
