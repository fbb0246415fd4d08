"""The pure core of the link collector: its options, what one cycle measured, and the rules
that turn a measurement into up / degraded (`packet_loss`, `link_slow`, `throughput_low`) /
down (`link_down`) with the measured numbers in each message. See `collectors.link`."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from collectors.common import Finding, Verdict, worst
from collectors.link_probes import PingSummary, TcpProbes, Throughput
from facility.model import ProbeState, Reason

# Reason codes this module emits (see `collectors.reason_codes`).
REASON_CODES: dict[str, str] = {
    "link_down": "every probe was lost, or loss is at or above loss_down_ratio",
    "packet_loss": "probe loss is at or above loss_degraded_ratio",
    "link_slow": "round trip above expected_rtt_seconds times rtt_degraded_factor",
    "throughput_low": "iperf3 throughput below expected_gbps times throughput_degraded_ratio",
    "throughput_unmeasured": "iperf3 gave no figure (server busy or unreachable); informative, the state stays up",
    "no_probe": "neither TCP connects nor ping ran, so nothing is known about the link",
}


class LinkOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    target: str = Field(min_length=1, description="host at the far end of the link")
    port: int | None = Field(None, ge=1, le=65535, description="TCP port to connect to")
    probes: int = Field(5, ge=1, le=1000, description="probes per cycle (TCP and ping each)")
    connect_timeout: float = Field(1.0, gt=0, le=30, description="seconds before a probe is lost")
    ping: bool = Field(True, description="also ping (ICMP) when the ping command is present")
    expected_rtt_seconds: float | None = Field(None, gt=0, description="normal round trip")
    rtt_degraded_factor: float = Field(3.0, gt=1, description="round trip × this is link_slow")
    loss_degraded_ratio: float = Field(0.01, gt=0, le=1, description="loss that is packet_loss")
    loss_down_ratio: float = Field(0.5, gt=0, le=1, description="loss that is link_down")
    expected_gbps: float | None = Field(None, gt=0, description="what one iperf3 run should reach")
    throughput_degraded_ratio: float = Field(0.5, gt=0, le=1, description="below: throughput_low")
    throughput_interval: float = Field(900.0, ge=0, description="seconds between iperf3 runs")
    iperf_port: int = Field(5201, ge=1, le=65535, description="port of the iperf3 server")
    iperf_seconds: float = Field(5.0, gt=0, le=60, description="length of an iperf3 run")
    iperf_streams: int = Field(1, ge=1, le=128, description="parallel iperf3 streams")
    interval: float = Field(60.0, gt=0, description="seconds between cycles")

    @model_validator(mode="after")
    def _has_a_probe(self) -> Self:
        if self.port is None and not self.ping:
            raise ValueError("give a TCP port, or allow ping")
        if self.loss_degraded_ratio > self.loss_down_ratio:
            raise ValueError("loss_degraded_ratio is above loss_down_ratio")
        return self


# --- the pure core -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Measurement:
    """What one cycle measured, plus the last throughput (from this cycle or an earlier one)."""

    tcp: TcpProbes | None = None
    ping: PingSummary | None = None
    throughput: Throughput | None = None
    problems: tuple[str, ...] = ()  # probes that could not run, and why

    @property
    def sent(self) -> int:
        return (self.tcp.total if self.tcp else 0) + (self.ping.transmitted if self.ping else 0)

    @property
    def lost(self) -> int:
        return (len(self.tcp.failures) if self.tcp else 0) + (self.ping.lost if self.ping else 0)

    @property
    def rtt(self) -> float | None:
        if self.ping and self.ping.rtt_avg is not None:
            return self.ping.rtt_avg
        return statistics.median(self.tcp.samples) if self.tcp and self.tcp.samples else None


def evaluate(m: Measurement, opts: LinkOptions) -> Verdict:
    """The observation a measurement makes; pure."""
    if m.sent == 0:
        message = "; ".join(m.problems) or "no probe ran"
        return Verdict(ProbeState.UNKNOWN, None, (Reason("no_probe", message),))
    findings = _loss_findings(m, opts) + _rtt_findings(m, opts) + _throughput_findings(m, opts)
    state = worst(findings)
    capacity = 0.0 if state == ProbeState.DOWN else None
    return Verdict(state, capacity, tuple(r for _, r in findings), _values(m))


def _loss_findings(m: Measurement, opts: LinkOptions) -> list[Finding]:
    loss, counted = m.lost / m.sent, f"{m.lost} of {m.sent} probes"
    if m.lost == m.sent:
        why = f" (tcp: {m.tcp.failures[0]})" if m.tcp and m.tcp.failures else ""
        message = f"no answer from {opts.target}: {counted} lost{why}"
        return [(ProbeState.DOWN, Reason("link_down", message))]
    if loss >= opts.loss_down_ratio:
        message = f"packet loss {loss:.1%} ({counted}; down at {opts.loss_down_ratio:.0%})"
        return [(ProbeState.DOWN, Reason("link_down", message))]
    if loss >= opts.loss_degraded_ratio:
        message = f"packet loss {loss:.1%} ({counted}; degraded at {opts.loss_degraded_ratio:.0%})"
        return [(ProbeState.DEGRADED, Reason("packet_loss", message))]
    return []


def _rtt_findings(m: Measurement, opts: LinkOptions) -> list[Finding]:
    rtt, expected = m.rtt, opts.expected_rtt_seconds
    if rtt is None or expected is None or rtt <= expected * opts.rtt_degraded_factor:
        return []
    message = (
        f"round trip {rtt * 1000:.1f} ms, expected {expected * 1000:.1f} ms "
        f"(slow above {opts.rtt_degraded_factor:g}×)"
    )
    return [(ProbeState.DEGRADED, Reason("link_slow", message))]


def _throughput_findings(m: Measurement, opts: LinkOptions) -> list[Finding]:
    t, expected = m.throughput, opts.expected_gbps
    if t is None or expected is None:
        return []
    if t.bits_per_second is None:
        return [(ProbeState.UP, Reason("throughput_unmeasured", f"iperf3: {t.error}"))]
    if t.bits_per_second >= expected * 1e9 * opts.throughput_degraded_ratio:
        return []
    message = (
        f"throughput {bits(t.bits_per_second)} by iperf3, expected {bits(expected * 1e9)} "
        f"(low below {opts.throughput_degraded_ratio:.0%})"
    )
    return [(ProbeState.DEGRADED, Reason("throughput_low", message))]


def bits(bps: float) -> str:
    for unit, scale in (("Gb/s", 1e9), ("Mb/s", 1e6), ("kb/s", 1e3)):
        if bps >= scale:
            return f"{bps / scale:.3g} {unit}"
    return f"{bps:.0f} b/s"


def _values(m: Measurement) -> dict[str, float]:
    out = {"packet_loss_ratio": m.lost / m.sent, "probes": float(m.sent)}
    if m.rtt is not None:
        out["rtt_seconds"] = m.rtt
    if m.throughput and m.throughput.bits_per_second is not None:
        out["throughput_bits_per_second"] = m.throughput.bits_per_second
    return out
