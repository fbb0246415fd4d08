"""Conditional GETs: ETag / If-None-Match and Last-Modified / If-Modified-Since.

A read's body depends only on the store `version`, the audience (the public or the
internal view, `api.redaction`) and the request's path and query, so it is rendered
once per (version, audience, path, query) and kept in a small LRU; a poller that
sends its ETag back gets `304` without any rendering. A public request can never be
answered from an internal rendering: the audience is part of every key, the two
views' ETags differ (the internal one is salted), and audience-dependent answers
carry `Vary: Authorization` so no shared cache mixes them either.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from api.redaction import INTERNAL, Audience

MEDIA_JSON = "application/json"
Key = tuple[int, str]  # (store version, "<audience>:<path>?<query>")


class RenderCache:
    """LRU of rendered bodies keyed by (version, audience, path?query)."""

    def __init__(self, size: int = 512) -> None:
        self._items: OrderedDict[Key, tuple[bytes, str]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get_or_render(
        self, version: int, key: str, render: Callable[[], bytes]
    ) -> tuple[bytes, str]:
        """`key` is a `request_key` (it starts with the audience)."""
        if version < 0:  # an unsaved snapshot (store outage): never cached
            body = render()
            return body, etag_of(body, _audience_of(key))
        hit = self.peek(version, key)
        if hit is not None:
            return hit
        body = render()
        etag = etag_of(body, _audience_of(key))
        with self._lock:
            self._items[(version, key)] = (body, etag)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return body, etag

    def peek(self, version: int, key: str) -> tuple[bytes, str] | None:
        k = (version, key)
        with self._lock:
            hit = self._items.get(k)
            if hit is not None:
                self._items.move_to_end(k)
            return hit


def request_key(request: Request, audience: Audience) -> str:
    """`public:/api/v1/resources?state=down`: the view, the path and the query."""
    scope = request.scope
    return f"{audience}:{scope['path']}?{scope['query_string'].decode('latin-1')}"


def _audience_of(key: str) -> Audience:
    return INTERNAL if key.startswith(INTERNAL + ":") else "public"


def not_modified(request: Request, etag: str, changed_at: datetime | None) -> bool:
    inm = request.headers.get("if-none-match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return etag in tags or "*" in tags
    ims = request.headers.get("if-modified-since")
    if ims is None or changed_at is None:
        return False
    try:
        since = parsedate_to_datetime(ims)
    except (TypeError, ValueError):
        return False
    return since.tzinfo is not None and changed_at.replace(microsecond=0) <= since


def respond(
    request: Request,
    body: bytes,
    etag: str,
    changed_at: datetime | None,
    media_type: str = MEDIA_JSON,
    vary: bool = True,
) -> Response:
    """`vary`: the body depends on the caller's credentials (public or internal view)."""
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if vary:
        headers["Vary"] = "Authorization"
    if changed_at is not None:
        headers["Last-Modified"] = format_datetime(changed_at, usegmt=True)
    if not_modified(request, etag, changed_at):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def conditional(
    request: Request,
    cache: RenderCache,
    version: int,
    changed_at: datetime,
    render: Callable[[], bytes],
    media_type: str = MEDIA_JSON,
    *,
    audience: Audience,
) -> Response:
    """A 200 with validators, or a 304 when the client's copy is current."""
    body, etag = cache.get_or_render(version, request_key(request, audience), render)
    return respond(request, body, etag, changed_at, media_type)


def conditional_body(
    request: Request,
    body: bytes,
    changed_at: datetime | None,
    media_type: str = MEDIA_JSON,
    audience: Audience | None = None,
) -> Response:
    """The same validation for a body that is not cached per version (e.g. history);
    `audience` for a body that depends on the caller's view."""
    etag = etag_of(body, audience or "public")
    return respond(request, body, etag, changed_at, media_type, vary=audience is not None)


def etag_of(body: bytes, audience: Audience = "public") -> str:
    """The body's hash; the internal view's is salted, so it never validates a public copy."""
    h = hashlib.blake2b(body, digest_size=12)
    if audience == INTERNAL:
        h.update(b"\x00internal")
    return '"' + h.hexdigest() + '"'


async def conditional_async(
    request: Request,
    cache: RenderCache,
    version: int,
    changed_at: datetime,
    render: Callable[[], bytes],
    blocking: bool = False,
    *,
    audience: Audience,
) -> Response:
    """`conditional` for async routes: a render that reads the database (`blocking`)
    runs in a worker thread; a cached body is served straight from the event loop."""
    key = request_key(request, audience)
    hit = cache.peek(version, key)
    if hit is not None:
        body, etag = hit
    elif blocking:
        body, etag = await run_in_threadpool(cache.get_or_render, version, key, render)
    else:
        body, etag = cache.get_or_render(version, key, render)
    return respond(request, body, etag, changed_at, MEDIA_JSON)
