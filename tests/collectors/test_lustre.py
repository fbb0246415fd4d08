"""Lustre collector: parsers on the hand-written outputs in tests/data/lustre/, the rules on
what they describe, and the collector on `lfs` stand-ins that print those outputs."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from collectors.lustre import LustreCollector
from collectors.lustre_parse import Usage, parse_check, parse_df
from collectors.lustre_rules import LustreOptions, Snapshot, block_for, evaluate
from collectors.metrics import CycleMetrics
from facility.model import ProbeState
from tests.conftest import DATA, T0, assert_promtool_accepts

LUSTRE = DATA / "lustre"
OPTS = LustreOptions(fsname="orion")


def read(name: str) -> str:
    path = LUSTRE / name
    return path.read_text() if path.exists() else ""


def snapshot(scenario: str, checks: str | None = None, **opts: object) -> Snapshot:
    df = block_for(parse_df(read(f"lfs-df-{scenario}.txt")), "orion")
    df_i = block_for(parse_df(read(f"lfs-df-i-{scenario}.txt")), "orion")
    check = checks if checks is not None else read(f"lfs-check-servers-{scenario}.out")
    check += read(f"lfs-check-servers-{scenario}.err")
    ignore = frozenset(opts.get("ignore", ()))  # type: ignore[call-overload]
    return Snapshot("orion", df, df_i, parse_check(check).states, ignore)


def test_lfs_df_gives_every_target_of_a_healthy_filesystem_and_its_summary() -> None:
    [block] = parse_df(read("lfs-df-healthy.txt"))
    assert (block.fsname, block.mount) == ("orion", "/lustre/orion")
    kinds = [t.kind for t in block.targets]
    assert kinds == ["MDT"] * 2 + ["OST"] * 40
    assert {t.status for t in block.targets} == {"active"}
    assert block.targets[2].usage == Usage(17091031023616, 10506994229034, 6575491279071)
    assert block.summary == Usage(683641240944640, 429528746446829, 253770673877371)


def test_lfs_df_shows_inactive_devices_by_index_and_state_flags() -> None:
    [block] = parse_df(read("lfs-df-inactive.txt"))
    inactive = [t.index for t in block.targets if t.status == "inactive"]
    assert inactive == [0x3, 0x7, 0xC, 0x15, 0x1E, 0x27]
    assert [block.target_name(t) for t in block.targets if t.flags] == ["orion-OST0010"]
    assert block.targets[2 + 0x10].flags == "D"


def test_lfs_df_without_a_path_has_one_block_per_mount_and_the_fsname_picks_one() -> None:
    blocks = parse_df(read("lfs-df-two-filesystems.txt"))
    assert [(b.fsname, b.mount, len(b.targets)) for b in blocks] == [
        ("ccshome", "/ccs/home", 5),
        ("orion", "/lustre/orion", 42),
    ]
    assert block_for(blocks, "orion") is blocks[1]
    assert block_for(blocks, "nosuch") is None


def test_lfs_df_keeps_the_error_of_a_target_that_did_not_answer() -> None:
    [block] = parse_df(read("lfs-df-mdts-down.txt"))
    assert [t.status for t in block.targets if t.kind == "MDT"] == [
        "Cannot send after transport endpoint shutdown",
        "Input/output error",
    ]


def test_lfs_check_servers_reads_active_inactive_and_the_errors_on_stderr() -> None:
    states = parse_check(
        read("lfs-check-servers-inactive.out") + read("lfs-check-servers-inactive.err")
    ).states
    assert len(states) == 42
    assert sorted(n for n, s in states.items() if s == "inactive") == [
        "orion-OST0003",
        "orion-OST0007",
        "orion-OST000c",
        "orion-OST0015",
        "orion-OST001e",
    ]
    assert states["orion-OST0027"] == "Resource temporarily unavailable (11)"
    assert states["orion-MDT0001"] == "active"


def test_a_healthy_filesystem_is_up_at_full_capacity_with_its_space() -> None:
    v = evaluate(snapshot("healthy"), OPTS)
    assert (v.state, v.capacity, v.reasons) == (ProbeState.UP, 1.0, ())
    assert v.values["ost_total"] == 40 and v.values["ost_active"] == 40
    assert v.values["used_ratio"] == pytest.approx(
        429528746446829 / (429528746446829 + 253770673877371)
    )
    assert v.values["inodes_used_ratio"] > 0


def test_inactive_osts_degrade_the_filesystem_to_the_fraction_still_active() -> None:
    v = evaluate(snapshot("inactive"), OPTS)
    assert v.state == ProbeState.DEGRADED and v.capacity == pytest.approx(34 / 40)
    assert [(r.code, r.message) for r in v.reasons] == [
        (
            "osts_unavailable",
            "6 of 40 OSTs inactive: orion-OST0003, orion-OST0007, orion-OST000c, "
            "orion-OST0015, … (2 more)",
        ),
        ("targets_degraded", "1 target(s) degraded (RAID rebuild or failed disk): orion-OST0010"),
    ]


def test_lfs_check_alone_names_unreachable_targets_with_their_error() -> None:
    check = read("lfs-check-servers-inactive.out") + read("lfs-check-servers-inactive.err")
    snap = Snapshot("orion", None, None, parse_check(check).states)
    v = evaluate(snap, OPTS)
    assert v.state == ProbeState.DEGRADED and v.capacity == pytest.approx(34 / 40)
    assert v.reasons[0].message.startswith("6 of 40 OSTs inactive or unreachable: orion-OST0003")
    only_27 = Snapshot("orion", None, None, {"orion-OST0027": "Input/output error (5)"})
    assert evaluate(only_27, OPTS).reasons[0].message == (
        "1 of 1 OSTs unreachable: orion-OST0027 (Input/output error (5))"
    )


def test_targets_deactivated_on_purpose_are_left_out() -> None:
    retired = {f"orion-OST{i:04x}" for i in (0x3, 0x7, 0xC, 0x15, 0x1E, 0x27)}
    v = evaluate(snapshot("inactive", ignore=retired), OPTS)
    assert v.capacity == 1.0 and [r.code for r in v.reasons] == ["targets_degraded"]


def test_every_mdt_unavailable_takes_the_filesystem_down() -> None:
    v = evaluate(snapshot("mdts-down"), OPTS)
    assert v.state == ProbeState.DOWN and v.capacity == 0.0
    assert [(r.code, r.message) for r in v.reasons] == [
        (
            "mdts_unavailable",
            "2 of 2 MDTs unreachable: orion-MDT0000 (Cannot send after transport "
            "endpoint shutdown), orion-MDT0001 (Input/output error)",
        )
    ]


def test_a_filesystem_that_neither_command_mentions_is_unknown() -> None:
    v = evaluate(Snapshot("orion", None, None, {}), OPTS)
    assert v.state == ProbeState.UNKNOWN and v.reasons[0].code == "not_mounted"


def test_the_collector_reports_unknown_command_failed_when_lfs_is_missing() -> None:
    if shutil.which("lfs"):
        pytest.skip("this machine has lfs")
    c = LustreCollector("scratch", OPTS)
    [obs] = c.collect(T0).observations
    assert obs.state == ProbeState.UNKNOWN
    assert [(r.code, r.message) for r in obs.reasons] == [
        ("command_failed", "lfs: No such file or directory")
    ]


def stand_in_lfs(tmp_path: Path, scenario: str) -> Path:
    """An `lfs` that prints the outputs of a scenario: a stand-in for the external command."""
    script = tmp_path / "lfs"
    script.write_text(
        "#!/bin/sh\n"
        f'd="{LUSTRE}"\n'
        'case "$1 $2" in\n'
        f'  "df -i") cat "$d/lfs-df-i-{scenario}.txt" ;;\n'
        f'  "df "*) cat "$d/lfs-df-{scenario}.txt" ;;\n'
        f'  "check servers") cat "$d/lfs-check-servers-{scenario}.out";'
        f' cat "$d/lfs-check-servers-{scenario}.err" >&2 2>/dev/null; exit 1 ;;\n'
        "esac\n"
    )
    script.chmod(0o755)
    return script


def test_the_collector_runs_lfs_and_exports_target_states_that_promtool_accepts(
    tmp_path: Path,
) -> None:
    opts = LustreOptions(
        fsname="orion", mount="/lustre/orion", lfs=str(stand_in_lfs(tmp_path, "inactive"))
    )
    c = LustreCollector("scratch", opts)
    cycle = c.collect(T0)
    [obs] = cycle.observations
    assert obs.state == ProbeState.DEGRADED and obs.capacity == pytest.approx(0.85)
    assert obs.reasons[0].message.startswith("6 of 40 OSTs inactive: orion-OST0003")
    metrics = CycleMetrics()
    metrics.record(c.name, c.kind, 0.1, True, T0.timestamp(), cycle.metrics)
    registry = CollectorRegistry()
    registry.register(metrics)
    text = generate_latest(registry).decode()
    assert 'facstat_lustre_targets{resource="scratch",state="inactive",type="ost"} 6.0' in text
    assert 'facstat_lustre_target_active{resource="scratch",target="orion-OST0003"} 0.0' in text
    assert 'facstat_lustre_target_active{resource="scratch",target="orion-OST0004"} 1.0' in text
    assert 'facstat_lustre_inodes{resource="scratch"}' in text
    assert_promtool_accepts(text)


def test_an_lfs_that_hangs_is_killed_and_reported_unknown_in_time(tmp_path: Path) -> None:
    script = tmp_path / "lfs"
    script.write_text("#!/bin/sh\nexec sleep 60\n")
    script.chmod(0o755)
    c = LustreCollector(
        "scratch", LustreOptions(fsname="orion", lfs=str(script), command_timeout=0.5)
    )
    started = time.monotonic()
    [obs] = c.collect(T0).observations
    assert time.monotonic() - started < 3
    assert obs.state == ProbeState.UNKNOWN and obs.reasons[0].code == "command_failed"
    assert f"{script} df did not finish within 0.5 s" in obs.reasons[0].message


def test_an_lfs_df_that_hangs_part_way_degrades_and_keeps_what_lfs_check_said(
    tmp_path: Path,
) -> None:
    script = tmp_path / "lfs"
    script.write_text(
        "#!/bin/sh\n"
        f'case "$1" in\n'
        f'  df) head -n 12 "{LUSTRE}/lfs-df-healthy.txt"; exec sleep 60 ;;\n'
        f'  check) cat "{LUSTRE}/lfs-check-servers-healthy.out" ;;\n'
        "esac\n"
    )
    script.chmod(0o755)
    opts = LustreOptions(fsname="orion", lfs=str(script), command_timeout=0.5)
    [obs] = LustreCollector("scratch", opts).collect(T0).observations
    assert obs.state == ProbeState.DEGRADED and obs.capacity == 1.0
    assert [(r.code, r.message) for r in obs.reasons] == [
        ("command_timeout", f"{script} df did not finish within 0.5 s"),
        ("command_timeout", f"{script} df -i did not finish within 0.5 s"),
    ]
