"""Request and response models of the operations API: maintenance windows,
beamlines and beamtimes, conflicts, SLAs and readiness."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.schemas import ID_MAX

Resolution = Literal["pending", "unresolved", "extended", "completed", "cancelled"]
WindowId = str


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MaintenanceCreate(_In):
    id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$",
        description="stable id; generated when absent",
    )
    title: str = Field(min_length=1, max_length=200, examples=["Lustre scratch upgrade"])
    description: str = Field("", max_length=4000, description="what users should know")
    resources: list[str] = Field(
        min_length=1, max_length=500, description="ids of the resources it takes down or degrades"
    )
    effect: Literal["down", "degraded"] = "down"
    kind: Literal["planned", "reservation"] = "planned"
    start: AwareDatetime = Field(description="start of the (first) occurrence")
    end: AwareDatetime = Field(description="end of the (first) occurrence")
    timezone: str = Field("UTC", max_length=64, description="IANA zone the RRULE recurs in")
    rrule: str | None = Field(
        None, max_length=500, examples=["FREQ=MONTHLY;BYDAY=1TU"], description="RFC 5545 RRULE"
    )
    exdates: list[AwareDatetime] = Field(default_factory=list, max_length=500)
    notice_given_at: AwareDatetime | None = Field(
        None, description="when users were told; now if absent"
    )


class MaintenanceUpdate(_In):
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=4000)
    resources: list[str] | None = Field(None, min_length=1, max_length=500)
    effect: Literal["down", "degraded"] | None = None
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    timezone: str | None = Field(None, max_length=64)
    rrule: str | None = Field(None, max_length=500)
    exdates: list[AwareDatetime] | None = Field(None, max_length=500)
    notice_given_at: AwareDatetime | None = None
    sequence: int | None = Field(
        None,
        ge=0,
        le=ID_MAX,
        description="the sequence you read; 409 if the window changed since",
    )


class MaintenanceExtend(_In):
    until: AwareDatetime = Field(description="new end of the current (or last) occurrence")
    sequence: int | None = Field(None, ge=0, le=ID_MAX)


class MaintenanceCancel(_In):
    sequence: int | None = Field(None, ge=0, le=ID_MAX)


class NoticeOut(BaseModel):
    required_seconds: float
    given_seconds: float | None
    short: bool
    message: str


class OccurrenceOut(BaseModel):
    start: datetime
    end: datetime
    extended: bool


class ConflictRef(BaseModel):
    id: str
    beamtime_id: str
    beamline: str
    window_id: str
    start: datetime = Field(description="start of the overlap")
    end: datetime = Field(description="end of the overlap")
    resources: list[str] = Field(description="needed resources the window affects")


class MaintenanceOut(BaseModel):
    id: str
    title: str
    description: str
    resources: list[str]
    effect: str
    kind: str
    start: datetime
    end: datetime
    timezone: str
    rrule: str | None
    exdates: list[datetime]
    notice_given_at: datetime | None
    source: str
    cancelled: bool
    extended_until: datetime | None
    sequence: int
    created_at: datetime | None
    updated_at: datetime | None
    resolution: Resolution
    notice: NoticeOut
    current_or_next: OccurrenceOut | None
    underneath: dict[str, str] = Field(
        description="while active: what the probes see under it, per resource (up/down/…)"
    )
    occurrences: list[OccurrenceOut]
    conflicts: list[ConflictOut]


class MaintenancePage(BaseModel):
    items: list[MaintenanceOut]


class ImportResult(BaseModel):
    source: str
    windows: int = 0
    beamtimes: int = 0


class ConflictOut(ConflictRef):
    effect: str
    occurrence_start: datetime
    occurrence_end: datetime


class ConflictPage(BaseModel):
    items: list[ConflictOut]


class NeedOut(BaseModel):
    resource: str
    nodes: int | None
    bandwidth_gbps: float | None
    free_space_tb: float | None
    note: str


class BeamtimeOut(BaseModel):
    id: str
    beamline: str
    facility: str
    title: str
    start: datetime
    end: datetime
    bundle: list[str] | None
    source: str
    needs: list[str]
    conflicts: list[ConflictOut]


class BeamlineOut(BaseModel):
    id: str
    name: str
    description: str
    facility: str
    facility_name: str
    bundle: list[NeedOut]
    needs: list[str]
    beamtimes: list[BeamtimeOut]


class BeamlinePage(BaseModel):
    items: list[BeamlineOut]


class CheckOut(BaseModel):
    name: str
    verdict: Literal["go", "at_risk", "no_go"]
    message: str


class LineOut(BaseModel):
    resource_id: str
    verdict: Literal["go", "at_risk", "no_go"]
    note: str
    checks: list[CheckOut]


class ReadinessOut(BaseModel):
    beamline: str | None
    checked_at: datetime
    verdict: Literal["go", "at_risk", "no_go"]
    start: datetime
    end: datetime
    lines: list[LineOut]


class NextMaintenance(BaseModel):
    window_id: str
    title: str
    start: datetime
    end: datetime


class WalltimeOut(BaseModel):
    partition: str
    fits: bool
    expected_start: datetime
    expected_end: datetime
    queue_wait_basis: str
    latest_submit: datetime | None
    next_maintenance: NextMaintenance | None
    message: str


class BucketsOut(BaseModel):
    service_s: float
    up_s: float
    degraded_s: float
    degraded_down_s: float
    down_s: float
    maintenance_s: float
    overrun_s: float
    overrun_down_s: float
    unknown_s: float


class BudgetOut(BaseModel):
    total_s: float
    used_s: float
    remaining_s: float
    used_fraction: float
    remaining_fraction: float


class BurnRateOut(BaseModel):
    window: str
    rate: float


class BurnThresholdOut(BaseModel):
    long: str
    short: str
    threshold: float
    severity: Literal["page", "ticket"]


class PeriodOut(BaseModel):
    start: datetime
    end: datetime


class SlaReportOut(BaseModel):
    sla: str
    name: str
    description: str
    service: str
    resources: list[str]
    objective_percent: float
    period: PeriodOut
    measured_until: datetime
    availability: float | None
    met: bool | None
    buckets: BucketsOut
    error_budget: BudgetOut
    burn_rates: list[BurnRateOut]
    burn_thresholds: list[BurnThresholdOut]
    time_to_exhaustion_s: float | None


class SlaPage(BaseModel):
    items: list[SlaReportOut]


Actor = Field("operator", min_length=1, max_length=128, description="who does it")


class IncidentAction(_In):
    actor: str = Actor
    note: str = Field("", max_length=4000, description="added to the timeline")


class IncidentNote(_In):
    text: str = Field(min_length=1, max_length=8000)
    public: bool = Field(False, description="shown to users and in the IRI API")
    actor: str = Actor


class RunbookStepIn(_In):
    done: bool = True
    actor: str = Actor


class ImpactOut(BaseModel):
    resource_id: str
    state: str
    summary: str
    since: str
    recovered_at: str | None


class TimelineOut(BaseModel):
    id: int
    at: datetime
    kind: str
    actor: str
    public: bool
    text: str
    data: dict[str, object]


class PageOut(BaseModel):
    key: str
    receiver: str
    ok: bool
    attempts: int
    detail: str
    at: datetime


class IncidentSummaryOut(BaseModel):
    id: int
    key: str
    kind: str
    subject: str
    title: str
    status: Literal["triggered", "acknowledged", "mitigated", "resolved", "cancelled"]
    priority: Literal["P1", "P2", "P3", "P4"]
    priority_summary: str
    impacted: list[ImpactOut]
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    runbooks: list[str]
    team: str | None = Field(None, description="internal view only")
    priority_explanation: dict[str, object] | None = Field(None, description="internal view only")


class IncidentOut(IncidentSummaryOut):
    timeline: list[TimelineOut]
    runbook_steps: dict[str, dict[str, bool]]
    pages: list[PageOut] | None = Field(None, description="internal view only")


class IncidentPage(BaseModel):
    items: list[IncidentSummaryOut]


class OnCallPerson(BaseModel):
    id: str
    name: str
    email: str | None = Field(None, description="internal view only")


class OnCallOut(BaseModel):
    """Who is on call is internal: the public view has the team and the shift only
    (`primary`, `secondary` and `escalate_to` are null)."""

    team: str
    name: str
    source: Literal["rotation", "override"]
    primary: OnCallPerson | None = Field(description="null in the public view")
    secondary: OnCallPerson | None
    escalate_to: list[OnCallPerson] | None = Field(description="null in the public view")
    shift_start: datetime
    shift_end: datetime


class OnCallPage(BaseModel):
    items: list[OnCallOut]
    at: datetime


class AppliesToOut(BaseModel):
    resource_types: list[str]
    resources: list[str]
    reason_codes: list[str]
    alerts: list[str]
    collector_kinds: list[str]


class StepOut(BaseModel):
    id: str
    number: int
    text: str


class RunbookSummaryOut(BaseModel):
    id: str
    title: str
    severity: str | None
    summary: str
    applies_to: AppliesToOut
    steps: list[StepOut]


class RunbookOut(RunbookSummaryOut):
    body_markdown: str


class RunbookPage(BaseModel):
    items: list[RunbookSummaryOut]
