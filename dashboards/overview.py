"""The facility overview: every system's resources, their state, capacity and the age
of their observations; maintenance and beamtime conflicts; collectors and engine."""

from __future__ import annotations

from collectors import metrics as collector_metrics
from dashboards import panels as P
from dashboards.page import Page
from dashboards.promql import RATE, rate, sel, state_code, var
from facility import metric_names as names
from facility.config import FacilityConfig
from facility.model import State

SYSTEM = var("system")
LIVE = sel(names.RESOURCE_STATE, system=SYSTEM)
CAPACITY = sel(names.RESOURCE_CAPACITY, system=SYSTEM)
AGE = sel(names.RESOURCE_OBSERVATION_AGE, system=SYSTEM)
MAINTENANCE = sel(names.RESOURCE_STATE, system=SYSTEM, state=State.MAINTENANCE.value)
RESOURCE = "{{resource}}"


def pages(config: FacilityConfig) -> list[Page]:
    board = P.Board()
    _now(board)
    _resources(board, len(config.resources))
    _maintenance(board)
    _collectors(board)
    page = Page(
        "overview",
        "Facility overview",
        f"{config.facility.name}: the effective state of every resource, per system. "
        "Incidents are not exported to Prometheus: see facstat's incident page.",
        board,
        [P.custom_var("system", "System", [s.id for s in config.systems])],
        ("overview",),
    )
    return [page]


def _now(board: P.Board) -> None:
    board.row("Now")
    worst = P.stat(
        "Systems (worst resource state)",
        [(state_code("system", system=SYSTEM), "{{system}}")],
        mappings=P.STATE_MAPPINGS,
    )
    by_state = P.stat("Resources by state", [(f"count by (state) ({LIVE} == 1)", "{{state}}")])
    board.add_all([worst, by_state], w=12, h=5)
    small = [
        P.stat("Lowest usable capacity", [(f"min({CAPACITY})", "capacity")], "percentunit"),
        P.stat("Oldest observation", [(f"max({AGE})", "age")], "s"),
        P.stat("In maintenance", [(f"count({MAINTENANCE} == 1) or vector(0)", "resources")]),
        P.stat(
            "Beamtime conflicts",
            [(f"max({names.BEAMTIME_CONFLICTS})", "conflicts")],
            description="Maintenance occurrences overlapping scheduled beamtimes (facility-wide).",
        ),
    ]
    board.add_all(small, w=6, h=5)


def _resources(board: P.Board, count: int) -> None:
    board.row("Resources")
    states = P.timeline(
        "Effective state",
        [(state_code(system=SYSTEM), RESOURCE)],
        "Thresholds, hysteresis, staleness, maintenance and dependencies applied.",
    )
    board.add(states, w=24, h=2 + count)
    capacity = P.timeseries("Usable capacity", [(CAPACITY, RESOURCE)], "percentunit", ratio=True)
    age = P.series("Observation age", AGE, RESOURCE, "s", "Past stale_after, the state is unknown.")
    since = sel(names.RESOURCE_STATE_SINCE, system=SYSTEM)
    transitions = f"sum by (state) (increase({names.STATUS_TRANSITIONS}[{RATE}]))"
    board.add_all(
        [
            capacity,
            age,
            P.series("Time in the current state", f"time() - {since}", RESOURCE, "s"),
            P.series("State transitions (all systems)", transitions, "to {{state}}"),
        ],
        w=12,
        h=9,
    )


def _maintenance(board: P.Board) -> None:
    windows = f"count(count by (window) ({names.MAINTENANCE_ACTIVE})) or vector(0)"
    upcoming = f"({names.MAINTENANCE_NEXT_START} - time()) and on(resource) {LIVE}"
    board.row("Maintenance")
    board.add(P.stat("Maintenance windows active (facility-wide)", [(windows, "windows")]), w=6)
    board.add(
        P.series("Next maintenance starts in", upcoming, RESOURCE, "s", "The next 90 days."),
        w=18,
    )


def _collectors(board: P.Board) -> None:
    m, who = collector_metrics, "{{collector}}"
    since = f"time() - {m.LAST_SUCCESS.name}"
    failed = f"sum by (collector) ({rate(m.ERRORS.name)})"
    ingested = f"sum({rate(names.OBSERVATIONS_INGESTED)})"
    buckets = f"sum by (le, kind) ({rate(names.ENGINE_CYCLE_DURATION + '_bucket')})"
    board.row("Collectors and engine")
    board.add_all(
        [
            P.series("Time since the last successful collection", since, who, "s"),
            P.series("Collection duration", m.DURATION.name, who, "s"),
            P.series("Failed collection cycles", failed, who, "ops"),
        ]
    )
    board.add_all(
        [
            P.series("Observations ingested", ingested, "observations", "ops"),
            P.series(
                "Engine cycle, 95th percentile",
                f"histogram_quantile(0.95, {buckets})",
                "{{kind}}",
                "s",
            ),
        ],
        w=12,
    )
