"""Builds the incident service of a running facility from its files and settings."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from facility.config import FacilityConfig
from facility.model import EffectiveStatus
from facility.service import StatusService
from facility.settings import Settings
from facility.store import Store
from runbooks.matching import MatchInput, match
from runbooks.model import Runbook
from slas.incident_facts import PriorityFacts
from slas.incident_service import IncidentService, Matcher
from slas.incident_store import IncidentStore
from slas.operations import Operations
from slas.paging import Pager, build_notifiers
from slas.service import SlaService
from slas.sources import incident_policy_of

MAX_RUNBOOKS = 3


def build_incidents(
    settings: Settings,
    config: FacilityConfig,
    base: Path,
    store: Store,
    service: StatusService,
    ops: Operations,
    slas: SlaService,
    clock: Callable[[], datetime],
    runbooks: Sequence[Runbook],
) -> IncidentService:
    policy = incident_policy_of(config, base)

    def budget(rid: str, now: datetime) -> tuple[float | None, timedelta | None]:
        return slas.budget(rid, now, service.current().version)

    istore = IncidentStore(store.engine)
    notifiers = build_notifiers(policy, os.environ, config.facility.id)
    pager = Pager(config, policy, notifiers, istore, settings.base_url)
    facts = PriorityFacts(config, ops, budget, policy.priority)

    def statuses(now: datetime) -> dict[str, EffectiveStatus]:
        return dict(service.snapshot(now).statuses)

    return IncidentService(
        config, istore, statuses, facts, pager, policy, clock, runbook_matcher(config, runbooks)
    )


def runbook_matcher(config: FacilityConfig, books: Sequence[Runbook]) -> Matcher:
    """The ids of the best-matching runbooks (at most three) for a resource's reasons."""
    by_id = config.resources_by_id()

    def matcher(rid: str, rtype: str, codes: Sequence[str], alerts: Sequence[str]) -> list[str]:
        r = by_id.get(rid)
        what = (
            MatchInput.for_resource(r, codes, alerts)
            if r is not None
            else MatchInput(rid, rtype, tuple(codes), tuple(alerts))
        )
        return [m.runbook.id for m in match(books, what)[:MAX_RUNBOOKS]]

    return matcher
