"""Filesystem collector on real mounts: a small tmpfs filled by the test, a FIFO that blocks."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from collectors.base import Cycle
from collectors.filesystem import (
    FilesystemCollector,
    FilesystemOptions,
    _Stuck,
    build,
    quantile,
    stddev,
)
from collectors.metrics import CycleMetrics
from collectors.runner import run_once
from facility.config import parse_facility
from facility.errors import ConfigError
from facility.model import ProbeState
from tests.conftest import T0, assert_promtool_accepts

MiB = 1024 * 1024
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


def exposition(c: FilesystemCollector, cycle: Cycle) -> str:
    metrics = CycleMetrics()
    metrics.record(c.name, c.kind, 0.01, True, T0.timestamp(), cycle.metrics)
    registry = CollectorRegistry()
    registry.register(metrics)
    return generate_latest(registry).decode()


def tmpfs(where: Path, *options: str) -> Iterator[Path]:
    where.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(where)], check=True
    )
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)
        if os.path.ismount(where):
            subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs with 64 inodes, unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    yield from tmpfs(tmp_path / "mnt", "size=4m", "nr_inodes=64", "mode=0755")


def fill(mount: Path, nbytes: int) -> None:
    (mount / "ballast").write_bytes(b"\0" * nbytes)


def collector(path: Path, **options: object) -> FilesystemCollector:
    return FilesystemCollector(
        "scratch", FilesystemOptions.model_validate({"path": str(path)} | options)
    )


@needs_root
def test_an_empty_tmpfs_is_up_and_its_space_and_probe_latencies_are_exported(
    small_fs: Path,
) -> None:
    c = collector(small_fs)
    for _ in range(3):
        cycle = c.collect(T0)
    obs = cycle.observations[0]
    assert (obs.state, obs.capacity, obs.reasons) == (ProbeState.UP, 1.0, ())
    assert obs.values["size_bytes"] == 4 * MiB and obs.values["used_ratio"] < 0.01
    text = exposition(c, cycle)
    assert 'facstat_filesystem_size_bytes{resource="scratch"} 4.194304e+06' in text
    for op in ("statvfs", "create", "write", "fsync", "read", "stat", "unlink", "total"):
        assert (
            f'facstat_filesystem_probe_latency_seconds{{operation="{op}",resource="scratch"}}'
            in text
        )
    assert (
        'facstat_filesystem_probe_latency_percentile_seconds{percentile="90",resource="scratch"}'
        in text
    )
    assert 'facstat_filesystem_probes_total{resource="scratch"} 3.0' in text
    assert not list(small_fs.glob(".facstat-probe-*")), "the probe cleans up its file"
    assert_promtool_accepts(text)


@needs_root
def test_a_tmpfs_filled_past_the_degraded_ratio_is_degraded_with_the_numbers(
    small_fs: Path,
) -> None:
    fill(small_fs, int(3.85 * MiB))
    obs = collector(small_fs).collect(T0).observations[0]
    assert obs.state == ProbeState.DEGRADED and obs.capacity == 1.0
    assert [r.code for r in obs.reasons] == ["space_low"]
    assert obs.reasons[0].message == (
        "used 96.3% of 4.0 MiB, 152.0 KiB available (degraded at 90%)"
    )
    assert obs.values["used_ratio"] == pytest.approx(0.9629, abs=1e-3)


@needs_root
def test_a_tmpfs_filled_past_the_down_ratio_is_down_and_unusable(small_fs: Path) -> None:
    fill(small_fs, int(3.97 * MiB))
    obs = collector(small_fs).collect(T0).observations[0]
    assert obs.state == ProbeState.DOWN and obs.capacity == 0.0
    assert [r.code for r in obs.reasons] == ["space_exhausted"]
    assert obs.reasons[0].message == "used 99.3% of 4.0 MiB, 28.0 KiB available (down at 98%)"


@needs_root
def test_a_tmpfs_short_of_inodes_is_degraded_with_the_count(small_fs: Path) -> None:
    for i in range(58):
        (small_fs / f"f{i}").touch()
    obs = collector(small_fs).collect(T0).observations[0]
    assert obs.state == ProbeState.DEGRADED
    assert [(r.code, r.message) for r in obs.reasons] == [
        ("inodes_low", "92.2% of inodes used (59 of 64; degraded at 90%)")
    ]


@needs_root
def test_a_full_tmpfs_fails_the_write_and_is_down_with_the_error(small_fs: Path) -> None:
    fill(small_fs, 4 * MiB)
    obs = collector(small_fs).collect(T0).observations[0]
    assert obs.state == ProbeState.DOWN and obs.capacity == 0.0
    assert obs.reasons[0].code == "io_error"
    assert "No space left on device" in obs.reasons[0].message


def test_a_probe_that_blocks_on_a_fifo_is_down_io_timeout_and_the_collector_returns(
    tmp_path: Path,
) -> None:
    fifo = tmp_path / f".facstat-probe-{socket.gethostname()}"
    os.mkfifo(fifo)  # opening it for writing blocks until a reader comes: a hung mount
    c = collector(tmp_path, probe_timeout=1.0)
    with ThreadPoolExecutor(2) as pool:
        started = time.monotonic()
        out = run_once(c, T0, pool)
        elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 2.5
    assert out[0].state == ProbeState.DOWN and out[0].capacity == 0.0
    assert [(r.code, r.message) for r in out[0].reasons] == [
        ("io_timeout", f"create in {tmp_path} did not finish within 1 s")
    ]
    fifo.unlink()
    assert c.collect(T0).observations[0].state == ProbeState.UP, "the next probe starts afresh"
    text = exposition(c, c.collect(T0))
    assert (
        'facstat_filesystem_probe_failures_total{operation="create",resource="scratch"} 1.0' in text
    )
    assert_promtool_accepts(text)


def test_no_new_probe_starts_while_an_earlier_one_is_still_stuck(tmp_path: Path) -> None:
    c = collector(tmp_path)
    stuck = subprocess.Popen(["sleep", "30"])  # stands for a child in uninterruptible sleep
    c._stuck = _Stuck(stuck, "fsync", time.monotonic() - 42)
    try:
        obs = c.collect(T0).observations[0]
    finally:
        stuck.kill()
        stuck.wait()
    assert obs.state == ProbeState.DOWN
    assert [(r.code, r.message) for r in obs.reasons] == [
        ("io_timeout", f"an earlier probe of {tmp_path} is still blocked in fsync after 42 s")
    ]
    assert c.collect(T0).observations[0].state == ProbeState.UP, "once it is gone, probes resume"


def test_a_probe_slower_than_the_threshold_is_degraded_io_slow(tmp_path: Path) -> None:
    obs = collector(tmp_path, probe_slow_seconds=0).collect(T0).observations[0]
    assert obs.state == ProbeState.DEGRADED
    assert obs.reasons[0].code == "io_slow"
    assert f"I/O probe took {obs.values['probe_seconds']:.3f} s" in obs.reasons[0].message


def test_a_missing_probe_directory_is_down_with_the_error(tmp_path: Path) -> None:
    obs = collector(tmp_path, probe_dir=str(tmp_path / "gone")).collect(T0).observations[0]
    assert obs.state == ProbeState.DOWN
    assert obs.reasons[0].code == "io_error"
    assert obs.reasons[0].message.startswith(f"create in {tmp_path / 'gone'} failed: [Errno 2]")


def test_a_mount_point_that_does_not_exist_is_down_at_statvfs(tmp_path: Path) -> None:
    obs = collector(tmp_path / "nowhere").collect(T0).observations[0]
    assert obs.state == ProbeState.DOWN
    assert obs.reasons[0].message.startswith(f"statvfs in {tmp_path / 'nowhere'} failed")


def test_latency_quantiles_interpolate_and_the_spread_is_the_population_deviation() -> None:
    samples = [0.001, 0.002, 0.003, 0.004, 0.010]
    assert quantile(samples, 0.5) == 0.003
    assert quantile(samples, 0.9) == pytest.approx(0.0076)
    assert stddev([0.002, 0.004]) == pytest.approx(0.001)


FACILITY = """
facility: {id: f, name: F}
systems: [{id: s, name: S}]
resources:
  - {id: home, name: Home, type: storage:filesystem, system: s,
     collector: {kind: filesystem, options: {path: /home, probe_timeout: 2}}}
  - {id: proj, name: Project, type: storage:filesystem, system: s,
     collector: {kind: filesystem, options: {path: /proj, capacity_down_ratio: 7}}}
"""


def test_build_makes_one_collector_per_resource_and_names_a_bad_option() -> None:
    config = parse_facility(FACILITY)
    home, proj = config.resources
    [c] = build(config, [home])
    assert (c.name, c.kind, tuple(c.resource_ids), c.timeout > 2) == (
        "filesystem-home",
        "filesystem",
        ("home",),
        True,
    )
    with pytest.raises(ConfigError) as err:
        build(config, [proj])
    assert "resources[proj].collector.options.capacity_down_ratio" in str(err.value)
