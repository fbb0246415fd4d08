"""`GET /api/v1/stream`: server-sent events of status changes, incidents and maintenance.

Each event is one row of the change feed (`facility.changes`): `id:` is its position
(send it back as `Last-Event-ID` to replay what you missed), `event:` its kind, `data:`
the object as the JSON API shows it to you (the public view without
`status:read-internal`). A comment line every `stream_heartbeat` seconds keeps proxies
from closing an idle stream. A client that cannot keep up is disconnected, and replays
from its last id when it reconnects; one whose id is older than the feed keeps gets an
`event: reset` first (re-read the state, then follow the stream).
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.deps import RuntimeDep
from api.incident_views import incident_out
from api.problems import ProblemException
from api.redaction import INTERNAL, Audience, AudienceDep
from api.runtime import Runtime
from api.schemas import ID_MAX
from api.views import event_out
from facility import changes, codec
from facility.changes import Change
from facility.errors import UnknownResourceError
from facility.store import EventRecord
from slas.incident_store import incident_from_payload

router = APIRouter(prefix="/api/v1", tags=["stream"])
TYPES = ("status", "incident", "maintenance", "beamtime")
DEFAULT_TYPES = frozenset(TYPES[:3])
QUEUE = 256  # batches a slow client may fall behind before it is disconnected
RETRY_MS = 3000


@router.get(
    "/stream",
    summary="Server-sent events: status changes, incidents, maintenance",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "an event stream"}},
)
async def stream(
    request: Request,
    rt: RuntimeDep,
    view: AudienceDep,
    resources: Annotated[
        list[str] | None,
        Query(max_length=100, description="only these resources (comma-separated or repeated)"),
    ] = None,
    types: Annotated[
        list[str] | None,
        Query(
            max_length=4,
            description="status, incident, maintenance, beamtime (default: the first three)",
        ),
    ] = None,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", description="replay after this id")
    ] = None,
    after: Annotated[
        int | None,
        Query(
            ge=0,
            le=ID_MAX,
            description="replay after this id (for clients that cannot set Last-Event-ID)",
        ),
    ] = None,
) -> StreamingResponse:
    wanted = _resources(rt, resources)
    kinds = _types(types)
    start = _start(last_event_id, after)
    hub = rt.hub
    if hub is None or not hub.running:  # e.g. an app built without its background work
        raise ProblemException(503, "the event stream is not running in this process")
    queue: asyncio.Queue[Sequence[Change] | None] = asyncio.Queue(QUEUE)

    def deliver(new: Sequence[Change]) -> None:
        try:
            queue.put_nowait(new)
        except asyncio.QueueFull:  # too slow: end its stream; it replays on reconnect
            _drain(queue)
            queue.put_nowait(None)

    def accept(c: Change) -> bool:
        return c.kind in kinds and (wanted is None or not wanted.isdisjoint(c.resources))

    async def events() -> AsyncIterator[bytes]:
        # subscribed before the replay reads the store: nothing falls between the two
        sub = hub.subscribe(asyncio.get_running_loop(), deliver)
        try:
            yield f"retry: {RETRY_MS}\n\n".encode()
            last = hub.last_id
            if start is not None:
                last = start
                async for chunk in _replay(rt, start, view, accept):
                    if isinstance(chunk, int):
                        last = chunk
                    else:
                        yield chunk
            while True:
                try:
                    batch = await asyncio.wait_for(queue.get(), rt.settings.stream_heartbeat)
                except TimeoutError:
                    yield b": heartbeat\n\n"
                    continue
                if batch is None:
                    return
                for c in batch:
                    if c.id > last:
                        last = c.id
                        if accept(c):
                            yield _render(hub.rendered, c, view)
        finally:
            hub.unsubscribe(sub)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Vary": "Authorization"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


async def _replay(
    rt: Runtime, start: int, view: Audience, accept: Any
) -> AsyncIterator[bytes | int]:
    """What came after `start`, from the store; then the id it got to."""
    assert rt.hub is not None
    first = await run_in_threadpool(changes.first_id, rt.store.engine)
    if first is not None and start + 1 < first:
        yield b'event: reset\ndata: {"reason": "the events after your id are no longer kept"}\n\n'
    last = start
    while True:
        batch = await run_in_threadpool(changes.after, rt.store.engine, last)
        for c in batch:
            if accept(c):
                yield _render(rt.hub.rendered, c, view)
        if batch:
            last = batch[-1].id
            yield last
        if len(batch) < 1000:
            return


def _render(rendered: OrderedDict[Any, bytes], c: Change, view: Audience) -> bytes:
    """One event as its bytes; rendered once per audience for all the streams of this
    process (`rendered` is the hub's, used from the event loop only)."""
    key = (c.id, view)
    hit = rendered.get(key)
    if hit is None:
        data = json.dumps(_data(c, view), separators=(",", ":"), default=str)
        hit = f"id: {c.id}\nevent: {c.kind}\ndata: {data}\n\n".encode()
        rendered[key] = hit
        while len(rendered) > 4096:
            rendered.popitem(last=False)
    return hit


def _data(c: Change, view: Audience) -> dict[str, Any]:
    payload = {k: v for k, v in c.payload.items() if k != "origin"}
    if c.kind == "status":
        out = event_out(EventRecord(id=0, **codec.event_from_payload(payload)), view)
        out.pop("cursor", None)
        return out
    if c.kind == "incident":
        what = payload.pop("what", [])
        return {**incident_out(incident_from_payload(payload), view == INTERNAL), "what": what}
    return payload


def _resources(rt: Runtime, given: list[str] | None) -> frozenset[str] | None:
    if not given:
        return None
    ids = _split(given)
    known = rt.config.resources_by_id()
    for rid in sorted(ids):
        if rid not in known:
            raise UnknownResourceError(rid)
    return ids or None


def _types(given: list[str] | None) -> frozenset[str]:
    if not given:
        return DEFAULT_TYPES
    kinds = _split(given)
    bad = sorted(kinds - set(TYPES))
    if bad or not kinds:
        message = f"unknown type {bad[0]!r}; one of {', '.join(TYPES)}" if bad else "empty"
        raise ProblemException(400, message, [{"field": "query.types", "message": message}])
    return kinds


def _split(given: list[str]) -> frozenset[str]:
    """`?x=a,b&x=c`: repeated and comma-separated values alike."""
    return frozenset(v.strip() for item in given for v in item.split(",") if v.strip())


def _start(header: str | None, after: int | None) -> int | None:
    if header is None:
        return after
    value = header.strip()
    if not value.isdigit() or int(value) > ID_MAX:
        message = f"must be an event id (0 to {ID_MAX})"
        raise ProblemException(
            400, f"Last-Event-ID {message}", [{"field": "header.Last-Event-ID", "message": message}]
        )
    return int(value)


def _drain(queue: asyncio.Queue[Sequence[Change] | None]) -> None:
    while not queue.empty():
        queue.get_nowait()
