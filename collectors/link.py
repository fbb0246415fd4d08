"""Network links: TCP connect latency and loss, ICMP ping, iperf3 throughput; one collector per link.

Options: `target` (host), `port` (TCP port to connect to; none: ICMP only), `probes` (N, 5),
`connect_timeout` (1 s: a lost SYN is retried after 1 s, so a connect slower than that counts
as lost), `ping` (also run `ping -c N`, default true; skipped when the command is missing),
`expected_rtt_seconds` with `rtt_degraded_factor` (3), `loss_degraded_ratio` (0.01),
`loss_down_ratio` (0.5), `expected_gbps` (what one iperf3 run should reach — not necessarily
the line rate) with `throughput_degraded_ratio` (0.5), `throughput_interval` (900 s: iperf3
runs on this slower schedule, its last result is reused in between), `iperf_port` (5201),
`iperf_seconds` (5), `iperf_streams` (1), `interval` (60 s).

Loss is lost probes over all probes (TCP connects plus pings); the round trip is ping's
average, or the median TCP connect time without ping. Every probe lost, or loss at
`loss_down_ratio` → `down` (`link_down`); else `degraded` for `packet_loss`, `link_slow` or
`throughput_low`, each message with the measured numbers. The observation's capacity is
None (0.0 when down): the measured throughput is in `values`, and a fraction of the expected
rate would trip the engine's `degraded_below` threshold for what one iperf3 stream reaches.

Exposition, for a resource `link-tokamak`::

    facstat_link_rtt_seconds{probe="icmp",resource="link-tokamak"} 0.0214
    facstat_link_loss_ratio{probe="tcp",resource="link-tokamak"} 0.0
    facstat_link_throughput_bytes_per_second{resource="link-tokamak"} 1.18e+09
    facstat_link_probes_failed_total{probe="icmp",resource="link-tokamak"} 3.0
"""

from __future__ import annotations

import shutil
import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from prometheus_client.core import Metric

from collectors import link_probes
from collectors.base import Collector, Cycle, MetricSpec
from collectors.common import parse_options
from collectors.link_probes import PingSummary, TcpProbes, Throughput
from collectors.link_rules import LinkOptions, Measurement, evaluate
from facility.config import FacilityConfig, Resource
from facility.model import Observation

RP = ("resource", "probe")
RTT = MetricSpec(
    "facstat_link_rtt_seconds",
    "gauge",
    "Round trip of the last probes (tcp: median connect time, icmp: ping average).",
    RP,
)
LOSS = MetricSpec(
    "facstat_link_loss_ratio", "gauge", "Share of the last probes that got no answer.", RP
)
THROUGHPUT = MetricSpec(
    "facstat_link_throughput_bytes_per_second",
    "gauge",
    "Throughput of the last iperf3 run (bytes: Prometheus base unit; ×8 for bit/s).",
    ("resource",),
)
MEASURED = MetricSpec(
    "facstat_link_throughput_timestamp_seconds",
    "gauge",
    "Unix time of the last iperf3 run that measured a throughput.",
    ("resource",),
)
PROBES = MetricSpec("facstat_link_probes_total", "counter", "Probes sent.", RP)
FAILED = MetricSpec("facstat_link_probes_failed_total", "counter", "Probes that got no answer.", RP)
IPERF_ERRORS = MetricSpec(
    "facstat_link_throughput_errors_total", "counter", "iperf3 runs that failed.", ("resource",)
)


# --- the collector -----------------------------------------------------------------------


