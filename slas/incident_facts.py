"""What the priority policy needs to know about a resource right now, gathered from
the running facility: its status, tier, beamtimes that need it, its SLA budget and
whether it is inside its service hours. An adapter between the runtime's state and
the pure `slas.priority`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from facility.config import FacilityConfig
from facility.model import EffectiveStatus, State
from slas.calendars import service_windows
from slas.definitions import ServiceHours
from slas.operations import Operations
from slas.priority import BeamtimeNeed, Priority, PriorityInput, PriorityPolicy, prioritize

Budget = Callable[[str, datetime], tuple[float | None, timedelta | None]]
_TICK = timedelta(seconds=1)


class PriorityFacts:
    def __init__(
        self, config: FacilityConfig, ops: Operations, budget: Budget, policy: PriorityPolicy
    ) -> None:
        self.config, self.ops, self.budget, self.policy = config, ops, budget, policy
        self.by_id = config.resources_by_id()

    def priority(
        self, impacts: Mapping[str, EffectiveStatus], now: datetime, impacted: int
    ) -> Priority:
        """The highest priority among the impacted resources (the explanation is its)."""
        found = [prioritize(self.facts(s, now, impacted), self.policy) for s in impacts.values()]
        return max(found, key=lambda p: p.score)

    def facts(self, s: EffectiveStatus, now: datetime, impacted: int) -> PriorityInput:
        r = self.by_id[s.resource_id]
        tier = self.config.tier(r)
        remaining, exhaustion = self.budget(r.id, now)
        return PriorityInput(
            resource_id=r.id,
            state=s.state.value,
            tier=tier,
            time_sensitive=r.time_sensitive,
            capacity_lost=_lost(s),
            beamtime=self.beamtime(r.id, now),
            budget_remaining=remaining,
            time_to_exhaustion=exhaustion,
            in_service_hours=self.in_service_hours(tier, now),
            impacted=max(impacted - 1, 0),
        )

    def beamtime(self, rid: str, now: datetime) -> BeamtimeNeed | None:
        """The running beamtime that needs `rid`, else the next one within the horizon."""
        horizon = self.policy.beamtime.horizon
        best: BeamtimeNeed | None = None
        for b in self.ops.beamtimes():
            if b.end <= now or b.start > now + horizon or rid not in self.ops.beamtime_needs(b):
                continue
            need = BeamtimeNeed(
                beamline=b.beamline,
                title=b.title,
                active=b.start <= now,
                starts_in=None if b.start <= now else b.start - now,
            )
            if need.active:
                return need
            best = best or need
        return best

    def in_service_hours(self, tier: str | None, now: datetime) -> bool:
        if tier is None or tier == "24x7":
            return True
        hours = ServiceHours.model_validate({"calendar": tier})
        return bool(service_windows(hours, self.config.facility.timezone, now, now + _TICK))


def _lost(s: EffectiveStatus) -> float:
    if s.state == State.DOWN:
        return 1.0
    if s.capacity is None:
        return 0.0
    return min(max(1.0 - s.capacity, 0.0), 1.0)
