"""Notifications: the values, the `Notifier` port and its adapters, in one import.

    from slas.notify import Notification, Person, WebhookNotifier, EmailNotifier, ...

    notify_model        Person, Notification, Delivery, the Notifier protocol
    notify_webhook      WebhookNotifier (signed JSON POST), verify_signature for receivers
    notify_email        EmailNotifier (SMTP, threaded by incident)
    notify_alertmanager AlertmanagerNotifier (POST /api/v2/alerts)
    notify_received     parse_alertmanager_webhook: Alertmanager's webhook payload → ReceivedAlert
    notify_http         the shared POST-with-retries policy
    notify_errors       the errors (hierarchy in its docstring)

Every `send` returns a `Delivery` and never raises.
"""

from __future__ import annotations

from slas.notify_alertmanager import AlertmanagerNotifier, alertmanager_alert
from slas.notify_email import EmailNotifier, render_email
from slas.notify_errors import (
    AlertmanagerPayloadError,
    InvalidNotification,
    NotifierConfigError,
    NotifyError,
)
from slas.notify_http import RetryPolicy
from slas.notify_model import (
    KINDS,
    PRIORITIES,
    Delivery,
    Kind,
    Notification,
    Notifier,
    Person,
    Priority,
)
from slas.notify_received import ReceivedAlert, parse_alertmanager_webhook
from slas.notify_webhook import WebhookNotifier, sign, verify_signature, webhook_body

__all__ = [
    "KINDS",
    "PRIORITIES",
    "AlertmanagerNotifier",
    "AlertmanagerPayloadError",
    "Delivery",
    "EmailNotifier",
    "InvalidNotification",
    "Kind",
    "Notification",
    "Notifier",
    "NotifierConfigError",
    "NotifyError",
    "Person",
    "Priority",
    "ReceivedAlert",
    "RetryPolicy",
    "WebhookNotifier",
    "alertmanager_alert",
    "parse_alertmanager_webhook",
    "render_email",
    "sign",
    "verify_signature",
    "webhook_body",
]
