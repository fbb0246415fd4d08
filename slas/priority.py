"""How urgent an incident is: an explainable points policy. Pure.

Each factor adds points (a few may subtract), and the total maps to a level through
the policy's thresholds. Defaults (all configurable in the incident policy's
`priority` section)::

    resource down +30, degraded +15, unknown +10
    service tier 24x7 +20, 16x5 +10, 8x5 +5; no tier: at most P4 (paged only if routed)
    time-sensitive +10; capacity lost: +15 x the fraction lost
    beamtime needing the resource: active +40, starting within 24h +20
    error budget: below 25 % left +10, exhausted +20; runs out within 24h +15
    dependents affected: +1 each, at most +10
    outside service hours (16x5 and 8x5 tiers only): -30
    P1 >= 90 points, P2 >= 60, P3 >= 30, else P4

So a 24x7 filesystem down with nothing else is P2 (30+20+15 = 65); the same during an
active beamtime is P1 (105); a degraded 8x5 testbed at night is P4.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from facility.config import Duration

Level = Literal["P1", "P2", "P3", "P4"]
LEVELS: tuple[Level, ...] = ("P1", "P2", "P3", "P4")
TIERS = ("24x7", "16x5", "8x5")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class StatePoints(_Model):
    down: float = Field(30, ge=0, description="points for a resource that is down")
    degraded: float = Field(15, ge=0, description="points for a degraded resource")
    unknown: float = Field(10, ge=0, description="points for a resource whose state is unknown")


class TierPoints(_Model):
    h24x7: float = Field(20, ge=0, alias="24x7", description="points for a 24x7 resource")
    h16x5: float = Field(10, ge=0, alias="16x5", description="points for a 16x5 resource")
    h8x5: float = Field(5, ge=0, alias="8x5", description="points for an 8x5 resource")

    def of(self, tier: str) -> float:
        return {"24x7": self.h24x7, "16x5": self.h16x5, "8x5": self.h8x5}[tier]


class BeamtimePoints(_Model):
    active: float = Field(40, ge=0, description="an active beamtime needs the resource")
    imminent: float = Field(20, ge=0, description="a beamtime needing it starts within `horizon`")
    horizon: Duration = Field(timedelta(hours=24), description="how soon a beamtime is imminent")

    @model_validator(mode="after")
    def _active_outweighs_imminent(self) -> BeamtimePoints:
        if self.active < self.imminent:
            raise ValueError("an active beamtime must count at least as much as an imminent one")
        return self


class BudgetPoints(_Model):
    low_below: float = Field(0.25, ge=0, le=1, description="remaining budget fraction that is low")
    low: float = Field(10, ge=0, description="points when the remaining budget is low")
    exhausted: float = Field(20, ge=0, description="points when no budget is left")
    exhaustion_within: Duration = Field(
        timedelta(hours=24), description="a burn that exhausts the budget this soon adds points"
    )
    exhaustion: float = Field(15, ge=0, description="points for exhaustion within that time")


class ImpactPoints(_Model):
    each: float = Field(1, ge=0, description="points per dependent resource affected")
    max: float = Field(10, ge=0, description="at most this many points for dependents")


class Thresholds(_Model):
    p1: float = Field(90, alias="P1", description="a total of at least this many points is P1")
    p2: float = Field(60, alias="P2", description="at least this many points (below P1) is P2")
    p3: float = Field(30, alias="P3", description="at least this many points (below P2) is P3")

    @model_validator(mode="after")
    def _descending(self) -> Thresholds:
        if not self.p1 > self.p2 > self.p3:
            raise ValueError("thresholds must descend: P1 > P2 > P3")
        return self


class PriorityPolicy(_Model):
    thresholds: Thresholds = Field(default_factory=Thresholds, description="points per level")
    state: StatePoints = Field(default_factory=StatePoints, description="points per state")
    tier: TierPoints = Field(default_factory=TierPoints, description="points per service tier")
    time_sensitive: float = Field(10, ge=0, description="points for time-sensitive resources")
    capacity_lost: float = Field(15, ge=0, description="points times the capacity fraction lost")
    beamtime: BeamtimePoints = Field(default_factory=BeamtimePoints, description="beamtime points")
    budget: BudgetPoints = Field(default_factory=BudgetPoints, description="error budget points")
    impacted: ImpactPoints = Field(default_factory=ImpactPoints, description="dependents affected")
    outside_service_hours: float = Field(
        -30, le=0, description="points (<= 0) outside service hours, for 16x5 and 8x5 tiers"
    )
    untiered_at_most: Level = Field("P4", description="highest level of a resource with no tier")


@dataclass(frozen=True, slots=True, kw_only=True)
class BeamtimeNeed:
    """The beamtime that needs the resource: running now, or starting in `starts_in`."""

    beamline: str
    title: str
    active: bool
    starts_in: timedelta | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PriorityInput:
    resource_id: str
    state: str  # a facility.model.State value: down, degraded, unknown, up, maintenance
    tier: str | None = None
    time_sensitive: bool = False
    capacity_lost: float = 0.0
    beamtime: BeamtimeNeed | None = None
    budget_remaining: float | None = None
    time_to_exhaustion: timedelta | None = None
    in_service_hours: bool = True
    impacted: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.capacity_lost <= 1.0:
            raise ValueError(f"capacity_lost must be between 0 and 1, not {self.capacity_lost}")
        if self.tier is not None and self.tier not in TIERS:
            raise ValueError(f"unknown tier {self.tier!r}: expected one of {', '.join(TIERS)}")
        if self.impacted < 0:
            raise ValueError("impacted must not be negative")


@dataclass(frozen=True, slots=True)
class Factor:
    name: str
    value: str
    points: float
    explanation: str


@dataclass(frozen=True, slots=True)
class Priority:
    level: Level
    score: float
    factors: tuple[Factor, ...]
    summary: str


def prioritize(inp: PriorityInput, policy: PriorityPolicy) -> Priority:
    """The level of an incident on `inp.resource_id`, with every factor that made it."""
    factors = tuple(f for rule in RULES if (f := rule(inp, policy)) is not None)
    score = round(sum(f.points for f in factors), 2)
    scored = _level(score, policy)
    # "P4" > "P1" as strings: max() picks the lower priority
    level = scored if inp.tier is not None else max(scored, policy.untiered_at_most)
    return Priority(level, score, factors, _summary(inp, level, score, factors, level != scored))


def _level(score: float, policy: PriorityPolicy) -> Level:
    t = policy.thresholds
    return "P1" if score >= t.p1 else "P2" if score >= t.p2 else "P3" if score >= t.p3 else "P4"


def _summary(
    inp: PriorityInput, level: Level, score: float, factors: tuple[Factor, ...], capped: bool
) -> str:
    """One sentence: the level, the score, and the (up to three) weightiest factors."""
    top = sorted((f for f in factors if f.points), key=lambda f: -abs(f.points))[:3]
    why = "; ".join(f.explanation for f in top) or "no factor adds points"
    cap = ", capped because it has no service tier" if capped else ""
    return f"{inp.resource_id} is {inp.state}: {level} ({score:g} points{cap}) — {why}."


def _factor(name: str, value: object, points: float, reason: str) -> Factor:
    points = round(points, 2)
    return Factor(name, str(value), points, f"{reason}: {points:+g}")


def _state(inp: PriorityInput, p: PriorityPolicy) -> Factor | None:
    points = p.state.model_dump().get(str(inp.state))
    if points is None:
        return None
    return _factor("state", inp.state, points, f"{inp.resource_id} is {inp.state}")


def _tier(inp: PriorityInput, p: PriorityPolicy) -> Factor:
    if inp.tier is None:
        reason = f"no service tier: not paged unless routed, at most {p.untiered_at_most}"
        return _factor("tier", "none", 0, reason)
    return _factor("tier", inp.tier, p.tier.of(inp.tier), f"{inp.tier} service tier")


def _time_sensitive(inp: PriorityInput, p: PriorityPolicy) -> Factor | None:
    if not inp.time_sensitive:
        return None
    return _factor("time_sensitive", "yes", p.time_sensitive, "serves time-sensitive work")


def _capacity(inp: PriorityInput, p: PriorityPolicy) -> Factor | None:
    if not inp.capacity_lost:
        return None
    share = f"{inp.capacity_lost:.0%}"
    return _factor(
        "capacity_lost", share, inp.capacity_lost * p.capacity_lost, f"{share} of capacity lost"
    )


def _beamtime(inp: PriorityInput, p: PriorityPolicy) -> Factor | None:
    b = inp.beamtime
    if b is None:
        return None
    what = f"beamtime '{b.title}' on {b.beamline}"
    if b.active:
        return _factor("beamtime", what, p.beamtime.active, f"active {what} needs this resource")
    if b.starts_in is None or not timedelta(0) <= b.starts_in <= p.beamtime.horizon:
        return None
    when = f"starts in {_span(b.starts_in)}"
    return _factor("beamtime", what, p.beamtime.imminent, f"{what} {when} and needs this resource")


def _budget(inp: PriorityInput, p: PriorityPolicy) -> Factor | None:
    left = inp.budget_remaining
    if left is None or left >= p.budget.low_below:
        return None
    if left <= 0:
        return _factor("budget_remaining", "0%", p.budget.exhausted, "error budget exhausted")
    low = f"only {left:.0%} of the error budget left (below {p.budget.low_below:.0%})"
    return _factor("budget_remaining", f"{left:.0%}", p.budget.low, low)


def _exhaustion(inp: PriorityInput, p: PriorityPolicy) -> Factor | None:
    t = inp.time_to_exhaustion
    if t is None or t > p.budget.exhaustion_within:
        return None
    reason = f"at the current burn the error budget runs out in {_span(t)}"
    return _factor("time_to_exhaustion", _span(t), p.budget.exhaustion, reason)


def _impacted(inp: PriorityInput, p: PriorityPolicy) -> Factor | None:
    if not inp.impacted:
        return None
    points = min(inp.impacted * p.impacted.each, p.impacted.max)
    return _factor("impacted", inp.impacted, points, f"{inp.impacted} dependent(s) affected")


def _hours(inp: PriorityInput, p: PriorityPolicy) -> Factor | None:
    if inp.in_service_hours or inp.tier not in ("16x5", "8x5"):
        return None
    reason = f"outside {inp.tier} service hours"
    return _factor("service_hours", "outside", p.outside_service_hours, reason)


def _span(t: timedelta) -> str:
    minutes = max(0, int(t.total_seconds() // 60))
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h" if minutes < 48 * 60 else f"{minutes // 1440} days"


RULES: tuple[Callable[[PriorityInput, PriorityPolicy], Factor | None], ...] = (
    _state,
    _tier,
    _time_sensitive,
    _capacity,
    _beamtime,
    _budget,
    _exhaustion,
    _impacted,
    _hours,
)
