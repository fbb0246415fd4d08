"""The demo's storage and network, behind the real Lustre, filesystem and link collectors.

Only what the collectors ask the outside world is simulated, in the format the real
thing prints, and read by the collectors' own parsers:

- Lustre: `DemoLfs` is the process the Lustre collector spawns (`LustreCollector(spawn=)`):
  `lfs df`, `lfs df -i` and `lfs check servers` as `tests/data/lustre/` shows them, for a
  filesystem of 40 OSTs and 2 MDTs; from 5:00 to 5:45 of every cycle six OSTs are
  inactive devices.
- Filesystems: `DemoFilesystem.probe` answers with the JSON lines the I/O probe child
  prints (statvfs numbers, then per-operation latencies), parsed by `filesystem_io.parse`.
- Links: `DemoLink` answers `ping -q` with its summary and `iperf3 -J` with its document,
  parsed by `link_probes`; from 3:20 to 5:00 the tokamak link loses 4 % of its probes.

Everything else (rules, reasons, counters, `facstat_<source>_*` families) is the real
collectors' code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime

from collectors import filesystem_io, link_probes
from collectors.common import parse_options
from collectors.demo_timeline import INTERVAL, OSTS_INACTIVE, PACKET_LOSS, Timeline, wobble
from collectors.filesystem import FilesystemCollector, FilesystemOptions, Outcome
from collectors.filesystem_io import ChildRun
from collectors.link import LinkCollector
from collectors.link_probes import PingSummary, TcpProbes
from collectors.link_rules import LinkOptions
from collectors.lustre import LustreCollector
from collectors.lustre_rules import LustreOptions
from facility.config import Resource

# --- Lustre ---------------------------------------------------------------------------------

OSTS, MDTS = 40, 2
OST_KIB = 17_091_031_023_616  # 1K-blocks of one OST: 40 of them make ~700 PB
MDT_KIB = 32_212_254_720
OST_INODES, MDT_INODES = 268_435_456, 4_294_967_296
INACTIVE_OSTS = (0x03, 0x07, 0x0C, 0x15, 0x1E, 0x27)
INSTANCE = "ffff9c3a4e7b5000"  # the client's OSC/MDC instance, as in `lfs check servers`


DF_COLUMNS = ("1K-blocks", "Used", "Available", "Use%")


def _df_row(name: str, total: int, used: int, avail: int, mounted: str) -> str:
    """`"%-20s %11s %11s %11s %4s %s"`, as lfs prints a row of `lfs df`."""
    pct = f"{-(-used * 100 // max(used + avail, 1))}%"
    return f"{name:<20} {total:>11} {used:>11} {avail:>11} {pct:>4} {mounted}"


def _fraction(seed: str, lo: float, hi: float) -> float:
    """A fixed number in [lo, hi) per seed: how full each target is."""
    digest = hashlib.sha256(seed.encode()).digest()
    return lo + (hi - lo) * int.from_bytes(digest[:4], "big") / 2**32


class DemoLfs:
    """`lfs` on a client that mounts one Lustre filesystem: a `LustreCollector` spawn."""

    def __init__(self, fsname: str, mount: str | None, timeline: Timeline) -> None:
        self.fsname, self.mount, self.timeline = fsname, mount or f"/lustre/{fsname}", timeline

    def __call__(self, argv: list[str], timeout: float) -> ChildRun:
        inactive = INACTIVE_OSTS if self.timeline.within(OSTS_INACTIVE) else ()
        match argv[1:3]:
            case ["df", "-i"]:
                return ChildRun(self.df(inactive, inodes=True), False, returncode=0)
            case ["df", *_]:
                return ChildRun(self.df(inactive, inodes=False), False, returncode=0)
            case ["check", "servers"]:
                return ChildRun(self.check(inactive), False, returncode=0)
        usage = "lfs: unknown command\nTry 'lfs help' for more information\n"
        return ChildRun(usage, False, returncode=1)

    def _usage(self, kind: str, index: int, inodes: bool) -> tuple[int, int]:
        """(total, used) of one target: 1K-blocks, or inodes with -i. Space fills slowly."""
        name = f"{self.fsname}-{kind}{index:04x}"
        if inodes:
            total = MDT_INODES if kind == "MDT" else OST_INODES
            return total, int(total * _fraction(name + "-i", 0.2, 0.42))
        total = MDT_KIB if kind == "MDT" else OST_KIB
        growth = 2e-6 * (self.timeline.elapsed() / 60)  # a little more every minute
        return total, int(total * (_fraction(name, 0.26, 0.76) + growth))

    def df(self, inactive: Sequence[int], inodes: bool) -> str:
        """`lfs df [-i]`: one row per target (an inactive OST as `inactive device`), then
        the summary: space of the active OSTs, or inodes of the MDTs."""
        cols = ("Inodes", "IUsed", "IFree", "IUse%") if inodes else DF_COLUMNS
        lines = [f"{'UUID':<20} {cols[0]:>11} {cols[1]:>11} {cols[2]:>11} {cols[3]:>4} Mounted on"]
        summed = []
        for kind, count in (("MDT", MDTS), ("OST", OSTS)):
            for i in range(count):
                if kind == "OST" and i in inactive:
                    lines.append(f"{f'OST{i:04x}':<20}: inactive device")
                    continue
                total, used = self._usage(kind, i, inodes)
                avail = total - used if inodes else int((total - used) * 0.95)
                uuid = f"{self.fsname}-{kind}{i:04x}_UUID"
                lines.append(_df_row(uuid, total, used, avail, f"{self.mount}[{kind}:{i}]"))
                if kind == ("MDT" if inodes else "OST"):
                    summed.append((total, used, avail))
        total, used, avail = (sum(column) for column in zip(*summed, strict=True))
        lines += ["", _df_row("filesystem_summary:", total, used, avail, self.mount), ""]
        return "\n".join(lines) + "\n"

    def check(self, inactive: Sequence[int]) -> str:
        lines = [
            f"{self.fsname}-OST{i:04x}-osc-{INSTANCE} {'inactive' if i in inactive else 'active'}."
            for i in range(OSTS)
        ]
        lines += [f"{self.fsname}-MDT{i:04x}-mdc-{INSTANCE} active." for i in range(MDTS)]
        return "\n".join(lines) + "\n"


def lustre_collector(resource: Resource, timeline: Timeline) -> LustreCollector:
    opts = parse_options(LustreOptions, resource)
    c = LustreCollector(resource.id, opts, spawn=DemoLfs(opts.fsname, opts.mount, timeline))
    c.interval = INTERVAL
    return c


# --- filesystems ----------------------------------------------------------------------------

# mount -> (size in bytes, used fraction, inodes, typical fsync seconds)
FILESYSTEMS = {
    "/ccs/home": (50 * 2**40, 0.62, 400_000_000, 0.004),
    "/ccs/proj": (5 * 2**50, 0.71, 3_000_000_000, 0.011),
}
OTHER_FILESYSTEM = (200 * 2**40, 0.55, 1_000_000_000, 0.006)
OPERATIONS = {"create": 0.25, "write": 0.02, "fsync": 1.0, "read": 0.08, "stat": 0.05}


class DemoFilesystem(FilesystemCollector):
    """A mount of the scenario, published by the real filesystem collector: only the I/O
    probe's child is simulated (its JSON lines; healthy, with NFS-like latencies)."""

    def __init__(self, resource: Resource, timeline: Timeline) -> None:
        super().__init__(resource.id, parse_options(FilesystemOptions, resource))
        self.interval, self.timeline = INTERVAL, timeline

    def probe(self) -> Outcome:
        report = filesystem_io.parse(self.child_output())
        self._count(report, False)
        return Outcome(report)

    def child_output(self) -> str:
        """What `collectors/filesystem_probe.py` prints for this mount now."""
        size, used, inodes, fsync = FILESYSTEMS.get(self.opts.path, OTHER_FILESYSTEM)
        now, frsize = self.timeline.now().timestamp(), 4096
        used += 1e-5 * self.timeline.elapsed() / 60
        blocks = size // frsize
        bfree = int(blocks * (1 - used))
        statvfs = {
            "f_frsize": frsize,
            "f_blocks": blocks,
            "f_bfree": bfree,
            "f_bavail": int(bfree - blocks * 0.02),  # 2 % reserved for root
            "f_files": inodes,
            "f_ffree": int(inodes * (1 - used * 0.55)),
        }
        lines = [{"begin": "statvfs"}, {"op": "statvfs", "seconds": 0.0003}, {"statvfs": statvfs}]
        for op, share in [*OPERATIONS.items(), ("unlink", 0.3)]:
            noise = 0.6 + 0.8 * wobble(f"{self.name}-{op}", now, INTERVAL)
            lines += [{"begin": op}, {"op": op, "seconds": round(fsync * share * noise, 6)}]
        lines.append({"done": True})
        return "".join(json.dumps(item) + "\n" for item in lines)


