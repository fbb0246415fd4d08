"""API tokens: issued by admins, shown once, stored hashed, always expiring, revocable.

A token reads `fst_<id>_<secret>`: `id` is 12 hex digits (the row's key, safe to log),
`secret` 256 random bits from `secrets.token_urlsafe`. Only `sha256(secret)` is
stored, so a copy of the database gives no usable token; a presented secret is
hashed and compared in constant time. Every token expires (at most
`FACSTAT_TOKEN_MAX_LIFETIME` after creation); revoking keeps the row, marked, so
lists and audits still name it. `last_used_at` is written at most once a minute.

`check_request` validates a request to issue a token (the API and the CLI share
it); `TokenStore` keeps the rows; `verify` turns a presented token into its row or
raises `TokenRejected` saying why.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.engine import Engine

from api.auth import OBSERVATIONS_WRITE, SCOPES
from facility.config import FacilityConfig
from facility.errors import Issue, NotFoundError
from facility.tables import ApiTokenRecord

PREFIX = "fst_"
USE_RESOLUTION = timedelta(minutes=1)  # last_used_at is written at most this often
_T = ApiTokenRecord.__table__  # type: ignore[attr-defined]
_SHORT = re.compile(r"^(\d{1,9})([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_ISO = TypeAdapter(timedelta)
LIFETIME_HELP = 'an ISO 8601 duration ("P30D", "PT12H") or a number and unit ("30d", "12h", "2w")'


class TokenRejected(Exception):
    """A presented token that is not (or no longer) valid; `reason` is safe to show."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A stored token, without its secret."""

    id: str
    name: str
    scopes: tuple[str, ...]
    resources: tuple[str, ...]  # resource or system ids; empty: any resource
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if now >= self.expires_at else "active"


@dataclass(frozen=True, slots=True)
class Issued:
    info: TokenInfo
    token: str  # the whole bearer token: shown once, never stored


# -- validation ------------------------------------------------------------------


def parse_lifetime(text: str) -> timedelta | None:
    """`"30d"`, `"12h"`, `"P30D"`, `"PT12H"` as a timedelta; None if it is neither form."""
    value = text.strip()
    short = _SHORT.match(value.lower())
    try:
        if short:
            return timedelta(seconds=int(short[1]) * _UNIT_SECONDS[short[2]])
        return _ISO.validate_python(value.upper()) if value.upper().startswith("P") else None
    except (ValidationError, OverflowError):
        return None


def lifetime_issues(text: str, maximum: timedelta) -> tuple[timedelta | None, list[Issue]]:
    lifetime = parse_lifetime(text)
    if lifetime is None:
        return None, [Issue("expires_in", f"{text!r} is not {LIFETIME_HELP}")]
    if lifetime <= timedelta(0):
        return None, [Issue("expires_in", "must be a positive duration")]
    if lifetime > maximum:
        limit = _days(maximum)
        return None, [Issue("expires_in", f"longer than the maximum token lifetime ({limit})")]
    return lifetime, []


def _days(value: timedelta) -> str:
    if value % timedelta(days=1) == timedelta(0):
        return f"{value.days} days"
    return f"{int(value.total_seconds())} s"


def scope_issues(scopes: Sequence[str]) -> list[Issue]:
    if not scopes:
        return [Issue("scopes", "give at least one scope: " + ", ".join(SCOPES))]
    return [
        Issue(f"scopes[{i}]", f"unknown scope {s!r}; known: {', '.join(SCOPES)}")
        for i, s in enumerate(scopes)
        if s not in SCOPES
    ]


def binding_issues(
    scopes: Sequence[str], resources: Sequence[str], config: FacilityConfig | None
) -> list[Issue]:
    """A binding names resources or systems of the facility, for observations:write."""
    if not resources:
        return []
    if OBSERVATIONS_WRITE not in scopes:
        return [Issue("resources", f"a resource binding applies to {OBSERVATIONS_WRITE} only")]
    if config is None:
        return [Issue("resources", "no facility to check the binding against")]
    known = set(config.resources_by_id()) | {s.id for s in config.systems}
    return [
        Issue(f"resources[{i}]", f"unknown resource or system {r!r}")
        for i, r in enumerate(resources)
        if r not in known
    ]


