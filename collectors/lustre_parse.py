"""Pure parsers of `lfs df [-i]` and `lfs check servers` output (see tests/data/lustre/).

`lfs df` prints one block per Lustre mount: a header, one row per MDT and OST
(`orion-OST0000_UUID  <total> <used> <avail> <use%> /lustre/orion[OST:0] [flags]`),
`OST0003             : inactive device` or `<uuid> : <strerror>` for a target that is
deactivated or does not answer, and a `filesystem_summary:` row. With `-i` the columns
are inodes instead of 1 KiB blocks. `lfs check servers` prints `<device> active.` or
`<device> inactive.` per OSC/MDC, and `error: check '<device>': <strerror> (<errno>)` on
stderr for a target it could not ping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

_NAME = re.compile(
    r"^(?:(?P<fs>[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*?)-)?(?P<kind>MDT|OST)(?P<index>[0-9a-f]{4,})(?:_UUID)?$"
)
_ROW = re.compile(
    r"^(?P<uuid>\S+)\s+(?P<total>\d+)\s+(?P<used>\d+)\s+(?P<avail>\d+)\s+\d+%\s+"
    r"(?P<mount>\S+?)\[(?:MDT|OST):\d+\](?:\s+(?P<flags>[A-Za-z]+))?\s*$"
)
_STATUS = re.compile(r"^(?P<uuid>\S+)\s*: (?P<status>.+?)\s*$")
_SUMMARY = re.compile(r"^filesystem_summary:\s+(\d+)\s+(\d+)\s+(\d+)\s+\d+%\s+(?P<mount>\S+)\s*$")
_CHECK = re.compile(r"^(?P<name>\S+)-(?:osc|mdc)-[0-9a-f]+ (?P<state>active|inactive)\.$")
_CHECK_ERROR = re.compile(r"check '(?P<name>\S+)-(?:osc|mdc)-[0-9a-f]+': (?P<error>.+?)\s*$")

ACTIVE, INACTIVE = "active", "inactive"


@dataclass(frozen=True, slots=True)
class Usage:
    """A row's numbers: 1 KiB blocks, or inodes with `-i`."""

    total: int
    used: int
    avail: int


@dataclass(frozen=True, slots=True)
class DfTarget:
    kind: str  # "MDT" | "OST"
    index: int
    status: str  # "active", "inactive", or the error text of a target that did not answer
    usage: Usage | None = None
    flags: str = ""


@dataclass(frozen=True, slots=True)
class DfBlock:
    """One Lustre mount in `lfs df` output."""

    fsname: str | None = None
    mount: str | None = None
    targets: tuple[DfTarget, ...] = ()
    summary: Usage | None = None

    def target_name(self, t: DfTarget) -> str:
        return target_name(self.fsname or "?", t.kind, t.index)


def target_name(fsname: str, kind: str, index: int) -> str:
    return f"{fsname}-{kind}{index:04x}"


def parse_df(text: str) -> list[DfBlock]:
    """Every mount's block, in order."""
    blocks: list[DfBlock] = []
    for line in text.splitlines():
        if line.startswith("UUID "):
            blocks.append(DfBlock())
        elif blocks:
            blocks[-1] = _fold(blocks[-1], line)
    return blocks


def _fold(block: DfBlock, line: str) -> DfBlock:
    if m := _SUMMARY.match(line):
        usage = Usage(int(m[1]), int(m[2]), int(m[3]))
        return replace(block, summary=usage, mount=block.mount or m["mount"])
    if m := _ROW.match(line):
        return _with_target(block, m["uuid"], ACTIVE, _usage(m), m["flags"] or "", m["mount"])
    if m := _STATUS.match(line):
        status = INACTIVE if m["status"] == "inactive device" else m["status"]
        return _with_target(block, m["uuid"], status)
    return block


def _usage(m: re.Match[str]) -> Usage:
    return Usage(int(m["total"]), int(m["used"]), int(m["avail"]))


def _with_target(
    block: DfBlock,
    uuid: str,
    status: str,
    usage: Usage | None = None,
    flags: str = "",
    mount: str | None = None,
) -> DfBlock:
    name = _NAME.match(uuid)
    if name is None:
        return block
    target = DfTarget(name["kind"], int(name["index"], 16), status, usage, flags)
    return replace(
        block,
        fsname=block.fsname or name["fs"],
        mount=block.mount or mount,
        targets=(*block.targets, target),
    )


@dataclass(frozen=True, slots=True)
class CheckResult:
    """`lfs check servers`: target name (`orion-OST0003`) -> active, inactive or error text."""

    states: dict[str, str] = field(default_factory=dict)


def parse_check(text: str) -> CheckResult:
    """Both the stdout lines and the stderr error lines (they may be interleaved)."""
    states: dict[str, str] = {}
    for line in text.splitlines():
        if m := _CHECK.match(line.strip()):
            states[m["name"]] = m["state"]
        elif m := _CHECK_ERROR.search(line):
            states[m["name"]] = m["error"]
    return CheckResult(states)


def split_name(name: str) -> tuple[str, str, int] | None:
    """`orion-OST000a` -> (`orion`, `OST`, 10)."""
    m = _NAME.match(name)
    if m is None or m["fs"] is None:
        return None
    return m["fs"], m["kind"], int(m["index"], 16)
