"""The values a notifier works with, and the port the incident engine pages through.

`Notification` is what the incident engine wants said to whom; `Delivery` is what one
receiver made of it. A `Notifier` never raises from `send`: whatever goes wrong (a refused
connection, a 503, a rejected recipient) comes back as `Delivery(ok=False, detail=...)`,
the way a probe turns its failure into an unhealthy result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, get_args

from slas.notify_errors import InvalidNotification

Kind = Literal["trigger", "escalation", "repeat", "resolved"]
Priority = Literal["P1", "P2", "P3", "P4"]
KINDS: tuple[str, ...] = get_args(Kind)
PRIORITIES: tuple[str, ...] = get_args(Priority)


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who can be paged; `email` is None when they have no mailbox on file."""

    id: str
    name: str
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Notification:
    """One message about one incident, to the people of one escalation level.

    `key` identifies this message for de-duplication (e.g. "inc-12:1:0"): sending the
    same key twice must be harmless, and receivers are told it (webhook header
    `X-Facstat-Delivery`, e-mail `Message-ID`).
    """

    key: str
    incident_id: str
    kind: Kind
    priority: Priority
    title: str
    summary: str
    explanation: str
    status: str
    resources: tuple[str, ...]
    url: str
    runbook_url: str | None
    recipients: tuple[Person, ...]
    level: int
    at: datetime

    def __post_init__(self) -> None:
        _require(_is_token(self.key), "key", "must be 1-200 printable ASCII characters, no spaces")
        _require(
            _is_token(self.incident_id), "incident_id", "must be 1-200 printable ASCII characters"
        )
        _require(self.kind in KINDS, "kind", f"must be one of {', '.join(KINDS)}")
        _require(self.priority in PRIORITIES, "priority", f"must be one of {', '.join(PRIORITIES)}")
        _require(self.level >= 0, "level", "must be 0 or more")
        _require(self.at.utcoffset() is not None, "at", "must carry a time zone")


def _is_token(text: str) -> bool:
    """Safe in an HTTP header and a Message-ID: printable ASCII, no whitespace, not too long."""
    return 0 < len(text) <= 200 and all("!" <= ch <= "~" for ch in text)


def _require(condition: bool, field: str, reason: str) -> None:
    if not condition:
        raise InvalidNotification(field, reason)


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one `send`: `detail` is the HTTP status, the SMTP reply or the error."""

    receiver_id: str
    key: str
    ok: bool
    attempts: int
    detail: str
    at: datetime


class Notifier(Protocol):
    """A receiver of notifications (webhook, e-mail, Alertmanager…)."""

    @property
    def id(self) -> str: ...

    def send(self, n: Notification) -> Delivery:
        """Deliver `n`; never raises: failures are `Delivery(ok=False)` with the reason."""
        ...
