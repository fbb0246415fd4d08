"""The audit trail: one hash-chained entry per write (`facility.audit`, `facility.audit_store`).

Which requests: every POST, PUT, PATCH and DELETE whose caller was authenticated,
whatever the answer (accepted; refused for a missing scope, 403; a conflict, 409; bad
input, 422; a failure, 500), and every one accepted (status < 400) without
credentials (the staff sign-in). Requests refused before anyone was authenticated
(401, 413, 429, no such route) are not entries: nobody can fill the log anonymously;
the HTTP metrics count them.

Each entry names who (`actor`: the principal's id, e.g. `token:tok_1a2b`,
`static:operator`, `session:Cat Chen`, else `anonymous`), which token (`token_id`),
from where (`client`: the peer address as the server sees it; behind a proxy,
uvicorn's `--forwarded-allow-ips` decides whether X-Forwarded-For is believed), what
(`method`, `path` with its query, `action` derived from the route's path template,
`target` from its path parameters), `status`, and `before`/`after`. A route may put
the object as it was and as it became in `request.state.audit_before/audit_after`
(`record`); otherwise `after` is the request body with secrets replaced by
`[redacted]` (JSON and form bodies; anything else or over 16 KiB by its size and
SHA-256). Observation batches are summarised (count and resource ids).

The entry is appended when the answer starts, before the client sees it: a client
that got its answer finds its entry in the log. If the append itself fails, the
failure is logged and the answer still goes out (the write it describes is done).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.pages import session
from api.runtime import Runtime
from facility.audit import AuditEntry
from facility.audit_store import AuditLog

log = logging.getLogger("facstat.audit")
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
VERBS = {"POST": "create", "PUT": "replace", "PATCH": "update", "DELETE": "delete"}
BODY_KEPT = 16 * 1024
REDACTED = "[redacted]"
SECRET_WORDS = ("secret", "token", "password", "passwd", "authorization", "cookie",
                "credential", "apikey", "api_key", "private_key")  # fmt: skip
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")
_API = re.compile(r"^/api/v\d+/")
_UNSET: Any = object()


def record(
    request: Request, *, before: Any = _UNSET, after: Any = _UNSET, target: Any = None
) -> None:
    """For a route: the object before and after its change, and its id if not in the path."""
    if before is not _UNSET:
        request.state.audit_before = before
    if after is not _UNSET:
        request.state.audit_after = after
    if target is not None:
        request.state.audit_target = str(target)


class AuditTrail:
    """Pure-ASGI middleware appending an audit entry for each write (see module doc)."""

    def __init__(self, app: ASGIApp, runtime: Runtime, audit_log: AuditLog) -> None:
        self.app, self.rt, self.log = app, runtime, audit_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES:
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})
        body = _Body()
        done = False

        async def tee() -> Message:
            msg = await receive()
            if msg["type"] == "http.request":
                body.add(msg.get("body", b""))
            return msg

        async def send_wrapper(msg: Message) -> None:
            nonlocal done
            if msg["type"] == "http.response.start" and not done:
                done = True
                await self._append(scope, body, msg["status"])
            await send(msg)

        try:
            await self.app(scope, tee, send_wrapper)
        except Exception:
            if not done:
                await self._append(scope, body, 500)
            raise

    async def _append(self, scope: Scope, body: _Body, status: int) -> None:
        try:
            entry = self._entry(scope, body, status)
            if entry is not None:
                await run_in_threadpool(self.log.append, entry)
        except Exception:
            log.exception("audit entry not stored: %s %s", scope["method"], scope["path"])

    def _entry(self, scope: Scope, body: _Body, status: int) -> AuditEntry | None:
        state: dict[str, Any] = scope["state"]
        actor, token_id = self._who(scope, state)
        if actor == "anonymous" and status >= 400:
            return None
        action = action_of(scope["method"], _template(scope))
        after = state["audit_after"] if "audit_after" in state else body.summary(scope, action)
        return AuditEntry(
            at=self.rt.clock(),
            actor=actor,
            token_id=token_id,
            client=(scope.get("client") or ("unknown",))[0],
            method=scope["method"],
            path=_path(scope),
            action=action,
            target=_target(scope, state, after),
            status=status,
            before=state.get("audit_before"),
            after=after,
        )

    def _who(self, scope: Scope, state: dict[str, Any]) -> tuple[str, str | None]:
        principal = state.get("principal")
        if principal is not None:
            return principal.id, principal.token_id
        staff = session.read(self.rt, Request(scope))
        return (f"session:{staff.actor}", None) if staff else ("anonymous", None)


def action_of(method: str, template: str) -> str:
    """`maintenance.create`, `maintenance.cancel`, `incidents.ack`, `pages.signin`: the
    first literal segment of the route (after `/api/vN`) and the last one, or the
    method's verb (POST create, PUT replace, PATCH update, DELETE delete)."""
    words = [w for w in template.split("/") if w and not w.startswith("{")]
    if not _API.match(template):
        return ".".join(["pages", *words])[:64]
    words = words[2:] or ["api"]
    verb = words[-1] if len(words) > 1 else VERBS.get(method, method.lower())
    return f"{words[0]}.{verb}"[:64]


