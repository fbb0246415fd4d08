"""Security headers on every answer (pages, fragments, JSON, errors): a pure-ASGI middleware.

The pages load their script and style from this site only (htmx from
`/static/vendor`, with `includeIndicatorStyles: false` so it injects no `<style>`)
and have no inline script or style, so the policy forbids both. The API
documentation (`/docs`, `/redoc`) is FastAPI's Swagger UI and ReDoc, which load from
jsDelivr and start with an inline script: those two pages, which show no facility
data, get a policy that allows exactly that. A header the application set itself is
kept.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; worker-src 'self' blob:; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
DOCS = ("/docs", "/redoc")
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, https: bool = False) -> None:
        self.app = app
        self.extra = {**HEADERS, **({"Strict-Transport-Security": HSTS} if https else {})}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"].startswith(DOCS)
        policy = DOCS_CSP if docs else CSP

        async def send_wrapper(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                headers = MutableHeaders(scope=msg)
                headers.setdefault("Content-Security-Policy", policy)
                for name, value in self.extra.items():
                    headers.setdefault(name, value)
            await send(msg)

        await self.app(scope, receive, send_wrapper)


def cors_options(origins: list[str]) -> dict[str, object]:
    """Starlette CORSMiddleware options: the configured origins may read answers and send
    writes with a bearer token; no cookies cross origins (the staff pages are same-site)."""
    return {
        "allow_origins": origins,
        "allow_methods": ["GET", "HEAD", "POST", "PATCH", "DELETE"],
        "allow_headers": ["Authorization", "Content-Type", "If-None-Match", "If-Modified-Since"],
        "expose_headers": ["ETag", "Last-Modified", "Location", "Retry-After"],
        "allow_credentials": False,
        "max_age": 600,
    }
