"""Errors of the facstat core.

    FacstatError
    ├── ConfigError            a facility file or setting is invalid (carries every issue found)
    ├── UnknownResourceError   a request names a resource the facility does not have
    ├── ObservationRejected    a batch of observations failed validation (nothing was stored)
    ├── NotFoundError          a request names something (a window, a beamline…) that does not exist
    ├── ConflictError          a write lost a race or contradicts the stored state (nothing changed)
    └── StoreUnavailable       the database cannot be reached right now (retry later)

Errors carry their data as attributes so that `api/problems.py` can render
them as RFC 9457 problem bodies and the CLI as plain messages.
"""

from __future__ import annotations

from dataclasses import dataclass


class FacstatError(Exception):
    """Base of every error the core raises on purpose."""


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem, located by a dotted/indexed path such as `resources[3].depends_on`."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(FacstatError):
    def __init__(self, source: str, issues: list[Issue]) -> None:
        self.source = source
        self.issues = issues
        lines = "\n".join(f"  {issue}" for issue in issues)
        super().__init__(f"{source}: {len(issues)} problem(s)\n{lines}")


class UnknownResourceError(FacstatError):
    def __init__(self, resource_id: str) -> None:
        self.resource_id = resource_id
        super().__init__(f"unknown resource {resource_id!r}")


class ObservationRejected(FacstatError):
    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("; ".join(str(i) for i in issues))


class StoreUnavailable(FacstatError):
    def __init__(self, message: str, retry_after: int = 5) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class DuplicateBatch(FacstatError):
    """A batch with this idempotency key was stored already: acknowledge, store nothing."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"batch {key!r} was stored already")


class VersionConflict(FacstatError):
    """Another process wrote the status store since this one read it: reload, recompute."""


class NotFoundError(FacstatError):
    """`kind` `key` does not exist (e.g. maintenance window 'w-17')."""

    def __init__(self, kind: str, key: str) -> None:
        self.kind, self.key = kind, key
        super().__init__(f"unknown {kind} {key!r}")


class ConflictError(FacstatError):
    """A write contradicts the stored state (stale revision, wrong lifecycle step)."""

    def __init__(self, message: str, field: str = "") -> None:
        self.field = field
        super().__init__(message)
