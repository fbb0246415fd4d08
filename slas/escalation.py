"""What to page next for an incident, and when, with no duplicates. Pure.

Every incident has a fixed schedule, counted from `triggered_at` with its priority's
escalation step (`ack_within`, `repeat_every`, `max_repeats`), e.g. for P1 (5m, 15m, 3)
and a chain of three people (on-call primary, secondary, escalation contact)::

    +0m   level 1, trigger        key "<incident>:1:0"
    +5m   level 2, escalation     key "<incident>:2:0"   (level 1 did not acknowledge)
    +10m  level 3, escalation     key "<incident>:3:0"   (the top of the chain)
    +25m, +40m, +55m  level 3, repeats 1..3              (then nothing more)

A level below the top repeats every `repeat_every` until the next level is due.
`next_pages` returns the pages due by `now` whose keys are not yet in `sent`; of a level
it returns only the latest due page (after an outage of the engine, one page per level,
not a burst of stale repeats), and the first page a level gets is of kind `trigger` or
`escalation` even when it falls in a repeat's slot (its key stays that slot's). Nothing is paged once the incident is acknowledged or
resolved, nor while the resource is in planned maintenance (unless the policy's
`maintenance_pages`); an overrun is not planned, so the engine passes
`under_maintenance=False` and the schedule pages. If the priority changes, the new
step applies to the same schedule: keys already sent are never sent again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from facility.config import Duration
from slas.priority import LEVELS, Level, Priority

PageKind = Literal["trigger", "escalation", "repeat"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class EscalationStep(_Model):
    ack_within: Duration = Field(
        gt=timedelta(0), description="unacknowledged this long: page the next level"
    )
    repeat_every: Duration = Field(
        gt=timedelta(0), description="re-page the current level this often"
    )
    max_repeats: int = Field(ge=0, le=100, description="re-pages per level at most")


_STEPS: dict[str, dict[str, Any]] = {
    "P1": {"ack_within": timedelta(minutes=5), "repeat_every": timedelta(minutes=15)},
    "P2": {"ack_within": timedelta(minutes=15), "repeat_every": timedelta(minutes=30)},
    "P3": {"ack_within": timedelta(hours=1), "repeat_every": timedelta(hours=2)},
    "P4": {"ack_within": timedelta(hours=4), "repeat_every": timedelta(hours=24)},
}
_REPEATS = {"P1": 3, "P2": 3, "P3": 1, "P4": 0}


def _step_defaults(value: Any) -> Any:
    """A priority left out, or given in part, takes that priority's defaults."""
    if not isinstance(value, dict):
        return value
    out = {k: v for k, v in value.items() if k not in (*LEVELS, *(p.lower() for p in LEVELS))}
    for p in LEVELS:
        given = value.get(p, value.get(p.lower()))
        out[p] = {**_default(p), **(given or {})} if isinstance(given, dict | None) else given
    return out


def _default(level: str) -> dict[str, Any]:
    return {**_STEPS[level], "max_repeats": _REPEATS[level]}


def _default_step(level: Level) -> EscalationStep:
    return EscalationStep.model_validate(_default(level))


class EscalationPolicy(_Model):
    p1: EscalationStep = Field(
        default_factory=lambda: _default_step("P1"),
        alias="P1",
        description="P1: ack within 5m, repeat every 15m, 3 times",
    )
    p2: EscalationStep = Field(
        default_factory=lambda: _default_step("P2"),
        alias="P2",
        description="P2: ack within 15m, repeat every 30m, 3 times",
    )
    p3: EscalationStep = Field(
        default_factory=lambda: _default_step("P3"),
        alias="P3",
        description="P3: ack within 1h, repeat every 2h, once",
    )
    p4: EscalationStep = Field(
        default_factory=lambda: _default_step("P4"),
        alias="P4",
        description="P4: ack within 4h, no repeats",
    )
    cooldown: Duration = Field(
        timedelta(minutes=30), description="a re-trigger this soon after resolving re-opens it"
    )
    maintenance_pages: bool = Field(False, description="page during planned maintenance too")

    @model_validator(mode="before")
    @classmethod
    def _defaults_per_level(cls, value: Any) -> Any:
        return _step_defaults(value)

    def step(self, level: Level) -> EscalationStep:
        return {"P1": self.p1, "P2": self.p2, "P3": self.p3, "P4": self.p4}[level]


