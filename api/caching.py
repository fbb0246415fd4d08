"""Conditional GETs: ETag / If-None-Match and Last-Modified / If-Modified-Since.

A read's body depends only on the store `version` and the request's path and
query, so it is rendered once per (version, path, query) and kept in a small
LRU; a poller that sends its ETag back gets `304` without any rendering.
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

MEDIA_JSON = "application/json"


class RenderCache:
    """LRU of rendered bodies keyed by (version, path?query)."""

    def __init__(self, size: int = 512) -> None:
        self._items: OrderedDict[tuple[int, str], tuple[bytes, str]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get_or_render(
        self, version: int, key: str, render: Callable[[], bytes]
    ) -> tuple[bytes, str]:
        if version < 0:  # an unsaved snapshot (store outage): never cached
            body = render()
            return body, etag_of(body)
        hit = self.peek(version, key)
        if hit is not None:
            return hit
        body = render()
        etag = etag_of(body)
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


def request_key(request: Request) -> str:
    scope = request.scope
    return f"{scope['path']}?{scope['query_string'].decode('latin-1')}"


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
) -> Response:
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
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
) -> Response:
    """A 200 with validators, or a 304 when the client's copy is current."""
    body, etag = cache.get_or_render(version, request_key(request), render)
    return respond(request, body, etag, changed_at, media_type)


def conditional_body(
    request: Request, body: bytes, changed_at: datetime | None, media_type: str = MEDIA_JSON
) -> Response:
    """The same validation for a body that is not cached per version (e.g. history)."""
    return respond(request, body, etag_of(body), changed_at, media_type)


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


async def conditional_async(
    request: Request,
    cache: RenderCache,
    version: int,
    changed_at: datetime,
    render: Callable[[], bytes],
    blocking: bool = False,
) -> Response:
    """`conditional` for async routes: a render that reads the database (`blocking`)
    runs in a worker thread; a cached body is served straight from the event loop."""
    key = request_key(request)
    hit = cache.peek(version, key)
    if hit is not None:
        body, etag = hit
    elif blocking:
        body, etag = await run_in_threadpool(cache.get_or_render, version, key, render)
    else:
        body, etag = cache.get_or_render(version, key, render)
    return respond(request, body, etag, changed_at, MEDIA_JSON)