def filesystem_collector(resource: Resource, timeline: Timeline) -> DemoFilesystem:
    return DemoFilesystem(resource, timeline)


# --- links ----------------------------------------------------------------------------------

LOSS = 0.04
# target -> (round trip in seconds, its address)
LINKS = {
    "gw.lightsource.example.org": (0.0042, "198.51.100.23"),
    "gw.tokamak.example.org": (0.021, "203.0.113.17"),
}
LOSSY = "gw.tokamak.example.org"


class DemoLink(LinkCollector):
    """A WAN link of the scenario, published by the real link collector: only `ping` and
    `iperf3` are simulated (their output, parsed by `link_probes`)."""

    def __init__(self, resource: Resource, timeline: Timeline) -> None:
        super().__init__(resource.id, parse_options(LinkOptions, resource))
        self.interval, self.timeline = INTERVAL, timeline

    def _tcp(self, problems: list[str]) -> TcpProbes | None:
        """TCP connects (with a `port` option), lost as pings are: never the network."""
        if self.opts.port is None:
            return None
        rtt, lost = self._path()
        n = self.opts.probes
        samples = tuple(
            rtt * (1 + 0.05 * wobble(f"{self.name}-tcp{i}", rtt)) for i in range(n - lost)
        )
        return TcpProbes(samples, (f"no answer within {self.opts.connect_timeout:g} s",) * lost)

    def _path(self) -> tuple[float, int]:
        """The round trip now, and how many of this cycle's probes are lost."""
        o = self.opts
        rtt = LINKS.get(o.target, (0.012, ""))[0]
        if o.target == LOSSY and self.timeline.within(PACKET_LOSS):
            return rtt * 1.6, round(o.probes * LOSS)
        return rtt, 0

    def _ping(self, problems: list[str]) -> PingSummary | None:
        if not self.opts.ping:
            return None
        summary = link_probes.parse_ping(self.ping_output())
        if summary is None:
            problems.append("ping said nothing usable")
        return summary

    def ping_output(self) -> str:
        """What `ping -n -q -c N …` prints for this link now."""
        o, now = self.opts, self.timeline.now().timestamp()
        address = LINKS.get(o.target, (0.0, "192.0.2.10"))[1]
        rtt, lost = self._path()
        avg = rtt * (1 + 0.03 * wobble(self.name, now, INTERVAL)) * 1000
        low, high, mdev = avg * 0.96, avg * (1.12 + 0.3 * bool(lost)), avg * 0.02
        received = o.probes - lost
        loss = f"{lost * 100 / o.probes:g}%"
        millis = int(o.probes * link_probes.PING_INTERVAL * 1000 + avg)
        return (
            f"PING {o.target} ({address}) 56(84) bytes of data.\n\n"
            f"--- {o.target} ping statistics ---\n"
            f"{o.probes} packets transmitted, {received} received, {loss} packet loss, time {millis}ms\n"
            f"rtt min/avg/max/mdev = {low:.3f}/{avg:.3f}/{high:.3f}/{mdev:.3f} ms\n"
        )

    def _iperf(self, now: datetime) -> None:
        result = link_probes.parse_iperf(self.iperf_output(now))
        self.throughput, self.tried_at = result, now
        if result.bits_per_second is None:
            self.iperf_errors += 1
        else:
            self.measured_at = now

    def iperf_output(self, now: datetime) -> str:
        """What `iperf3 -c … -J` prints: one single-stream TCP test that reaches ~93 % of
        what the link should give."""
        o = self.opts
        expected = (o.expected_gbps or 10) * 1e9
        bps = expected * (0.92 + 0.02 * wobble(self.name + "-iperf", now.timestamp()))
        seconds, rtt = o.iperf_seconds, LINKS.get(o.target, (0.012, ""))[0]
        sent = {
            "start": 0,
            "end": seconds,
            "seconds": seconds,
            "bytes": int(bps * seconds / 8),
            "bits_per_second": bps * 1.002,
            "retransmits": 3,
            "sender": True,
        }
        received = {**sent, "bits_per_second": bps, "bytes": int(bps * seconds / 8 * 0.998)}
        del received["retransmits"]
        received["sender"] = True
        doc = {
            "start": {
                "connected": [
                    {
                        "socket": 5,
                        "local_host": "10.40.1.10",
                        "local_port": 53422,
                        "remote_host": LINKS.get(o.target, (0, o.target))[1],
                        "remote_port": o.iperf_port,
                    }
                ],
                "version": "iperf 3.12",
                "system_info": "Linux dtn01 5.14.0-362.8.1.el9_3.x86_64 #1 SMP x86_64",
                "timestamp": {
                    "time": f"{now:%a, %d %b %Y %H:%M:%S GMT}",
                    "timesecs": int(now.timestamp()),
                },
                "connecting_to": {"host": o.target, "port": o.iperf_port},
                "cookie": hashlib.sha1(f"{o.target}{now}".encode()).hexdigest()[:36],
                "tcp_mss_default": 8948,
                "test_start": {
                    "protocol": "TCP",
                    "num_streams": o.iperf_streams,
                    "blksize": 131072,
                    "omit": 0,
                    "duration": int(seconds),
                    "bytes": 0,
                    "blocks": 0,
                    "reverse": 0,
                    "tos": 0,
                },
            },
            "intervals": [],
            "end": {
                "streams": [
                    {
                        "sender": {
                            **sent,
                            "socket": 5,
                            "max_rtt": int(rtt * 1.3e6),
                            "min_rtt": int(rtt * 1e6),
                            "mean_rtt": int(rtt * 1.05e6),
                        },
                        "receiver": {**received, "socket": 5},
                    }
                ],
                "sum_sent": sent,
                "sum_received": received,
                "cpu_utilization_percent": {
                    "host_total": 38.2,
                    "host_user": 1.1,
                    "host_system": 37.1,
                    "remote_total": 41.5,
                    "remote_user": 0.9,
                    "remote_system": 40.6,
                },
                "sender_tcp_congestion": "cubic",
                "receiver_tcp_congestion": "cubic",
            },
        }
        return json.dumps(doc, indent="\t") + "\n"


def link_collector(resource: Resource, timeline: Timeline) -> DemoLink:
    return DemoLink(resource, timeline)