@dataclass(frozen=True, slots=True, kw_only=True)
class PageState:
    """What the engine knows of an incident; `levels` is the escalation chain's length."""

    incident_id: str
    triggered_at: datetime
    levels: int
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    under_maintenance: bool = False
    sent: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.levels < 1:
            raise ValueError("levels must be at least 1 (the primary on call, or a route)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Page:
    key: str  # "{incident_id}:{level}:{repeat}", stable: the dedup key
    incident_id: str
    level: int  # 1 = on-call primary, 2 = the next in the escalation chain, …
    repeat: int  # 0 for the first page of a level
    kind: PageKind
    due: datetime


def next_pages(
    state: PageState, priority: Level | Priority, policy: EscalationPolicy, now: datetime
) -> list[Page]:
    """The pages to send now, oldest first; empty when there is nothing new."""
    if _quiet(state, policy, now):
        return []
    due = [p for p in schedule(state, priority, policy) if p.due <= now]
    latest = {p.level: p for p in due}  # the schedule is ordered by level, then time
    fresh = (_as_first(p, state) for p in latest.values() if p.key not in state.sent)
    return sorted(fresh, key=_order)


def next_due(
    state: PageState, priority: Level | Priority, policy: EscalationPolicy, now: datetime
) -> datetime | None:
    """When the next page after `now` falls due (for the engine's timer); None while quiet."""
    if _quiet(state, policy, now):
        return None
    later = [p.due for p in schedule(state, priority, policy) if p.due > now]
    return min(later, default=None)


def schedule(state: PageState, priority: Level | Priority, policy: EscalationPolicy) -> list[Page]:
    """Every page of the incident if nobody ever acknowledges it, by level then time."""
    step = policy.step(priority if isinstance(priority, str) else priority.level)
    pages: list[Page] = []
    for level in range(1, state.levels + 1):
        entered = state.triggered_at + (level - 1) * step.ack_within
        left = entered + step.ack_within if level < state.levels else None
        pages.append(_page(state, level, 0, entered, "trigger" if level == 1 else "escalation"))
        repeats = (entered + r * step.repeat_every for r in range(1, step.max_repeats + 1))
        pages += [
            _page(state, level, r, due, "repeat")
            for r, due in enumerate(repeats, start=1)
            if left is None or due < left
        ]
    return pages


def cooldown_reopens(resolved_at: datetime | None, now: datetime, policy: EscalationPolicy) -> bool:
    """Whether a re-trigger at `now` re-opens the incident resolved at `resolved_at`."""
    return resolved_at is not None and timedelta(0) <= now - resolved_at <= policy.cooldown


def _quiet(state: PageState, policy: EscalationPolicy, now: datetime) -> bool:
    ended = (t is not None and t <= now for t in (state.acknowledged_at, state.resolved_at))
    return any(ended) or (state.under_maintenance and not policy.maintenance_pages)


def _page(state: PageState, level: int, repeat: int, due: datetime, kind: PageKind) -> Page:
    key = f"{state.incident_id}:{level}:{repeat}"
    return Page(
        key=key, incident_id=state.incident_id, level=level, repeat=repeat, kind=kind, due=due
    )


def _as_first(page: Page, state: PageState) -> Page:
    """A level's first page is its trigger or escalation, even in a (missed) repeat's slot."""
    prefix = f"{state.incident_id}:{page.level}:"
    if page.repeat == 0 or any(k.startswith(prefix) for k in state.sent):
        return page
    return replace(page, kind="trigger" if page.level == 1 else "escalation")


def _order(page: Page) -> tuple[datetime, int]:
    return page.due, page.level
