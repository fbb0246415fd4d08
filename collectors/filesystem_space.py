"""Space and inode rules on statvfs-like numbers (filesystems and Lustre)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from collectors.common import Finding
from facility.model import ProbeState, Reason

# Reason codes this module emits (see `collectors.reason_codes`).
REASON_CODES: dict[str, str] = {
    "space_low": "used space is at or above capacity_degraded_ratio (90 % by default)",
    "space_exhausted": "used space is at or above capacity_down_ratio (98 % by default): writes are about to fail",
    "inodes_low": "used inodes are at or above inodes_degraded_ratio (90 % by default)",
}


class SpaceLimits(Protocol):
    @property
    def capacity_degraded_ratio(self) -> float: ...
    @property
    def capacity_down_ratio(self) -> float: ...
    @property
    def inodes_degraded_ratio(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Space:
    """statvfs in bytes and inodes."""

    size: int
    free: int
    avail: int
    inodes: int
    inodes_free: int

    @classmethod
    def from_statvfs(cls, st: dict[str, int]) -> Space:
        b = st["f_frsize"]
        return cls(st["f_blocks"] * b, st["f_bfree"] * b, st["f_bavail"] * b, *_inodes(st))

    @property
    def used_ratio(self) -> float:
        used = self.size - self.free
        return used / (used + self.avail) if used + self.avail > 0 else 0.0

    @property
    def inodes_used_ratio(self) -> float | None:
        return (self.inodes - self.inodes_free) / self.inodes if self.inodes > 0 else None

    def values(self) -> dict[str, float]:
        out = {"size_bytes": self.size, "avail_bytes": self.avail, "used_ratio": self.used_ratio}
        if self.inodes_used_ratio is not None:
            out["inodes_used_ratio"] = self.inodes_used_ratio
        return {k: float(v) for k, v in out.items()}


def _inodes(st: dict[str, int]) -> tuple[int, int]:
    return st["f_files"], st["f_ffree"]


def space_findings(space: Space, limits: SpaceLimits) -> list[Finding]:
    """Too little space or too few inodes, with the numbers."""
    used, out = space.used_ratio, []
    text = f"used {used:.1%} of {human_bytes(space.size)}, {human_bytes(space.avail)} available"
    if used >= limits.capacity_down_ratio:
        reason = Reason("space_exhausted", f"{text} (down at {limits.capacity_down_ratio:.0%})")
        out.append((ProbeState.DOWN, reason))
    elif used >= limits.capacity_degraded_ratio:
        reason = Reason("space_low", f"{text} (degraded at {limits.capacity_degraded_ratio:.0%})")
        out.append((ProbeState.DEGRADED, reason))
    inodes = space.inodes_used_ratio
    if inodes is not None and inodes >= limits.inodes_degraded_ratio:
        n = space.inodes - space.inodes_free
        message = f"{inodes:.1%} of inodes used ({n} of {space.inodes}; degraded at {limits.inodes_degraded_ratio:.0%})"
        out.append((ProbeState.DEGRADED, Reason("inodes_low", message)))
    return out


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")
