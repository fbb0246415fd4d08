"""Errors of the SLA engine.

    FacstatError                       (facility.errors)
    └── SlaError                       base of everything the SLA engine raises on purpose
        ├── SlaDefinitionError         an SLA file is invalid (also a facility ConfigError:
        │                              carries `source` and every `Issue`, each with its YAML path)
        ├── UnknownSlaError            a request names an SLA that is not defined
        └── PeriodError                a report was asked for an impossible period or instant

Errors carry their data as attributes so that `api/problems.py` can render
them as RFC 9457 problem bodies and the CLI as plain messages.
"""

from __future__ import annotations

from datetime import datetime

from facility.errors import ConfigError, FacstatError, Issue


class SlaError(FacstatError):
    """Base of every error the SLA engine raises on purpose."""


class SlaDefinitionError(SlaError, ConfigError):
    """An SLA file failed validation; `issues` name each problem by its YAML path."""

    def __init__(self, source: str, issues: list[Issue]) -> None:
        ConfigError.__init__(self, source, issues)


class UnknownSlaError(SlaError):
    def __init__(self, sla_id: str) -> None:
        self.sla_id = sla_id
        super().__init__(f"unknown SLA {sla_id!r}")


class PeriodError(SlaError):
    def __init__(self, message: str, start: datetime | None = None) -> None:
        self.start = start
        super().__init__(message)
