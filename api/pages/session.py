"""Staff sessions of the web pages: a signed cookie after sign-in with the operator
token, and the CSRF token every form POST must carry. Nothing is stored server-side.

Cookie `facstat_session` = `<payload>.<signature>`, both base64url without padding.
The payload is JSON `{"sid": 128 random bits, "actor": the name given at sign-in,
"exp": unix seconds}`; the signature is HMAC-SHA256(key, payload). The key is derived
from the session secret (`FACSTAT_SESSION_SECRET`, or a random one per process in
development) *and* the operator token, so changing either ends every session. The
expiry inside the signed payload is checked against the runtime's clock, so a cookie
kept past its Max-Age is refused too. Cookie flags: HttpOnly, SameSite=Strict, Path=/,
Max-Age 12 h, and Secure when `FACSTAT_BASE_URL` is https.

CSRF token = HMAC-SHA256(key, "csrf:" + sid) in hex: the hidden field `csrf_token` of
every form, and the `X-CSRF-Token` header of htmx requests (`hx-headers`); compared in
constant time. Signing out clears the cookie; a copy of it stays valid until `exp`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request, Response

from api.runtime import Runtime

COOKIE = "facstat_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
TTL_SECONDS = 12 * 3600
ACTOR_MAX = 64
_PROCESS_SECRET = secrets.token_bytes(32)  # development only: production requires a set one


@dataclass(frozen=True, slots=True)
class Session:
    sid: str
    actor: str
    expires: int  # unix seconds


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(rt: Runtime) -> bytes | None:
    """The signing key; None (no session is valid) while no operator token is set."""
    token = rt.settings.operator_token
    if token is None:
        return None
    configured = rt.settings.session_secret
    secret = configured.get_secret_value().encode() if configured else _PROCESS_SECRET
    material = b"facstat-session-v1\x00" + token.get_secret_value().encode()
    return hmac.new(secret, material, hashlib.sha256).digest()


def token_ok(rt: Runtime, given: str) -> bool:
    """Whether `given` is the operator token (constant-time)."""
    expected = rt.settings.operator_token
    return expected is not None and hmac.compare_digest(
        given.encode(), expected.get_secret_value().encode()
    )


def issue(rt: Runtime, actor: str) -> tuple[Session, str]:
    """A new session for `actor` and its cookie value."""
    key = _key(rt)
    assert key is not None, "sign-in succeeded without an operator token"
    expires = int(rt.clock().timestamp()) + TTL_SECONDS
    s = Session(secrets.token_hex(16), actor, expires)
    payload = _b64(json.dumps({"sid": s.sid, "actor": s.actor, "exp": s.expires}).encode())
    return s, f"{payload}.{_sign(key, payload)}"


def _sign(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def read(rt: Runtime, request: Request) -> Session | None:
    """The request's session: signed with the current key and not expired; else None."""
    key, value = _key(rt), request.cookies.get(COOKIE, "")
    payload, _, signature = value.partition(".")
    if key is None or not hmac.compare_digest(_sign(key, payload).encode(), signature.encode()):
        return None
    try:
        data = json.loads(_unb64(payload))
        s = Session(str(data["sid"]), str(data["actor"]), int(data["exp"]))
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    return s if rt.clock().timestamp() < s.expires else None


def set_cookie(response: Response, rt: Runtime, value: str) -> None:
    secure = rt.settings.base_url.lower().startswith("https://")
    response.set_cookie(
        COOKIE,
        value,
        max_age=TTL_SECONDS,
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )


def clear_cookie(response: Response, rt: Runtime) -> None:
    secure = rt.settings.base_url.lower().startswith("https://")
    response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True, samesite="strict")


def csrf_token(rt: Runtime, s: Session) -> str:
    key = _key(rt)
    return hmac.new(key or b"", b"csrf:" + s.sid.encode(), hashlib.sha256).hexdigest()


def csrf_ok(rt: Runtime, s: Session, request: Request, form: dict[str, str]) -> bool:
    """The header or the form field carries this session's CSRF token."""
    given = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD, "")
    return hmac.compare_digest(given.encode(), csrf_token(rt, s).encode())


def safe_next(value: str | None, default: str = "/oncall") -> str:
    """`value` if it is a path on this site (no scheme, host, `//` or backslash), else default."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        return default
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else default


def clean_actor(name: str) -> str | None:
    """The name as recorded in timelines: single-spaced, printable, 1 to 64 characters."""
    text = " ".join(name.split())
    if not text or len(text) > ACTOR_MAX or not text.isprintable():
        return None
    return text
