"""The probes of a network link: TCP connects, `ping` and `iperf3`, each render → run → parse.

Parsers are pure. `ping -q` ends with a summary::

    --- 10.231.0.2 ping statistics ---
    20 packets transmitted, 18 received, 10% packet loss, time 3816ms
    rtt min/avg/max/mdev = 50.282/50.411/51.405/0.250 ms

and `iperf3 -J` prints one JSON document whose `end.sum_received.bits_per_second` is the
throughput, or `{"error": "..."}` when the test could not run.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
from dataclasses import dataclass
from typing import Any

PING_INTERVAL = 0.2  # the smallest interval iputils allows without root
_PING_COUNTS = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")
_PING_RTT = re.compile(r"(?:rtt|round-trip) min/avg/max(?:/\w+)? = ([\d.]+)/([\d.]+)/([\d.]+)")


@dataclass(frozen=True, slots=True)
class Ran:
    output: str
    problem: str | None = None  # why there is nothing usable


def run(argv: list[str], timeout: float) -> Ran:
    """Run a command; never raises. A non-zero exit is no problem by itself (ping exits 1
    when replies are missing, iperf3 when the test failed): the parsers judge the output."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        return Ran("", f"{argv[0]}: command not found")
    except subprocess.TimeoutExpired:
        return Ran("", f"{argv[0]} did not finish within {timeout:g} s")
    except OSError as exc:
        return Ran("", f"{argv[0]}: {exc}")
    return Ran(done.stdout + done.stderr)


# --- TCP connects -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TcpProbes:
    samples: tuple[float, ...]  # seconds per successful connect
    failures: tuple[str, ...]  # why each failed one failed

    @property
    def total(self) -> int:
        return len(self.samples) + len(self.failures)


def resolve(host: str, port: int) -> tuple[Any, ...]:
    """The first address of `host`; raises OSError (socket.gaierror) when it has none."""
    family, kind, proto, _, sockaddr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    return family, kind, proto, sockaddr


def tcp_connect(address: tuple[Any, ...], timeout: float) -> float | str:
    """Seconds to complete a TCP handshake, or why it did not."""
    family, kind, proto, sockaddr = address
    with socket.socket(family, kind, proto) as s:
        s.settimeout(timeout)
        started = time.perf_counter()
        try:
            s.connect(sockaddr)
        except TimeoutError:
            return f"no answer within {timeout:g} s"
        except OSError as exc:
            return exc.strerror or str(exc)
        return time.perf_counter() - started


def tcp_probes(address: tuple[Any, ...], n: int, timeout: float) -> TcpProbes:
    results = [tcp_connect(address, timeout) for _ in range(n)]
    return TcpProbes(
        tuple(r for r in results if isinstance(r, float)),
        tuple(r for r in results if isinstance(r, str)),
    )


# --- ping ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PingSummary:
    transmitted: int
    received: int
    rtt_avg: float | None = None  # seconds
    rtt_max: float | None = None

    @property
    def lost(self) -> int:
        return self.transmitted - self.received


def render_ping(target: str, n: int, timeout: float) -> list[str]:
    """Exactly `n` echo requests (no `-w`: with it, `-c` counts replies and ping sends more)."""
    return ["ping", "-n", "-q", "-c", str(n), "-i", str(PING_INTERVAL), "-W", f"{timeout:g}",
            target]  # fmt: skip


def parse_ping(text: str) -> PingSummary | None:
    counts = _PING_COUNTS.search(text)
    if counts is None:
        return None
    rtt = _PING_RTT.search(text)
    avg, high = (float(rtt[2]) / 1000, float(rtt[3]) / 1000) if rtt else (None, None)
    return PingSummary(int(counts[1]), int(counts[2]), avg, high)


# --- iperf3 -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Throughput:
    bits_per_second: float | None
    retransmits: int | None = None
    error: str | None = None


def render_iperf(target: str, port: int, seconds: float, streams: int) -> list[str]:
    return ["iperf3", "-c", target, "-p", str(port), "-t", f"{seconds:g}", "-P", str(streams),
            "-J", "--connect-timeout", "3000"]  # fmt: skip


def parse_iperf(text: str) -> Throughput:
    try:  # stderr may follow the document
        doc = json.JSONDecoder().raw_decode(text, text.index("{"))[0]
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        first = text.strip().splitlines()[0] if text.strip() else "no output"
        return Throughput(None, error=f"iperf3 said: {first}")
    if doc.get("error"):
        return Throughput(None, error=str(doc["error"]))
    end = doc.get("end", {})
    received = end.get("sum_received", {}).get("bits_per_second")
    retransmits = end.get("sum_sent", {}).get("retransmits")
    if received is None:
        return Throughput(None, error="iperf3 reported no received throughput")
    return Throughput(float(received), retransmits)
