"""Link collector over a real veth link between two network namespaces the test creates.

The far side (`<name>-b`, 10.231.0.2) runs `iperf3 -s` and a TCP listener; the collector runs
in `<name>-a` (10.231.0.1): a thread enters that namespace with setns(2), and the `ping` and
`iperf3` it starts inherit it. No address or packet ever leaves the two namespaces, which are
removed afterwards, also when a test fails. `scripts/netns-link` builds and impairs the link.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from collectors.base import Cycle
from collectors.link import LinkCollector, build
from collectors.link_probes import PingSummary, TcpProbes, parse_iperf, parse_ping
from collectors.link_rules import LinkOptions, Measurement, evaluate
from collectors.metrics import CycleMetrics
from facility.config import parse_facility
from facility.errors import ConfigError
from facility.model import ProbeState
from tests.conftest import T0, assert_promtool_accepts

NETNS_LINK = Path(__file__).resolve().parents[2] / "scripts" / "netns-link"
FAR, TCP_PORT, IPERF_PORT = "10.231.0.2", 7000, 5201
CLONE_NEWNET = 0x40000000
T = TypeVar("T")


@dataclass
class Link:
    name: str
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def near(self) -> str:
        return f"{self.name}-a"

    def start(self, side: str, *argv: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", f"{self.name}-{side}", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        return proc

    def impair(self, **how: float) -> None:
        flags = [f"--{k.replace('_', '-')}={v:g}" for k, v in how.items()]
        proc = subprocess.Popen(
            [sys.executable, str(NETNS_LINK), "impair", self.name, *flags], stdout=subprocess.PIPE
        )
        self.procs.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(5)
            if proc.stdout:
                proc.stdout.close()


LISTENER = (
    "import socket\n"
    f"s = socket.create_server(('{FAR}', {TCP_PORT}), backlog=64)\n"
    "print('ready', flush=True)\n"
    "while True:\n"
    "    s.accept()[0].close()\n"
)


def _listening(link: Link, port: int) -> bool:
    out = subprocess.run(
        ["ip", "netns", "exec", f"{link.name}-b", "ss", "-Hltn", f"sport = :{port}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return bool(out.stdout.strip())


@pytest.fixture
def link() -> Iterator[Link]:
    """Two namespaces joined by a veth pair; iperf3 and a TCP listener on the far side."""
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    assert shutil.which("iperf3"), "iperf3 is missing: apt-get install iperf3"
    name = f"fslink{os.getpid()}"
    subprocess.run([sys.executable, str(NETNS_LINK), "up", name], check=True)
    link = Link(name)
    try:
        link.start("b", "iperf3", "-s", "-B", FAR, "-p", str(IPERF_PORT))
        listener = link.start("b", sys.executable, "-I", "-c", LISTENER)
        assert listener.stdout is not None and listener.stdout.readline().strip() == b"ready"
        deadline = time.monotonic() + 5
        while not _listening(link, IPERF_PORT) and time.monotonic() < deadline:
            time.sleep(0.05)
        yield link
    finally:
        link.stop()
        subprocess.run([sys.executable, str(NETNS_LINK), "down", name], check=False)
    assert (
        name not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    )


def in_netns(ns: str, fn: Callable[[], T]) -> T:
    """Run `fn` in a thread that entered network namespace `ns` (threads have their own)."""
    box: dict[str, object] = {}

    def enter_and_run() -> None:
        try:
            fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns failed")
            finally:
                os.close(fd)
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=enter_and_run)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def link_collector(**options: object) -> LinkCollector:
    defaults: dict[str, object] = {
        "target": FAR,
        "port": TCP_PORT,
        "expected_rtt_seconds": 0.002,
        "connect_timeout": 0.5,
        "iperf_port": IPERF_PORT,
        "iperf_seconds": 1,
    }
    return LinkCollector("link-lightsource", LinkOptions.model_validate(defaults | options))


def exposition(c: LinkCollector, cycle: Cycle) -> str:
    metrics = CycleMetrics()
    metrics.record(c.name, c.kind, 0.5, True, T0.timestamp(), cycle.metrics)
    registry = CollectorRegistry()
    registry.register(metrics)
    return generate_latest(registry).decode()


def test_a_clean_link_is_up_with_its_round_trip_and_throughput(link: Link) -> None:
    c = link_collector(expected_gbps=1, throughput_interval=3600)
    cycle = in_netns(link.near, lambda: c.collect(T0))
    [obs] = cycle.observations
    assert (obs.state, obs.reasons) == (ProbeState.UP, ())
    assert obs.values["packet_loss_ratio"] == 0.0 and obs.values["probes"] == 10
    assert obs.values["rtt_seconds"] < 0.006
    assert obs.values["throughput_bits_per_second"] > 1e9, obs.values
    text = exposition(c, cycle)
    assert 'facstat_link_probes_total{probe="tcp",resource="link-lightsource"} 5.0' in text
    assert 'facstat_link_probes_failed_total{probe="icmp",resource="link-lightsource"} 0.0' in text
    assert 'facstat_link_throughput_timestamp_seconds{resource="link-lightsource"}' in text
    assert c.measured_at == T0
    assert_promtool_accepts(text)


def test_iperf3_runs_on_its_slower_schedule_and_its_result_is_reused_in_between(
    link: Link,
) -> None:
    c = link_collector(expected_gbps=1, throughput_interval=3600, probes=1)
    in_netns(link.near, lambda: c.collect(T0))
    first = c.throughput
    in_netns(link.near, lambda: c.collect(T0 + timedelta(seconds=60)))
    assert c.throughput is first and c.measured_at == T0
    in_netns(link.near, lambda: c.collect(T0 + timedelta(seconds=3600)))
    assert c.throughput is not first and c.measured_at == T0 + timedelta(seconds=3600)


def test_delay_loss_and_a_rate_limit_degrade_the_link_with_the_measured_numbers(
    link: Link,
) -> None:
    link.impair(delay_ms=50, loss_every=10, rate_mbit=10)
    c = link_collector(expected_gbps=1, probes=10, iperf_seconds=2)
    [obs] = in_netns(link.near, lambda: c.collect(T0)).observations
    assert obs.state == ProbeState.DEGRADED
    reasons = {r.code: r.message for r in obs.reasons}
    assert set(reasons) == {"packet_loss", "link_slow", "throughput_low"}
    assert reasons["packet_loss"] == "packet loss 10.0% (2 of 20 probes; degraded at 1%)"
    assert 0.05 <= obs.values["rtt_seconds"] < 0.1
    rtt_ms = f"{obs.values['rtt_seconds'] * 1000:.1f} ms"
    assert reasons["link_slow"] == f"round trip {rtt_ms}, expected 2.0 ms (slow above 3×)"
    assert obs.values["throughput_bits_per_second"] < 10e6
    assert reasons["throughput_low"].endswith("by iperf3, expected 1 Gb/s (low below 50%)")


def test_a_cut_link_is_down_with_every_probe_lost(link: Link) -> None:
    link.impair(loss_every=1)
    c = link_collector(probes=3, connect_timeout=0.3)
    started = time.monotonic()
    cycle = in_netns(link.near, lambda: c.collect(T0))
    assert time.monotonic() - started < c.timeout
    [obs] = cycle.observations
    assert obs.state == ProbeState.DOWN and obs.capacity == 0.0
    assert [(r.code, r.message) for r in obs.reasons] == [
        ("link_down", f"no answer from {FAR}: 6 of 6 probes lost (tcp: no answer within 0.3 s)")
    ]
    text = exposition(c, cycle)
    assert 'facstat_link_loss_ratio{probe="tcp",resource="link-lightsource"} 1.0' in text
    assert_promtool_accepts(text)


def test_a_closed_port_counts_as_lost_and_names_the_refusal(link: Link) -> None:
    c = link_collector(port=7999, ping=False, probes=2)
    [obs] = in_netns(link.near, lambda: c.collect(T0)).observations
    assert obs.state == ProbeState.DOWN
    assert (
        obs.reasons[0].message
        == f"no answer from {FAR}: 2 of 2 probes lost (tcp: Connection refused)"
    )


def test_an_unreachable_iperf3_server_leaves_the_state_alone_and_says_why(link: Link) -> None:
    c = link_collector(expected_gbps=1, iperf_port=5999, probes=2)
    [obs] = in_netns(link.near, lambda: c.collect(T0)).observations
    assert obs.state == ProbeState.UP
    assert obs.reasons[0].code == "throughput_unmeasured"
    assert "Connection refused" in obs.reasons[0].message


# --- parsers and rules on their own ------------------------------------------------------

PING_IMPAIRED = """PING 10.231.9.2 (10.231.9.2) 56(84) bytes of data.

