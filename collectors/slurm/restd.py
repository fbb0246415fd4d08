"""The slurmrestd backend: one GET per kind of data, over slurmrestd's unix socket or
over HTTP with a JWT (`X-SLURM-USER-NAME` / `X-SLURM-USER-TOKEN`).

render (`path`) → run (`RestdBackend.answer`: one request on a client of its own) → parse
(`restd_parse`, pure). A socket that is missing or refuses is `CommandFailed` (as a
Slurm command that cannot be started), a request with no answer in time is
`ControllerUnreachable` (`AccountingUnreachable` for QoS), as a command that hangs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from pydantic import SecretStr

from collectors.slurm import restd_parse
from collectors.slurm.errors import (
    AccountingUnreachable,
    CommandFailed,
    ControllerUnreachable,
    SlurmError,
)
from collectors.slurm.model import Diag, Job, Node, Partition, Qos, Reservation
from collectors.slurm.render import Kind
from collectors.slurm.restd_parse import Answer

DEFAULT_VERSION = "v0.0.38"
PATHS: dict[str, str] = {
    "diag": "/slurm/{v}/diag",
    "nodes": "/slurm/{v}/nodes",
    "partitions": "/slurm/{v}/partitions",
    "jobs": "/slurm/{v}/jobs",
    "reservations": "/slurm/{v}/reservations",
    "qos": "/slurmdb/{v}/qos",
    "ping": "/slurm/{v}/ping",
}
SOCKET_BASE = "http://slurmrestd"  # the host name is not used on a unix socket


def path(kind: Kind | str, version: str = DEFAULT_VERSION) -> str:
    """`path("nodes")` → `/slurm/v0.0.38/nodes`."""
    return PATHS[kind].format(v=version)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class RestdBackend:
    """slurmrestd at `socket` (a unix socket path) or `url` (http[s]://host:port)."""

    socket: str | None = None
    url: str | None = None
    user: str | None = None
    token: SecretStr | None = None
    version: str = DEFAULT_VERSION
    timeout: float = 10.0
    clock: Callable[[], datetime] = _utc_now

    def diag(self) -> Diag:
        return restd_parse.parse_diag(self.answer("diag"))

    def nodes(self) -> list[Node]:
        return restd_parse.parse_nodes(self.answer("nodes"))

    def partitions(self) -> list[Partition]:
        return restd_parse.parse_partitions(self.answer("partitions"))

    def jobs(self) -> list[Job]:
        return restd_parse.parse_jobs(self.answer("jobs"))

    def reservations(self) -> list[Reservation]:
        return restd_parse.parse_reservations(self.answer("reservations"), self.clock())

    def qos(self) -> list[Qos]:
        return restd_parse.parse_qos(self.answer("qos"))

    def answers(self) -> bool:
        """Whether slurmrestd answers this version's ping (for `backend: auto`)."""
        try:
            return self.answer("ping").status == 200
        except SlurmError:
            return False

    def answer(self, kind: Kind | str) -> Answer:
        """One GET; transport failures raise the `SlurmError` a command would."""
        request = f"GET {path(kind, self.version)}"
        if self.socket and not os.path.exists(self.socket):  # (httpcore leaks that socket)
            raise CommandFailed(request, f"slurmrestd unreachable: no socket at {self.socket}")
        try:
            with _client(self) as client:
                got = client.get(path(kind, self.version))
        except httpx.TimeoutException as exc:
            gone = AccountingUnreachable if kind == "qos" else ControllerUnreachable
            raise gone(request, f"no answer within {self.timeout:g}s") from exc
        except httpx.HTTPError as exc:
            raise CommandFailed(request, f"slurmrestd unreachable: {exc}") from exc
        return Answer(request, got.status_code, got.text)


def _client(b: RestdBackend) -> httpx.Client:
    """A client for one request: nothing stays open between cycles."""
    if b.socket:
        transport = httpx.HTTPTransport(uds=b.socket)
        return httpx.Client(transport=transport, base_url=SOCKET_BASE, timeout=b.timeout)
    if not b.url:
        raise CommandFailed("slurmrestd", "neither a socket nor a URL is configured")
    return httpx.Client(base_url=b.url, timeout=b.timeout, headers=_auth(b))


def _auth(b: RestdBackend) -> dict[str, str]:
    """The JWT headers, when a user and token are configured."""
    if b.user is None or b.token is None:
        return {}
    return {"X-SLURM-USER-NAME": b.user, "X-SLURM-USER-TOKEN": b.token.get_secret_value()}