def redact(value: Any) -> Any:
    """`value` with every secret-looking key's value and URL credentials replaced."""
    if isinstance(value, dict):
        return {k: REDACTED if _secret(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _USERINFO.sub(rf"\1{REDACTED}@", value)
    return value


def _secret(key: str) -> bool:
    k = key.lower()
    return not k.endswith("_id") and any(w in k for w in SECRET_WORDS)


class _Body:
    """The request body as the application reads it: its first BODY_KEPT bytes, its
    size and its SHA-256."""

    def __init__(self) -> None:
        self.head, self.size, self.sha = bytearray(), 0, hashlib.sha256()

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self.sha.update(chunk)
        if len(self.head) <= BODY_KEPT:
            self.head += chunk[: BODY_KEPT + 1 - len(self.head)]

    def summary(self, scope: Scope, action: str) -> dict[str, Any] | None:
        if self.size == 0:
            return None
        ctype = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1")
        parsed = self._parse(ctype) if self.size <= BODY_KEPT else None
        if parsed is None:
            return {"content_type": ctype, "bytes": self.size, "sha256": self.sha.hexdigest()}
        shorten = SUMMARIES.get(action)
        return shorten(parsed) if shorten else redact(parsed)

    def _parse(self, ctype: str) -> dict[str, Any] | None:
        text = bytes(self.head).decode("utf-8", "replace")
        if "json" in ctype:
            try:
                value = json.loads(text)
            except ValueError:
                return None
            return value if isinstance(value, dict) else {"body": value}
        if ctype.startswith("application/x-www-form-urlencoded"):
            return dict(parse_qsl(text, keep_blank_values=True))
        return None


def _observations(body: dict[str, Any]) -> dict[str, Any]:
    items = body.get("observations")
    items = items if isinstance(items, list) else []
    ids = {str(o.get("resource_id")) for o in items if isinstance(o, dict)}
    return {"observations": len(items), "resources": sorted(ids)[:200]}


SUMMARIES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "observations.create": _observations,
}


def _template(scope: Scope) -> str:
    route = scope.get("route")
    return str(getattr(route, "path", None) or scope.get("path", ""))


def _path(scope: Scope) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    if not query:
        return str(scope["path"])
    pairs = [(k, REDACTED if _secret(k) else v) for k, v in parse_qsl(query, True)]
    return f"{scope['path']}?{urlencode(pairs)}"


def _target(scope: Scope, state: dict[str, Any], after: Any) -> str:
    if "audit_target" in state:
        return str(state["audit_target"])
    params = scope.get("path_params") or {}
    if params:
        return "/".join(str(v) for v in params.values())
    return str(after["id"]) if isinstance(after, dict) and "id" in after else ""