--- 10.231.9.2 ping statistics ---
20 packets transmitted, 18 received, 10% packet loss, time 3816ms
rtt min/avg/max/mdev = 50.282/50.411/51.405/0.250 ms
"""
PING_CUT = """PING 10.231.0.2 (10.231.0.2) 56(84) bytes of data.

--- 10.231.0.2 ping statistics ---
3 packets transmitted, 0 received, 100% packet loss, time 405ms

"""


def test_ping_summaries_give_counts_and_the_average_round_trip() -> None:
    summary = parse_ping(PING_IMPAIRED)
    assert summary is not None and (summary.transmitted, summary.received) == (20, 18)
    assert (summary.rtt_avg, summary.rtt_max) == pytest.approx((0.050411, 0.051405))
    assert parse_ping(PING_CUT) == PingSummary(3, 0, None, None)
    assert parse_ping("ping: unknown host gw.example.org\n") is None


def test_iperf3_json_gives_the_received_rate_or_the_error() -> None:
    ok = '{"start": {}, "end": {"sum_sent": {"bits_per_second": 9.6e6, "retransmits": 3},' \
         ' "sum_received": {"bits_per_second": 9.4e6}}}\n'  # fmt: skip
    assert parse_iperf(ok).bits_per_second == 9.4e6 and parse_iperf(ok).retransmits == 3
    failed = '{"start": {}, "intervals": [], "end": {},\n "error": "unable to connect to server: Connection refused"}'
    assert parse_iperf(failed).error == "unable to connect to server: Connection refused"
    assert (
        parse_iperf("iperf3: error - bad option\n").error
        == "iperf3 said: iperf3: error - bad option"
    )


def test_icmp_that_gets_no_reply_while_tcp_answers_is_not_counted_as_loss() -> None:
    opts = LinkOptions(target="gw", port=22)
    m = Measurement(TcpProbes((0.02, 0.021), ()), None, None, ("ping: no reply while TCP answers",))
    v = evaluate(m, opts)
    assert v.state == ProbeState.UP and v.values["packet_loss_ratio"] == 0.0


FACILITY = """
facility: {id: f, name: F}
systems: [{id: n, name: N}]
resources:
  - {id: wan, name: WAN, type: network, system: n,
     collector: {kind: link, options: {target: gw.example.org, port: 22, expected_gbps: 10}}}
  - {id: bad, name: Bad, type: network, system: n,
     collector: {kind: link, options: {target: gw.example.org, ping: false}}}
"""


def test_build_makes_one_collector_per_link_and_needs_a_port_or_ping() -> None:
    config = parse_facility(FACILITY)
    [c] = build(config, [config.resources[0]])
    assert (c.name, c.kind, tuple(c.resource_ids)) == ("link-wan", "link", ("wan",))
    assert c.timeout > 5 + 5 * 1.0
    with pytest.raises(ConfigError, match="give a TCP port, or allow ping"):
        build(config, [config.resources[1]])
