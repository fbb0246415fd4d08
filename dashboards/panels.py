"""grafanalib panels as facstat uses them: every panel and query on one Prometheus
datasource (fixed uid), placed on Grafana's 24-column grid by a `Board`.

A query is `(expr, legend)`; a panel holds one or more, with ref ids A, B, C…
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grafanalib.core as G  # type: ignore[import-untyped]

from facility.model import SEVERITY, State

DATASOURCE_UID = "facstat-prometheus"
DATASOURCE = {"type": "prometheus", "uid": DATASOURCE_UID}
GRID_WIDTH = 24
Query = tuple[str, str]  # (PromQL expression, legend format)

STATE_COLOURS = {
    State.UP: "green",
    State.MAINTENANCE: "blue",
    State.UNKNOWN: "purple",
    State.DEGRADED: "orange",
    State.DOWN: "red",
}
STATE_MAPPINGS = [
    {
        "type": "value",
        "options": {
            str(SEVERITY[s]): {"text": s.value, "color": c, "index": SEVERITY[s]}
            for s, c in STATE_COLOURS.items()
        },
    }
]


def steps(*colours: tuple[str, float | None]) -> list[dict[str, Any]]:
    """Threshold steps: (colour, from value), the first from None (minus infinity)."""
    return [{"color": c, "value": v} for c, v in colours]


NEUTRAL = steps(("text", None))


def binary_mappings(off: str, on: str) -> list[dict[str, Any]]:
    """0 shown as `off` in red, 1 as `on` in green."""
    options = {
        "0": {"text": off, "color": "red", "index": 0},
        "1": {"text": on, "color": "green", "index": 1},
    }
    return [{"type": "value", "options": options}]


UP_MAPPINGS = binary_mappings("down", "up")


def targets(queries: Sequence[Query]) -> list[Any]:
    return [
        G.Target(
            expr=expr,
            legendFormat=legend,
            refId=chr(ord("A") + i),
            datasource=DATASOURCE,
            intervalFactor=1,
        )
        for i, (expr, legend) in enumerate(queries)
    ]


def timeseries(
    title: str,
    queries: Sequence[Query],
    unit: str = "short",
    description: str = "",
    stack: bool = False,
    ratio: bool = False,
) -> Any:
    """A time series panel; `ratio` pins the axis to 0–1, `stack` stacks the series."""
    return G.TimeSeries(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=targets(queries),
        unit=unit,
        stacking={"mode": "normal", "group": "A"} if stack else {},
        fillOpacity=30 if stack else 0,
        valueMin=0 if ratio else None,
        valueMax=1 if ratio else None,
        legendDisplayMode="table",
        legendPlacement="right",
        legendCalcs=["lastNotNull", "max"],
        tooltipMode="multi",
        thresholds=NEUTRAL,
    )


def series(title: str, expr: str, legend: str, unit: str = "short", description: str = "") -> Any:
    """A time series panel of one query."""
    return timeseries(title, [(expr, legend)], unit, description)


def stat(
    title: str,
    queries: Sequence[Query],
    unit: str = "short",
    description: str = "",
    mappings: Sequence[dict[str, Any]] = (),
    steps: Sequence[dict[str, Any]] = NEUTRAL,
    decimals: int | None = None,
) -> Any:
    """The last value of each series, named by its legend."""
    return G.Stat(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=targets(queries),
        format=unit,
        mappings=list(mappings),
        thresholds=list(steps),
        decimals=decimals,
        colorMode="background" if mappings else "value",
        graphMode="none" if mappings else "area",
        reduceCalc="lastNotNull",
        textMode="value_and_name",
    )


def timeline(
    title: str,
    queries: Sequence[Query],
    description: str = "",
    mappings: Sequence[dict[str, Any]] = STATE_MAPPINGS,
) -> Any:
    """A state timeline: one row per series, coloured by value mappings."""
    return G.StateTimeline(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=targets(queries),
        mappings=list(mappings),
        showValue="never",
        thresholds=NEUTRAL,
    )


def custom_var(name: str, label: str, values: Sequence[str]) -> Any:
    """A variable over fixed values (from the facility file); All is selected."""
    options = [{"selected": True, "text": "All", "value": "$__all"}]
    options += [{"selected": False, "text": v, "value": v} for v in values]
    return G.Template(
        name=name,
        label=label,
        query=",".join(values),
        type="custom",
        includeAll=True,
        multi=True,
        options=options,
    )


def query_var(name: str, label: str, selector: str, label_name: str) -> Any:
    """A variable over the values Prometheus has for `label_name`; All is selected."""
    return G.Template(
        name=name,
        label=label,
        query=f"label_values({selector}, {label_name})",
        dataSource=DATASOURCE,
        includeAll=True,
        multi=True,
        default="$__all",
        refresh=G.REFRESH_ON_TIME_RANGE_CHANGE,
    )


@dataclass
class Board:
    """Panels placed left to right, then on the next line, under titled rows."""

    panels: list[Any] = field(default_factory=list)
    x: int = 0
    y: int = 0
    height: int = 0

    def row(self, title: str) -> Board:
        self._newline()
        self.panels.append(G.RowPanel(title=title, gridPos=self._pos(GRID_WIDTH, 1)))
        self.y += 1
        return self

    def add_all(self, panels: Iterable[Any], w: int = 8, h: int = 8) -> Board:
        for panel in panels:
            self.add(panel, w, h)
        return self

    def add(self, panel: Any, w: int = 8, h: int = 8) -> Board:
        if self.x + w > GRID_WIDTH:
            self._newline()
        panel.gridPos = self._pos(w, h)
        self.panels.append(panel)
        self.x, self.height = self.x + w, max(self.height, h)
        return self

    def _pos(self, w: int, h: int) -> Any:
        return G.GridPos(h=h, w=w, x=self.x, y=self.y)

    def _newline(self) -> None:
        self.x, self.y, self.height = 0, self.y + self.height, 0
