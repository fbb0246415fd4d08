"""E-mail notifications over SMTP: render an EmailMessage, submit it, report the reply.

Threading: every message's `Message-ID` is derived from the notification key (the same
key always gives the same id, so a re-sent message is recognised as a duplicate), and
every message of an incident carries `References: <facstat.incident.<id>@<domain>>`;
follow-ups (escalation, repeat, resolved) also carry `In-Reply-To` that same id, so mail
clients file an incident's messages in one thread. `<domain>` is the sender's domain.
`Auto-Submitted: auto-generated` keeps vacation responders quiet.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import TYPE_CHECKING

from slas.notify_errors import NotifierConfigError
from slas.notify_http import Clock, Outcome, deliver, utc_now
from slas.notify_model import Delivery, Notification

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

KIND_WORDS = {
    "trigger": "triggered",
    "escalation": "escalated",
    "repeat": "still open",
    "resolved": "resolved",
}
_ATEXT_SAFE = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/?^_`{|}~"
)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.strip().splitlines()) or "  (none)"


def email_subject(n: Notification) -> str:
    """`[P1] facstat: <title> (triggered)`."""
    return f"[{n.priority}] facstat: {_one_line(n.title)} ({KIND_WORDS[n.kind]})"


def _atext(text: str) -> str:
    """`text` made safe for the left of a Message-ID (anything else becomes `=XX`)."""
    return "".join(ch if ch in _ATEXT_SAFE else f"={ord(ch):02X}" for ch in text)


def message_id(key: str, domain: str) -> str:
    return f"<facstat.{_atext(key)}@{domain}>"


def thread_id(incident_id: str, domain: str) -> str:
    """The id every message of one incident refers to (never itself a key's Message-ID)."""
    return f"<facstat.incident.{_atext(incident_id)}@{domain}>"


def email_text(n: Notification) -> str:
    """The plain-text body: what happened, why this priority, where, and what to do."""
    level = f", escalation level {n.level}" if n.level else ""
    names = ", ".join(p.name for p in n.recipients) or "(nobody named)"
    return "\n".join(
        [
            _one_line(n.title),
            "",
            f"{KIND_WORDS[n.kind].capitalize()}: {n.priority}, incident {n.incident_id} is {n.status}{level}.",
            "",
            "Summary:",
            _indent(n.summary),
            "",
            f"Why {n.priority}:",
            _indent(n.explanation),
            "",
            f"Resources: {', '.join(n.resources) or '(none)'}",
            f"Incident:  {n.url}",
            f"Runbook:   {n.runbook_url or '(none)'}",
            f"Paged:     {names}",
            "",
            "-- ",
            f"facstat notification {n.key}",
            "",
        ]
    )


def render_email(n: Notification, sender: str, to: Sequence[str], domain: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = email_subject(n)
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = format_datetime(n.at)
    msg["Message-ID"] = message_id(n.key, domain)
    msg["References"] = thread_id(n.incident_id, domain)
    if n.kind != "trigger":
        msg["In-Reply-To"] = thread_id(n.incident_id, domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Facstat-Incident"] = n.incident_id
    msg["X-Facstat-Event"] = n.kind
    msg["X-Facstat-Priority"] = n.priority
    msg.set_content(email_text(n))
    return msg


class _SMTP(smtplib.SMTP):
    """smtplib.SMTP that keeps the server's reply to DATA (e.g. `250 queued as 4Xy…`)."""

    data_reply: tuple[int, bytes] = (0, b"")

    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        self.data_reply = super().data(msg)
        return self.data_reply


def _reply(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {_one_line(text)}"


def smtp_error(exc: Exception) -> str:
    """A readable detail for what smtplib raised."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(f"{a}: {_reply(*r)}" for a, r in exc.recipients.items())
        return f"every recipient refused: {refused}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {_reply(exc.smtp_code, exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}"


class EmailNotifier:
    """Sends each notification as a plain-text e-mail through one SMTP server.

    `to` fixed: always those addresses; `to` empty: the e-mail addresses of the
    notification's recipients (none at all is a failed delivery, not an exception).
    `starttls` upgrades the connection before any login, verifying the server against
    `tls_context` (default: the system's CAs). One attempt per send: a relay queues.
    """

    def __init__(
        self,
        id: str,
        host: str,
        port: int,
        sender: str,
        to: tuple[str, ...] = (),
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        clock: Clock = utc_now,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        address = parseaddr(sender)[1]
        if "@" not in address:
            raise NotifierConfigError("sender", f"not an e-mail address: {sender!r}")
        if not 0 < port < 65536:
            raise NotifierConfigError("port", "must be 1-65535")
        self.id, self.host, self.port, self.sender, self.to = id, host, port, sender, to
        self.domain = address.rsplit("@", 1)[1]
        self._starttls, self._username, self._password = starttls, username, password
        self._timeout, self._clock = timeout, clock
        self._tls_context = tls_context

    def __repr__(self) -> str:
        return f"EmailNotifier(id={self.id!r}, host={self.host!r}, port={self.port})"

    def send(self, n: Notification) -> Delivery:
        return deliver(self.id, n.key, self._clock, lambda: self._mail(n))

    def recipients(self, n: Notification) -> tuple[str, ...]:
        return self.to or tuple(p.email for p in n.recipients if p.email)

    def _mail(self, n: Notification) -> Outcome:
        to = self.recipients(n)
        if not to:
            return Outcome(
                False,
                0,
                f"no recipients: no fixed `to` and none of the {len(n.recipients)} people paged has an e-mail address",
            )
        try:
            return self._submit(render_email(n, self.sender, to, self.domain), to)
        except (smtplib.SMTPException, OSError) as exc:
            return Outcome(False, 1, smtp_error(exc))

    def _submit(self, msg: EmailMessage, to: tuple[str, ...]) -> Outcome:
        with _SMTP(self.host, self.port, timeout=self._timeout) as smtp:
            if self._starttls:
                smtp.starttls(context=self._tls_context or ssl.create_default_context())
            if self._username is not None:
                smtp.login(self._username, self._password or "")
            refused = smtp.send_message(msg, to_addrs=list(to))
            detail = _reply(*smtp.data_reply)
        if refused:
            detail += "; refused: " + "; ".join(f"{a}: {_reply(*r)}" for a, r in refused.items())
        return Outcome(True, 1, detail)