class LinkCollector:
    kind = "link"

    def __init__(self, resource_id: str, opts: LinkOptions) -> None:
        self.name = f"link-{resource_id}"
        self.resource_ids: Sequence[str] = (resource_id,)
        self.interval = opts.interval
        self.opts = opts
        ping_seconds = opts.probes * link_probes.PING_INTERVAL + opts.connect_timeout + 2
        iperf = opts.iperf_seconds + 10 if opts.expected_gbps else 0
        self.timeout = opts.probes * opts.connect_timeout + ping_seconds + iperf + 5
        self.sent: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.iperf_errors = 0
        self.throughput: Throughput | None = None
        self.measured_at: datetime | None = None
        self.tried_at: datetime | None = None

    def collect(self, now: datetime) -> Cycle:
        m = self.measure(now)
        v = evaluate(m, self.opts)
        obs = Observation(
            self.resource_ids[0], now, self.name, v.state, v.capacity, v.values, v.reasons
        )
        return Cycle([obs], self.families(m))

    def measure(self, now: datetime) -> Measurement:
        problems: list[str] = []
        tcp = self._tcp(problems)
        ping = self._ping(problems)
        if ping is not None and ping.received == 0 and tcp is not None and tcp.samples:
            problems.append("ping: no reply while TCP answers; ICMP looks filtered, not counted")
            ping = None
        self._count(tcp, ping)
        if self._throughput_due(now):
            self._iperf(now)
        return Measurement(tcp, ping, self.throughput, tuple(problems))

    def _tcp(self, problems: list[str]) -> TcpProbes | None:
        if self.opts.port is None:
            return None
        try:
            address = link_probes.resolve(self.opts.target, self.opts.port)
        except OSError as exc:
            problems.append(f"cannot resolve {self.opts.target}: {exc}")
            return None
        return link_probes.tcp_probes(address, self.opts.probes, self.opts.connect_timeout)

    def _ping(self, problems: list[str]) -> PingSummary | None:
        if not self.opts.ping or shutil.which("ping") is None:
            return None
        o = self.opts
        argv = link_probes.render_ping(o.target, o.probes, o.connect_timeout)
        ran = link_probes.run(argv, o.probes * link_probes.PING_INTERVAL + o.connect_timeout + 5)
        summary = link_probes.parse_ping(ran.output)
        if summary is None:
            problems.append(ran.problem or f"ping said: {ran.output.strip()[:200] or 'nothing'}")
        return summary

    def _count(self, tcp: TcpProbes | None, ping: PingSummary | None) -> None:
        if tcp is not None:
            self.sent["tcp"] += tcp.total
            self.failed["tcp"] += len(tcp.failures)
        if ping is not None:
            self.sent["icmp"] += ping.transmitted
            self.failed["icmp"] += ping.lost

    def _throughput_due(self, now: datetime) -> bool:
        if self.opts.expected_gbps is None:
            return False
        last = self.tried_at
        return last is None or (now - last).total_seconds() >= self.opts.throughput_interval

    def _iperf(self, now: datetime) -> None:
        o = self.opts
        argv = link_probes.render_iperf(o.target, o.iperf_port, o.iperf_seconds, o.iperf_streams)
        ran = link_probes.run(argv, o.iperf_seconds + 10)
        result = (
            link_probes.parse_iperf(ran.output)
            if ran.problem is None
            else Throughput(None, error=ran.problem)
        )
        self.throughput, self.tried_at = result, now
        if result.bits_per_second is None:
            self.iperf_errors += 1
        else:
            self.measured_at = now

    def families(self, m: Measurement) -> list[Metric]:
        rid = self.resource_ids[0]
        rtt, loss = RTT.family(), LOSS.family()
        for probe, sent, lost, seconds in _per_probe(m):
            loss.add_metric([rid, probe], lost / sent if sent else 0.0)
            if seconds is not None:
                rtt.add_metric([rid, probe], seconds)
        return [rtt, loss, *self._throughput_families(rid), *self._counter_families(rid)]

    def _throughput_families(self, rid: str) -> list[Metric]:
        value, at, errors = THROUGHPUT.family(), MEASURED.family(), IPERF_ERRORS.family()
        if self.throughput and self.throughput.bits_per_second is not None:
            value.add_metric([rid], self.throughput.bits_per_second / 8)
        if self.measured_at is not None:
            at.add_metric([rid], self.measured_at.timestamp())
        if self.opts.expected_gbps is not None:
            errors.add_metric([rid], self.iperf_errors)
        return [value, at, errors]

    def _counter_families(self, rid: str) -> list[Metric]:
        sent, failed = PROBES.family(), FAILED.family()
        for probe in sorted(self.sent):
            sent.add_metric([rid, probe], self.sent[probe])
            failed.add_metric([rid, probe], self.failed[probe])
        return [sent, failed]


def _per_probe(m: Measurement) -> list[tuple[str, int, int, Any]]:
    out: list[tuple[str, int, int, Any]] = []
    if m.tcp is not None and m.tcp.total:
        median = statistics.median(m.tcp.samples) if m.tcp.samples else None
        out.append(("tcp", m.tcp.total, len(m.tcp.failures), median))
    if m.ping is not None and m.ping.transmitted:
        out.append(("icmp", m.ping.transmitted, m.ping.lost, m.ping.rtt_avg))
    return out


def build(config: FacilityConfig, resources: list[Resource]) -> list[Collector]:
    """One collector per link resource."""
    return [LinkCollector(r.id, parse_options(LinkOptions, r)) for r in resources]
