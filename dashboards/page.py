"""One dashboard before it becomes JSON, and what every dashboard shares: the
resources of the facility file a dashboard covers, shown with their facstat state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dashboards import panels as P
from dashboards.promql import one_of, sel, state_code
from facility import metric_names as names
from facility.config import FacilityConfig, Resource


@dataclass
class Page:
    """A dashboard: `slug` names its file and uid (after the facility id)."""

    slug: str
    title: str
    description: str
    board: P.Board
    variables: list[Any] = field(default_factory=list)
    tags: tuple[str, ...] = ()


def resources_of(config: FacilityConfig, *kinds: str) -> list[Resource]:
    """The resources observed by a collector of one of `kinds`, in file order."""
    return [r for r in config.resources if r.collector and r.collector.kind in kinds]


def state_row(board: P.Board, title: str, resources: Sequence[Resource]) -> None:
    """A row with the effective state of `resources` over time and the age of what
    it rests on (a state past its resource's `stale_after` turns unknown)."""
    ids = one_of(r.id for r in resources)
    board.row(title)
    board.add(
        P.timeline(
            "Effective state",
            [(state_code(resource=ids), "{{resource}}")],
            "facstat's effective state: thresholds, hysteresis, staleness, maintenance "
            "and dependencies applied.",
        ),
        w=16,
        h=2 + len(resources),
    )
    board.add(
        P.timeseries(
            "Observation age",
            [(sel(names.RESOURCE_OBSERVATION_AGE, resource=ids), "{{resource}}")],
            "s",
        ),
        w=8,
        h=2 + len(resources),
    )
