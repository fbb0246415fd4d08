"""The e-mail notifier against a real SMTP server (aiosmtpd): subject, body, threading, failures."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from slas.notify import EmailNotifier, NotifierConfigError
from slas.notify_email import message_id, render_email, thread_id
from tests.conftest import free_port
from tests.notify.conftest import ADA, GRACE, NOBODY, SmtpSink, notification, start_smtp_sink

SENDER = "facstat <noc@facility.example>"


def mailer(sink: SmtpSink, **options: Any) -> EmailNotifier:
    return EmailNotifier("ops-mail", sink.host, sink.port, SENDER, **options)


def test_a_trigger_arrives_with_subject_body_and_a_message_id_from_the_key(
    smtp_sink: SmtpSink,
) -> None:
    delivery = mailer(smtp_sink).send(notification())
    assert (delivery.ok, delivery.attempts) == (True, 1)
    assert delivery.detail == "250 OK queued as sink-1"
    [mail] = smtp_sink.messages
    assert mail.mail_from == "noc@facility.example"
    assert mail.rcpt_tos == ["ada@example.org", "grace@example.org"]
    msg = mail.message
    assert msg["Subject"] == "[P1] facstat: lustre-home down (triggered)"
    assert msg["From"] == SENDER
    assert msg["To"] == "ada@example.org, grace@example.org"
    assert msg["Message-ID"] == "<facstat.inc-12=3A0=3A0@facility.example>"
    assert msg["References"] == "<facstat.incident.inc-12@facility.example>"
    assert msg["In-Reply-To"] is None
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Date"] == "Sat, 21 Nov 2026 12:00:00 +0000"
    body = msg.get_content().replace("\r\n", "\n")
    for text in (
        "lustre-home: 0 of 4 OSTs reachable since 11:58 UTC",
        "Why P1:\n  tier-1 service, 100% capacity lost, beamtime MX-2 active",
        "Resources: lustre-home, beamline-mx2",
        "Incident:  https://facstat.example/incidents/inc-12",
        "Runbook:   https://facstat.example/runbooks/lustre-down",
        "Paged:     Ada Lovelace, Grace Hopper",
        "facstat notification inc-12:0:0",
    ):
        assert text in body


def test_follow_ups_reply_to_the_incident_thread_so_clients_group_them(smtp_sink: SmtpSink) -> None:
    m = mailer(smtp_sink)
    m.send(notification())
    m.send(notification(kind="escalation", key="inc-12:1:0", level=1))
    m.send(notification(kind="repeat", key="inc-12:1:1", level=1))
    m.send(notification(kind="resolved", key="inc-12:r", status="resolved"))
    m.send(notification(incident_id="inc-13", key="inc-13:0:0"))
    msgs = [mail.message for mail in smtp_sink.messages]
    root = "<facstat.incident.inc-12@facility.example>"
    assert [m["References"] for m in msgs[:4]] == [root] * 4
    assert [m["In-Reply-To"] for m in msgs[:4]] == [None, root, root, root]
    assert len({m["Message-ID"] for m in msgs}) == 5
    assert root not in {m["Message-ID"] for m in msgs}
    assert msgs[4]["References"] == "<facstat.incident.inc-13@facility.example>"
    assert [m["Subject"] for m in msgs[1:4]] == [
        "[P1] facstat: lustre-home down (escalated)",
        "[P1] facstat: lustre-home down (still open)",
        "[P1] facstat: lustre-home down (resolved)",
    ]
    assert "escalation level 1" in msgs[1].get_content()


def test_the_same_key_always_gives_the_same_message_id() -> None:
    assert message_id("inc-12:1:0", "x.org") == message_id("inc-12:1:0", "x.org")
    assert message_id("inc-12:1:0", "x.org") != message_id("inc-12.1.0", "x.org")
    assert message_id("a=b", "x.org") != message_id("a:b", "x.org")
    assert thread_id("inc-12", "x.org") == "<facstat.incident.inc-12@x.org>"


def test_fixed_addresses_replace_the_recipients_emails(smtp_sink: SmtpSink) -> None:
    mailer(smtp_sink, to=("noc@facility.example",)).send(notification())
    [mail] = smtp_sink.messages
    assert mail.rcpt_tos == ["noc@facility.example"]


def test_people_without_an_email_address_are_skipped(smtp_sink: SmtpSink) -> None:
    delivery = mailer(smtp_sink).send(notification(recipients=(NOBODY, GRACE)))
    assert delivery.ok
    assert smtp_sink.messages[0].rcpt_tos == ["grace@example.org"]


def test_no_recipient_at_all_is_a_failed_delivery_with_a_clear_detail(smtp_sink: SmtpSink) -> None:
    delivery = mailer(smtp_sink).send(notification(recipients=(NOBODY,)))
    assert (delivery.ok, delivery.attempts) == (False, 0)
    assert delivery.detail.startswith("no recipients:")
    assert "none of the 1 people paged has an e-mail address" in delivery.detail
    assert smtp_sink.messages == []


def test_a_refused_recipient_is_reported_while_the_others_get_the_mail(smtp_sink: SmtpSink) -> None:
    smtp_sink.refuse.add("grace@example.org")
    delivery = mailer(smtp_sink).send(notification())
    assert delivery.ok
    assert "refused: grace@example.org: 550 5.1.1 no such mailbox here" in delivery.detail
    assert smtp_sink.messages[0].rcpt_tos == ["ada@example.org"]


def test_every_recipient_refused_is_a_failed_delivery(smtp_sink: SmtpSink) -> None:
    smtp_sink.refuse.update({ADA.email or "", GRACE.email or ""})
    delivery = mailer(smtp_sink).send(notification())
    assert (delivery.ok, delivery.attempts) == (False, 1)
    assert delivery.detail.startswith("every recipient refused: ada@example.org: 550")


def test_the_notifier_logs_in_when_given_credentials(smtp_sink: SmtpSink) -> None:
    delivery = mailer(smtp_sink, username="facstat", password="pw-123").send(notification())
    assert delivery.ok
    assert smtp_sink.logins == [("facstat", "pw-123")]
    assert smtp_sink.messages[0].login == "facstat"


def test_an_unreachable_smtp_server_is_a_failed_delivery_not_an_exception() -> None:
    m = EmailNotifier("m", "127.0.0.1", free_port(), SENDER, timeout=2)
    delivery = m.send(notification())
    assert (delivery.ok, delivery.attempts) == (False, 1)
    assert delivery.detail.startswith("ConnectionRefusedError")


def test_titles_with_line_breaks_cannot_inject_headers(smtp_sink: SmtpSink) -> None:
    delivery = mailer(smtp_sink).send(notification(title="disk full\r\nBcc: evil@example.org"))
    assert delivery.ok
    msg = smtp_sink.messages[0].message
    assert msg["Bcc"] is None
    assert msg["Subject"] == "[P1] facstat: disk full Bcc: evil@example.org (triggered)"


def test_a_runbook_less_notification_says_so() -> None:
    msg = render_email(notification(runbook_url=None, resources=()), SENDER, ["a@b.c"], "b.c")
    assert "Runbook:   (none)" in msg.get_content()
    assert "Resources: (none)" in msg.get_content()


def test_a_sender_that_is_not_an_address_is_refused_when_the_notifier_is_built() -> None:
    with pytest.raises(NotifierConfigError) as err:
        EmailNotifier("m", "127.0.0.1", 25, "facstat")
    assert err.value.field == "sender"


# --- STARTTLS against a server with a certificate made for the test --------------------------


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    command += ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@pytest.fixture
def tls_sink(certificate: tuple[Path, Path]) -> Iterator[SmtpSink]:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(*certificate)
    sink, controller = start_smtp_sink(tls_context=server_context, require_starttls=True)
    yield sink
    controller.stop()


def test_starttls_upgrades_the_connection_before_logging_in(
    tls_sink: SmtpSink, certificate: tuple[Path, Path]
) -> None:
    trust = ssl.create_default_context(cafile=str(certificate[0]))
    m = mailer(tls_sink, starttls=True, username="facstat", password="pw", tls_context=trust)
    delivery = m.send(notification())
    assert delivery.ok, delivery.detail
    assert tls_sink.logins == [("facstat", "pw")]


def test_a_server_that_requires_tls_refuses_a_plain_session(tls_sink: SmtpSink) -> None:
    delivery = mailer(tls_sink).send(notification())
    assert not delivery.ok
    assert "530" in delivery.detail


def test_an_untrusted_certificate_is_a_failed_delivery(tls_sink: SmtpSink) -> None:
    delivery = mailer(tls_sink, starttls=True).send(notification())
    assert not delivery.ok
    assert "CERTIFICATE_VERIFY_FAILED" in delivery.detail
