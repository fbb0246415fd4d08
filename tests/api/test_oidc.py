"""OIDC bearer tokens: JWTs signed by keys generated here, checked against a JWKS
served by a real HTTP server on a loopback port."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from tests.api.helpers import OBSERVATIONS, observation
from tests.conftest import Clock, make_settings

ISSUER = "https://sso.example.org/realms/hpc"
AUDIENCE = "facstat"
INTERNAL = "/api/v1/subscriptions"  # needs status:read-internal


@dataclass
class Idp:
    """An identity provider's signing keys and the JWKS server that publishes them."""

    url: str
    published: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    fetches: int = 0
    up: bool = True


@dataclass(frozen=True)
class Key:
    kid: str
    private: Any
    alg: str

    def jwk(self) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.alg)
        public = json.loads(algorithm.to_jwk(self.private.public_key()))
        return public | {"kid": self.kid, "use": "sig"}


def rsa_key(kid: str) -> Key:
    return Key(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256")


def ec_key(kid: str) -> Key:
    return Key(kid, ec.generate_private_key(ec.SECP256R1()), "ES256")


def publish(idp: Idp, *keys: Key) -> None:
    idp.published = {"keys": [k.jwk() for k in keys]}


@pytest.fixture
def idp() -> Iterator[Idp]:
    state = Idp("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.fetches += 1
            body = json.dumps(state.published).encode()
            self.send_response(200 if state.up else 503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # A path of its own: the process-wide JWKS cache never mixes two tests' servers.
    state.url = f"http://127.0.0.1:{server.server_address[1]}/{uuid.uuid4().hex}/jwks.json"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def signing() -> Key:
    return rsa_key("rsa-1")


def oidc_client(tmp_path: Path, clock: Clock, idp: Idp, **settings: Any) -> Iterator[TestClient]:
    oidc = {"oidc_issuer": ISSUER, "oidc_audience": AUDIENCE, "oidc_jwks_url": idp.url}
    db = f"sqlite:///{tmp_path / 'oidc.db'}"
    rt = Runtime.build(make_settings(db, **(oidc | settings)), clock=clock)
    with TestClient(create_app(runtime=rt, start=False)) as c:
        yield c
    rt.store.close()


@pytest.fixture
def client(tmp_path: Path, clock: Clock, idp: Idp, signing: Key) -> Iterator[TestClient]:
    publish(idp, signing)
    yield from oidc_client(tmp_path, clock, idp)


def claims(clock: Clock, **extra: Any) -> dict[str, Any]:
    now = int(clock.now.timestamp())
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u123", "preferred_username": "cchen",
            "iat": now, "nbf": now, "exp": now + 300, "scope": "openid status:read-internal"}  # fmt: skip
    return base | extra


def sign(key: Key, payload: dict[str, Any], **header: Any) -> str:
    return jwt.encode(payload, key.private, algorithm=key.alg, headers={"kid": key.kid} | header)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refused(client: TestClient, token: str) -> str:
    r = client.get(INTERNAL, headers=bearer(token))
    assert r.status_code == 401, r.text
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
    detail: str = r.json()["detail"]
    return detail


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_valid_token_from_the_issuer_gets_its_scopes(
    client: TestClient, clock: Clock, signing: Key
) -> None:
    assert client.get(INTERNAL, headers=bearer(sign(signing, claims(clock)))).status_code == 200


def test_an_expired_token_is_refused(client: TestClient, clock: Clock, signing: Key) -> None:
    now = int(clock.now.timestamp())
    assert refused(client, sign(signing, claims(clock, exp=now - 60))) == "token expired"
    ok = sign(signing, claims(clock, exp=now - 10))  # within the 30 s leeway
    assert client.get(INTERNAL, headers=bearer(ok)).status_code == 200
    early = sign(signing, claims(clock, nbf=now + 120))
    assert refused(client, early) == "token not yet valid"


def test_a_token_for_another_audience_or_issuer_is_refused(
    client: TestClient, clock: Clock, signing: Key
) -> None:
    assert refused(client, sign(signing, claims(clock, aud="grafana"))) == "wrong audience"
    other = sign(signing, claims(clock, iss="https://evil.example.org"))
    assert refused(client, other) == "wrong issuer"
    payload = claims(clock)
    del payload["exp"]
    assert refused(client, sign(signing, payload)) == "missing claim: exp"


def test_a_token_signed_by_an_unknown_key_is_refused(
    client: TestClient, clock: Clock, signing: Key
) -> None:
    stranger = rsa_key("rsa-1")  # the same kid, another key
    assert refused(client, sign(stranger, claims(clock))) == "signature does not verify"
    unknown = rsa_key("rsa-9")
    assert refused(client, sign(unknown, claims(clock))) == "token signed by an unknown key"


def test_unsigned_and_shared_secret_tokens_are_refused(
    client: TestClient, clock: Clock, signing: Key
) -> None:
    body = b64(claims(clock, scope="admin"))
    for sig in ("", "c2ln"):
        unsigned = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': signing.kid})}.{body}.{sig}"
        assert "algorithm 'none' is not accepted" in refused(client, unsigned)
    # The classic confusion: an HMAC "signed" with the public key, which anyone has.
    pem = signing.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    head = b64({"alg": "HS256", "typ": "JWT", "kid": signing.kid})
    mac = hmac.new(pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    forged = f"{head}.{body}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    assert "algorithm 'HS256' is not accepted" in refused(client, forged)


def test_a_tampered_token_is_refused(client: TestClient, clock: Clock, signing: Key) -> None:
    head, _, sig = sign(signing, claims(clock)).split(".")
    raised = b64(claims(clock, scope="admin"))
    assert refused(client, f"{head}.{raised}.{sig}") == "signature does not verify"
    flipped = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    assert refused(client, f"{head}.{b64(claims(clock))}.{flipped}") == "signature does not verify"


def test_an_ec_key_of_the_jwks_is_accepted_for_es256_only(
    tmp_path: Path, clock: Clock, idp: Idp, signing: Key
) -> None:
    ec1 = ec_key("ec-1")
    publish(idp, signing, ec1)
    for client in oidc_client(tmp_path, clock, idp):
        assert client.get(INTERNAL, headers=bearer(sign(ec1, claims(clock)))).status_code == 200
        mislabelled = Key("ec-1", signing.private, "RS256")  # an RS256 token naming the EC key
        assert refused(client, sign(mislabelled, claims(clock))) == "key 'ec-1' is not an RS256 key"


def test_scopes_come_from_the_claim_and_only_known_ones_count(
    client: TestClient, clock: Clock, signing: Key
) -> None:
    plain = sign(signing, claims(clock, scope="openid profile observations:write root"))
    assert client.get(INTERNAL, headers=bearer(plain)).status_code == 403
    listed = sign(signing, claims(clock, scope=["status:read-internal"]))
    assert client.get(INTERNAL, headers=bearer(listed)).status_code == 200
    batch = {"observations": [observation("scratch", clock.now)]}
    assert client.post(OBSERVATIONS, json=batch, headers=bearer(plain)).status_code == 200


def test_a_resources_claim_binds_what_the_token_may_report(
    client: TestClient, clock: Clock, signing: Key
) -> None:
    token = sign(signing, claims(clock, scope="observations:write", facstat_resources="storage"))
    ours = {"observations": [observation("home", clock.now)]}
    assert client.post(OBSERVATIONS, json=ours, headers=bearer(token)).status_code == 200
    theirs = {"observations": [observation("broker", clock.now)]}
    assert client.post(OBSERVATIONS, json=theirs, headers=bearer(token)).status_code == 403


def test_the_scope_claim_is_a_setting(tmp_path: Path, clock: Clock, idp: Idp, signing: Key) -> None:
    publish(idp, signing)
    for client in oidc_client(tmp_path, clock, idp, oidc_scope_claim="facstat_scopes"):
        ignored = sign(signing, claims(clock))  # `scope` is not read any more
        assert client.get(INTERNAL, headers=bearer(ignored)).status_code == 403
        token = sign(signing, claims(clock, facstat_scopes=["status:read-internal"]))
        assert client.get(INTERNAL, headers=bearer(token)).status_code == 200


def test_the_jwks_is_cached_and_refetched_for_a_new_key_at_most_every_n_seconds(
    tmp_path: Path, clock: Clock, idp: Idp, signing: Key
) -> None:
    publish(idp, signing)
    rotated = rsa_key("rsa-2")
    for client in oidc_client(tmp_path, clock, idp, oidc_refetch_seconds=3600):
        for _ in range(3):
            assert client.get(INTERNAL, headers=bearer(sign(signing, claims(clock)))).is_success
        assert idp.fetches == 1
        publish(idp, signing, rotated)
        assert refused(client, sign(rotated, claims(clock))) == "token signed by an unknown key"
        assert idp.fetches == 1  # fetched moments ago: an unknown kid does not refetch yet


def test_a_rotated_key_is_found_by_refetching(
    tmp_path: Path, clock: Clock, idp: Idp, signing: Key
) -> None:
    publish(idp, signing)
    rotated = rsa_key("rsa-2")
    for client in oidc_client(tmp_path, clock, idp, oidc_refetch_seconds=0):
        assert client.get(INTERNAL, headers=bearer(sign(signing, claims(clock)))).is_success
        publish(idp, rotated)
        assert client.get(INTERNAL, headers=bearer(sign(rotated, claims(clock)))).is_success
        assert idp.fetches == 2


def test_an_unreachable_jwks_is_a_503_not_a_pass(
    tmp_path: Path, clock: Clock, idp: Idp, signing: Key
) -> None:
    idp.up = False
    for client in oidc_client(tmp_path, clock, idp):
        r = client.get(INTERNAL, headers=bearer(sign(signing, claims(clock))))
        assert r.status_code == 503 and r.headers["retry-after"] == "30"


def test_without_oidc_settings_a_jwt_is_an_unknown_token(
    tmp_path: Path, clock: Clock, signing: Key
) -> None:
    rt = Runtime.build(make_settings(f"sqlite:///{tmp_path / 'x.db'}"), clock=clock)
    with TestClient(create_app(runtime=rt, start=False)) as client:
        assert refused(client, sign(signing, claims(clock))) == "unknown or invalid token"
    rt.store.close()


def test_oidc_needs_issuer_and_audience_with_the_jwks_url() -> None:
    with pytest.raises(ValueError, match="oidc_issuer and oidc_audience"):
        make_settings("sqlite://", oidc_jwks_url="http://127.0.0.1:1/jwks.json")
