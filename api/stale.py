"""Marking answers served from memory while the status store cannot be read.

A read that could not reach the store (`api.deps.get_snapshot`) marks its request; this
middleware then adds `X-Facstat-Stale: store-unavailable` and the standard
`Warning: 110 - "Response is Stale"` to the answer, so a client can tell the last known
status from a current one.
"""

from __future__ import annotations

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FLAG = "facstat_stale"
HEADERS = [(b"x-facstat-stale", b"store-unavailable"), (b"warning", b'110 - "Response is Stale"')]


def mark(request: Request) -> None:
    setattr(request.state, FLAG, True)


class StaleMark:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start" and scope.get("state", {}).get(FLAG):
                message = {**message, "headers": [*message.get("headers", []), *HEADERS]}
            await send(message)

        await self.app(scope, receive, marked)