def name_issues(name: str) -> list[Issue]:
    if not name.strip() or len(name) > 128 or not name.isprintable():
        return [Issue("name", "must be 1 to 128 printable characters")]
    return []


def check_request(
    name: str,
    scopes: Sequence[str],
    expires_in: str,
    resources: Sequence[str],
    config: FacilityConfig | None,
    maximum: timedelta,
) -> tuple[timedelta | None, list[Issue]]:
    """The lifetime asked for, and every problem of a request to issue a token."""
    lifetime, issues = lifetime_issues(expires_in, maximum)
    issues = name_issues(name) + scope_issues(scopes) + issues
    return lifetime, issues + binding_issues(scopes, resources, config)


def bound_resources(resources: Iterable[str], config: FacilityConfig) -> frozenset[str] | None:
    """The resource ids a binding covers (a system id covers its resources); None: any."""
    wanted = set(resources)
    if not wanted:
        return None
    return frozenset(r.id for r in config.resources if r.id in wanted or r.system in wanted)


# -- storage ---------------------------------------------------------------------


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split(token: str) -> tuple[str, str] | None:
    """`fst_<id>_<secret>` as (id, secret); None if it does not have that form."""
    if not token.startswith(PREFIX):
        return None
    token_id, sep, secret = token[len(PREFIX) :].partition("_")
    if not sep or not token_id or not secret or len(token_id) > 64:
        return None
    return token_id, secret


def _info(row: Any) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        name=row.name,
        scopes=tuple(row.scopes),
        resources=tuple(row.resources),
        created_at=row.created_at,
        created_by=row.created_by,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


class TokenStore:
    """The `api_token` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(
        self,
        name: str,
        scopes: Sequence[str],
        resources: Sequence[str],
        lifetime: timedelta,
        actor: str,
        now: datetime,
    ) -> Issued:
        """A new token; its whole string is in the answer and nowhere else."""
        token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        row = {"id": token_id, "name": name.strip(), "secret_hash": _hash(secret),
               "scopes": sorted(set(scopes), key=SCOPES.index), "resources": sorted(set(resources)),
               "created_at": now, "created_by": actor[:128], "expires_at": now + lifetime,
               "revoked_at": None, "last_used_at": None}  # fmt: skip
        with self.engine.begin() as conn:
            conn.execute(sa.insert(_T).values(**row))
        info = self.get(token_id)
        assert info is not None, "a token just written is missing"
        return Issued(info, f"{PREFIX}{token_id}_{secret}")

    def get(self, token_id: str) -> TokenInfo | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_T).where(_T.c.id == token_id)).first()
        return _info(row) if row is not None else None

    def all(self) -> list[TokenInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(_T).order_by(_T.c.created_at, _T.c.id)).all()
        return [_info(r) for r in rows]

    def revoke(self, token_id: str, now: datetime) -> TokenInfo:
        """Mark a token revoked (a second revocation keeps the first time)."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(_T)
                .where(_T.c.id == token_id, _T.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        info = self.get(token_id)
        if info is None:
            raise NotFoundError("token", token_id)
        return info

    def verify(self, token: str, now: datetime) -> TokenInfo:
        """The stored token behind `token`, or `TokenRejected`; notes its use."""
        parts = split(token)
        if parts is None:
            raise TokenRejected("unknown or invalid token")
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_T).where(_T.c.id == parts[0])).first()
        expected = row.secret_hash if row is not None else _hash(secrets.token_urlsafe(32))
        if not hmac.compare_digest(_hash(parts[1]), expected) or row is None:
            raise TokenRejected("unknown or invalid token")
        info = _info(row)
        if info.revoked_at is not None:
            raise TokenRejected("token revoked")
        if now >= info.expires_at:
            raise TokenRejected("token expired")
        self._note_use(info, now)
        return info

    def _note_use(self, info: TokenInfo, now: datetime) -> None:
        if info.last_used_at is not None and now - info.last_used_at < USE_RESOLUTION:
            return
        stale = sa.or_(_T.c.last_used_at.is_(None), _T.c.last_used_at <= now - USE_RESOLUTION)
        with self.engine.begin() as conn:
            conn.execute(sa.update(_T).where(_T.c.id == info.id, stale).values(last_used_at=now))
