"""Optional OIDC: a JWT bearer from the centre's identity provider, mapped to scopes.

On when `FACSTAT_OIDC_JWKS_URL` is set (with `FACSTAT_OIDC_ISSUER` and
`FACSTAT_OIDC_AUDIENCE`). A JWT is accepted when:

- its header names `alg` RS256 or ES256 (never `none` or HS*: a shared-secret
  algorithm would let anyone holding the public key sign) and a `kid`;
- the key with that `kid` in the issuer's JWKS (fetched with httpx, kept for
  `oidc_cache_seconds`; an unknown `kid` refetches it, at most every
  `oidc_refetch_seconds`) is of that algorithm and verifies the signature;
- `iss` and `aud` match the settings, `sub` is present, and `exp` (required) and
  `nbf` hold at the runtime's clock with `LEEWAY` of clock skew.

Scopes come from the claim `oidc_scope_claim` (space-separated or a list); only
facstat's five scopes count, anything else (`openid`, `profile`) is ignored. A
`facstat_resources` claim binds observations to resources or systems, like a
stored token's binding.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import jwt

from facility.settings import Settings

ALGORITHMS = ("RS256", "ES256")
LEEWAY = timedelta(seconds=30)
FETCH_TIMEOUT = 5.0
RESOURCES_CLAIM = "facstat_resources"
# Times are checked against the runtime's clock (`_check_times`), the rest by PyJWT.
DECODE_OPTIONS: Any = {
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "require": ["exp", "iss", "aud", "sub"],
}


class OidcRejected(Exception):
    """A JWT that is not accepted; `reason` is safe to show."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class JwksUnavailable(Exception):
    """The identity provider's keys could not be fetched (and none are cached)."""


def looks_like_jwt(token: str) -> bool:
    """Three dot-separated parts (an unsigned `alg: none` token has an empty third)."""
    parts = token.split(".")
    return len(parts) == 3 and bool(parts[0]) and bool(parts[1])


class JwksCache:
    """The keys of one JWKS URL, by `kid`; thread-safe."""

    def __init__(
        self, url: str, ttl: float, refetch: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.url, self.ttl, self.refetch, self.monotonic = url, ttl, refetch, monotonic
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            now = self.monotonic()
            if self._due(now, kid):
                self._fetch(now)
            found = self._keys.get(kid)
        if found is None:
            raise OidcRejected("token signed by an unknown key")
        return found

    def _due(self, now: float, kid: str) -> bool:
        """Never fetched, expired, or asked for an unknown key and not refetched lately."""
        if self._fetched_at is None or now - self._fetched_at >= self.ttl:
            return True
        return kid not in self._keys and now - self._fetched_at >= self.refetch

    def _fetch(self, now: float) -> None:
        try:
            response = httpx.get(self.url, timeout=FETCH_TIMEOUT, follow_redirects=False)
            keys = jwt.PyJWKSet.from_dict(response.raise_for_status().json()).keys
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            if not self._keys:
                raise JwksUnavailable(f"cannot fetch the JWKS from {self.url}: {exc}") from exc
            return  # keep the keys we have; the next ask tries again
        self._keys = {k.key_id: k for k in keys if k.key_id}
        self._fetched_at = now


_caches: dict[tuple[str, float, float], JwksCache] = {}
_caches_lock = threading.Lock()


def cache_for(settings: Settings) -> JwksCache:
    """One cache per JWKS URL (and timing) in this process."""
    assert settings.oidc_jwks_url is not None
    key = (settings.oidc_jwks_url, settings.oidc_cache_seconds, settings.oidc_refetch_seconds)
    with _caches_lock:
        if key not in _caches:
            _caches[key] = JwksCache(*key)
        return _caches[key]


def verify(token: str, settings: Settings, now: datetime) -> dict[str, Any]:
    """The claims of an accepted JWT; `OidcRejected` naming why it is not."""
    alg, kid = _header(token)
    jwk = cache_for(settings).key(kid)
    if jwk.algorithm_name != alg:
        raise OidcRejected(f"key {kid!r} is not an {alg} key")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            jwk.key,
            algorithms=[alg],
            audience=settings.oidc_audience,
            issuer=settings.oidc_issuer,
            options=DECODE_OPTIONS,
        )
    except jwt.PyJWTError as exc:
        raise OidcRejected(_why(exc)) from exc
    _check_times(claims, now)
    return claims


def _header(token: str) -> tuple[str, str]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise OidcRejected("malformed token") from exc
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in ALGORITHMS:
        raise OidcRejected(f"algorithm {alg!r} is not accepted (only {', '.join(ALGORITHMS)})")
    if not isinstance(kid, str) or not kid:
        raise OidcRejected("token names no key id (kid)")
    return str(alg), kid


def _why(exc: jwt.PyJWTError) -> str:
    reasons: list[tuple[type[jwt.PyJWTError], str]] = [
        (jwt.InvalidAudienceError, "wrong audience"),
        (jwt.InvalidIssuerError, "wrong issuer"),
        (jwt.InvalidSignatureError, "signature does not verify"),
        (jwt.MissingRequiredClaimError, f"missing claim: {getattr(exc, 'claim', '?')}"),
    ]
    return next((text for kind, text in reasons if isinstance(exc, kind)), "invalid token")


def _check_times(claims: dict[str, Any], now: datetime) -> None:
    at, leeway = now.timestamp(), LEEWAY.total_seconds()
    exp, nbf = claims.get("exp"), claims.get("nbf", 0)
    if not _number(exp) or not _number(nbf):
        raise OidcRejected("exp and nbf must be numbers")
    if at >= float(exp) + leeway:
        raise OidcRejected("token expired")
    if at < float(nbf) - leeway:
        raise OidcRejected("token not yet valid")


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def words(value: object) -> list[str]:
    """A claim as a list of strings: a space-separated string, or a list of strings."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []
