"""Errors of the notification adapters.

    FacstatError                       (facility.errors)
    └── NotifyError                    base of everything the notifiers raise on purpose
        ├── InvalidNotification        a Notification or Person breaks a rule (`field`, `reason`)
        ├── NotifierConfigError        a notifier was built with unusable settings (`field`, `reason`)
        └── AlertmanagerPayloadError   an Alertmanager webhook body is not acceptable
                                       (`field` such as `alerts[0].startsAt`, `reason`, all `issues`)

`Notifier.send` never raises any of these: a failed delivery is a `Delivery` with
`ok=False` and the reason in `detail`. They are raised when values are built (a
notification with an unknown kind, a webhook URL that is not http(s)) and by the
pure parser of Alertmanager's webhook payload.
"""

from __future__ import annotations

from facility.errors import FacstatError, Issue


class NotifyError(FacstatError):
    """Base of every error the notification adapters raise on purpose."""


class _FieldError(NotifyError):
    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class InvalidNotification(_FieldError):
    """A notification (or one of its recipients) breaks a rule, e.g. `at` without a time zone."""


class NotifierConfigError(_FieldError):
    """A notifier's settings cannot work, e.g. a webhook URL that is not http(s)."""


class AlertmanagerPayloadError(_FieldError):
    """An Alertmanager webhook body failed validation; `field` names the first problem."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        first = issues[0]
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        super().__init__(first.path or "body", first.message + more)
