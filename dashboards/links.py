"""Network links of the facility file: facstat state, round trip and loss per probe,
and iperf3 throughput against the `expected_gbps` each link's collector options name."""

from __future__ import annotations

from collectors import link
from collectors.base import MetricSpec
from collectors.common import parse_options
from collectors.link_rules import LinkOptions
from dashboards import panels as P
from dashboards.page import Page, resources_of, state_row
from dashboards.promql import rate, sel, var
from facility.config import FacilityConfig
from slas.promql import number

LINK = var("link")
BITS = 8  # the throughput metric is in bytes per second
RESOURCE, PROBE = "{{resource}}", "{{resource}} {{probe}}"


def pages(config: FacilityConfig) -> list[Page]:
    links = resources_of(config, link.LinkCollector.kind)
    if not links:
        return []
    board = P.Board()
    state_row(board, "facstat resources", links)
    _probes(board)
    expected = {r.id: parse_options(LinkOptions, r).expected_gbps for r in links}
    _throughput(board, {rid: g for rid, g in expected.items() if g is not None})
    page = Page(
        "links",
        "Network links",
        "Links to the experiment facilities, as the link collector probes them "
        "(TCP connect, ping, iperf3).",
        board,
        [P.custom_var("link", "Link", [r.id for r in links])],
        ("links",),
    )
    return [page]


def _of(spec: MetricSpec) -> str:
    return sel(spec.name, resource=LINK)


def _probes(board: P.Board) -> None:
    sent = [
        (f"sum by (resource) ({rate(_of(link.PROBES))})", "{{resource}} sent"),
        (f"sum by (resource) ({rate(_of(link.FAILED))})", "{{resource}} unanswered"),
    ]
    rtt = "tcp: median connect time; icmp: ping average."
    board.row("Probes")
    board.add_all(
        [
            P.series("Round trip", _of(link.RTT), PROBE, "s", rtt),
            P.series("Loss (share of the last probes)", _of(link.LOSS), PROBE, "percentunit"),
            P.timeseries("Probes sent and unanswered", sent, "ops"),
        ]
    )


def _throughput(board: P.Board, expected: dict[str, float]) -> None:
    """iperf3 runs only on links with `expected_gbps`: none, no row."""
    if not expected:
        return
    measured, should = f"{BITS} * {_of(link.THROUGHPUT)}", _expected(expected)
    versus = [
        (measured, "{{resource}} measured"),
        (f"({should}) and on(resource) {measured}", "{{resource}} expected"),
    ]
    share = f"{measured} / on(resource) ({should})"
    degraded = "Below throughput_degraded_ratio (0.5 by default) the link is degraded."
    age = f"time() - {_of(link.MEASURED)}"
    board.row("Throughput (iperf3)")
    board.add_all(
        [
            P.timeseries("Throughput vs expected", versus, "bps"),
            P.series("Throughput / expected", share, RESOURCE, "percentunit", degraded),
            P.series("Age of the last measured throughput", age, RESOURCE, "s"),
            P.series("Failed iperf3 runs", rate(_of(link.IPERF_ERRORS)), RESOURCE, "ops"),
        ],
        w=12,
    )


def _expected(gbps: dict[str, float]) -> str:
    """What each link should reach (bit/s), from the facility file, one series per link."""
    return " or ".join(
        f'label_replace(vector({number(g * 1e9)}), "resource", "{rid}", "", "")'
        for rid, g in sorted(gbps.items())
    )
