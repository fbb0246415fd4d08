"""Request and response models of the status API (`/api/v1`).

Responses are rendered by `api.views` straight to JSON bytes (cached per store
version); these models document them in OpenAPI and validate every input.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from facility.model import ProbeState, State

ID_MAX = 2**31 - 1  # the largest id or sequence every store holds (PostgreSQL `integer` columns)

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", examples=["nodes_drained"])]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def no_nul(value: str) -> str:
    """NUL characters are refused: PostgreSQL cannot store them in text."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class ReasonIn(_In):
    code: Code
    message: str = Field(max_length=500, examples=['29 nodes drained: "bad DIMM"'])

    @field_validator("message")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        return no_nul(value)


class ObservationIn(_In):
    resource_id: str = Field(max_length=64, examples=["scratch"])
    observed_at: AwareDatetime = Field(description="when the collector saw it (with a time zone)")
    source: str = Field(min_length=1, max_length=64, examples=["lustre"])
    state: ProbeState
    capacity: float | None = Field(None, ge=0, le=1, description="usable fraction, e.g. 371/400")
    values: dict[Annotated[str, Field(max_length=64)], float] = Field(
        default_factory=dict,
        max_length=64,
        description="measured values, e.g. {'ost_inactive': 12}",
    )
    reasons: list[ReasonIn] = Field(default_factory=list, max_length=32)

    @field_validator("resource_id", "source")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        return no_nul(value)

    @field_validator("values")
    @classmethod
    def _finite(cls, values: dict[str, float]) -> dict[str, float]:
        for name, value in values.items():
            no_nul(name)
            if not math.isfinite(value):
                raise ValueError(f"value {name!r} is not a finite number")
        return values


class ObservationBatch(_In):
    observations: list[ObservationIn] = Field(min_length=1, max_length=10_000)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "observations": [
                        {
                            "resource_id": "scratch",
                            "observed_at": "2026-11-21T10:00:00Z",
                            "source": "lustre",
                            "state": "degraded",
                            "capacity": 0.7,
                            "values": {"ost_inactive": 12, "ost_total": 40},
                            "reasons": [
                                {"code": "osts_inactive", "message": "12 of 40 OSTs inactive"}
                            ],
                        }
                    ]
                }
            ]
        },
    )


class IngestAccepted(BaseModel):
    accepted: int = Field(description="observations stored")
    transitions: int = Field(description="status changes they caused")
    version: int = Field(description="store version after the write")
    duplicate: bool = Field(
        False, description="its Idempotency-Key was accepted before: nothing stored again"
    )


class ReasonOut(BaseModel):
    code: str
    message: str


class RootCauseOut(BaseModel):
    resource_id: str
    state: State
    message: str


class UnderlyingOut(BaseModel):
    state: State = Field(description="what the probes see under the maintenance")
    window_id: str
    description: str


class ResourceOut(BaseModel):
    id: str
    name: str
    type: str
    system: str
    group: str | None
    description: str
    tier: str | None
    time_sensitive: bool
    depends_on: list[str]
    state: State
    capacity: float | None
    reasons: list[ReasonOut]
    root_cause: RootCauseOut | None
    underlying: UnderlyingOut | None
    observed_at: datetime | None
    stale_after: timedelta
    source: str | None
    since: datetime | None
    at: datetime | None = Field(None, description="set when the state is read from history (?at=)")


class ResourcePage(BaseModel):
    items: list[ResourceOut]
    next_cursor: str | None = Field(
        description="pass as ?cursor= for the next page; null at the end"
    )


class SystemSummary(BaseModel):
    id: str
    name: str
    kind: str
    state: State
    counts: dict[str, int]


class StatusOut(BaseModel):
    state: State
    counts: dict[str, int]
    systems: list[SystemSummary]
    version: int


class IntervalOut(BaseModel):
    start: datetime
    end: datetime | None
    state: State
    capacity: float | None
    reasons: list[ReasonOut]
    root_cause: RootCauseOut | None


class HistoryOut(BaseModel):
    resource_id: str
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    intervals: list[IntervalOut]


class EventOut(BaseModel):
    cursor: int
    id: str
    resource_id: str
    occurred_at: datetime
    kind: Literal["status_changed"]
    from_state: State | None
    to_state: State
    description: str
    details: dict[str, object]


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: int = Field(description="pass as ?after= to continue the feed")


class FieldError(BaseModel):
    field: str = Field(examples=["observations[3].capacity"])
    message: str = Field(examples=["Input should be less than or equal to 1"])


class ProblemOut(BaseModel):
    """RFC 9457 problem details, as every error of this API is answered."""

    type: str = Field("about:blank", examples=["about:blank"])
    title: str = Field(examples=["Unprocessable Content"])
    status: int = Field(ge=400, le=599, examples=[422])
    detail: str = Field(
        examples=[
            "batch rejected, nothing stored: observations[0].resource_id: unknown resource 'scrach'"
        ]
    )
    instance: str = Field(examples=["/api/v1/observations"])
    errors: list[FieldError] | None = Field(None, description="each bad field and why")
