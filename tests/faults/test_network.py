"""Fault: a collector loses its network.

A real `facstat serve` listens on the host side of a veth pair; a real
`facstat collect --push` runs its filesystem collectors inside a network namespace
on the other side (mounts are directories under the test's tmp_path, so no other
service is needed). The test cuts the link (host side of the veth down): the
collector keeps running but can no longer reach the API. Then:

- every resource it watched goes `unknown` (reason `stale`) once `stale_after` passes;
- there is exactly one incident, about the silent collector, listing those resources;
- there is no outage incident for any of them, and none appears while the silence lasts;
- once the link is back, the spooled and new observations arrive, the resources are
  `up` again and the collector incident resolves itself.

Needs root and iproute2 (`ip netns`, veth); skipped with the reason otherwise. The
namespace and the veth pair are deleted at the end whatever happens.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml

from tests.conftest import DATA, OPERATOR, TOKEN
from tests.procs import ROOT, ApiProcess, api_env, end, wait_ready

T = TypeVar("T")
STALE_AFTER = 5  # seconds without an observation before a resource is `unknown`
TICK = 0.5  # the API's tick and page intervals
HOLD = 8 * TICK  # how long the silence is watched for a second incident
POLICY = DATA / "faults" / "incidents.yaml"
PUSH_NAME = "beamline-gw"  # `facstat collect --name`: prefixes every pushed source
_serial = itertools.count()


# --- the network namespace ----------------------------------------------------------------


@dataclass(frozen=True)
class Netns:
    """A namespace joined to the host by a veth pair: `host_ip` here, `ns_ip` inside."""

    name: str
    host_if: str
    ns_if: str
    host_ip: str
    ns_ip: str

    def argv(self, *command: str) -> list[str]:
        """`command` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *command]

    def cut(self) -> None:
        ip("link", "set", self.host_if, "down")

    def restore(self) -> None:
        ip("link", "set", self.host_if, "up")

    def reaches_host(self) -> bool:
        out = subprocess.run(
            self.argv("ping", "-c", "1", "-W", "1", self.host_ip), capture_output=True, timeout=10
        )
        return out.returncode == 0


def ip(*args: str) -> None:
    out = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if out.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {out.stderr.strip()}")


def _addresses(pid: int) -> tuple[str, str]:
    """A private /30 of 10.213.0.0/16 chosen by pid, so parallel runs do not collide."""
    net = (pid % 16384) * 4
    prefix = f"10.213.{net // 256}"
    return f"{prefix}.{net % 256 + 1}", f"{prefix}.{net % 256 + 2}"


def _plan() -> Netns:
    tag = f"{os.getpid()}x{next(_serial)}"
    host_ip, ns_ip = _addresses(os.getpid())
    return Netns(f"facstat-fault-{tag}", f"fh{tag}", f"fn{tag}", host_ip, ns_ip)


def _create(ns: Netns) -> None:
    ip("link", "add", ns.host_if, "type", "veth", "peer", "name", ns.ns_if)
    ip("link", "set", ns.ns_if, "netns", ns.name)
    ip("addr", "add", f"{ns.host_ip}/30", "dev", ns.host_if)
    ip("link", "set", ns.host_if, "up")
    ip("-n", ns.name, "addr", "add", f"{ns.ns_ip}/30", "dev", ns.ns_if)
    ip("-n", ns.name, "link", "set", ns.ns_if, "up")
    ip("-n", ns.name, "link", "set", "lo", "up")


def _delete(ns: Netns) -> None:
    for args in (("link", "del", ns.host_if), ("netns", "del", ns.name)):
        subprocess.run(["ip", *args], capture_output=True, timeout=10)


@pytest.fixture
def netns() -> Iterator[Netns]:
    if shutil.which("ip") is None or os.geteuid() != 0:
        pytest.skip("needs root and iproute2 to make a network namespace and a veth pair")
    ns = _plan()
    made = subprocess.run(["ip", "netns", "add", ns.name], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"`ip netns add` is not usable here: {made.stderr.strip()}")
    try:
        _create(ns)
        wait_for("the namespace to reach the host over the veth", ns.reaches_host, 10)
        yield ns
    finally:
        _delete(ns)


# --- the API and the collector ---------------------------------------------------------


def facility(tmp_path: Path, mounts: list[str]) -> Path:
    """A facility whose resources are directories under tmp_path, watched every second."""
    checks = {"interval": 1, "probe_slow_seconds": 60, "probe_timeout": 10,
              "capacity_degraded_ratio": 1.0, "capacity_down_ratio": 1.0,
              "inodes_degraded_ratio": 1.0}  # fmt: skip
    resources = []
    for m in mounts:
        (tmp_path / m).mkdir()
        options = {"path": str(tmp_path / m), **checks}
        resources.append({"id": m, "name": f"Mount {m}", "type": "storage:filesystem",
                          "system": "storage", "tier": "24x7",
                          "collector": {"kind": "filesystem", "options": options}})  # fmt: skip
    doc = {
        "facility": {"id": "netfault", "name": "Network fault facility", "timezone": "UTC"},
        "defaults": {"stale_after": f"{STALE_AFTER}s", "hysteresis": {"consecutive": 1}},
        "systems": [{"id": "storage", "name": "Storage", "kind": "service"}],
        "resources": resources,
        "operations": {"incidents": str(POLICY)},
    }
    path = tmp_path / "facility.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def free_port_on(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@pytest.fixture
def api(netns: Netns, tmp_path: Path, facility_file: Path) -> Iterator[ApiProcess]:
    """`facstat serve` bound to the host side of the veth only."""
    port = free_port_on(netns.host_ip)
    env = api_env(f"sqlite:///{tmp_path / 'facstat.db'}", facility_file,
                  tick_interval=str(TICK), page_interval=str(TICK))  # fmt: skip
    cmd = [sys.executable, "-m", "api.cli", "serve", "--host", netns.host_ip, "--port", str(port)]
    log = tmp_path / "api.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = ApiProcess(f"http://{netns.host_ip}:{port}", port, proc, log)
    try:
        wait_ready(server)
        yield server
    finally:
        server.stop()


@pytest.fixture
def collector(
    netns: Netns, api: ApiProcess, tmp_path: Path, facility_file: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`facstat collect --push` inside the namespace, pushing to the API over the veth."""
    cmd = netns.argv(sys.executable, "-m", "api.cli", "collect", "--facility", str(facility_file),
                     "--push", api.url, "--token", TOKEN, "--spool", str(tmp_path / "spool"),
                     "--name", PUSH_NAME)  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACSTAT_")}
    with (tmp_path / "collector.log").open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        end(proc)


@pytest.fixture(params=[1, 2], ids=["one-mount", "two-mounts"])
def mounts(request: pytest.FixtureRequest) -> list[str]:
    return [f"mnt{i}" for i in range(request.param)]


@pytest.fixture
def facility_file(tmp_path: Path, mounts: list[str]) -> Path:
    return facility(tmp_path, mounts)


# --- reading the API --------------------------------------------------------------------------


def wait_for(what: str, check: Callable[[], T | None], timeout: float) -> T:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.2)
    return value


def get(api: ApiProcess, path: str, **kw: Any) -> Any:
    r = httpx.get(api.url + path, timeout=10, **kw)
    r.raise_for_status()
    return r.json()


def resources(api: ApiProcess, ids: list[str]) -> dict[str, dict[str, Any]]:
    return {rid: get(api, f"/api/v1/resources/{rid}") for rid in ids}


def all_in(api: ApiProcess, ids: list[str], state: str) -> dict[str, dict[str, Any]] | None:
    found = resources(api, ids)
    return found if all(r["state"] == state for r in found.values()) else None


def incidents(api: ApiProcess) -> list[dict[str, Any]]:
    """Every incident, open or not (so one opened and closed in between is seen too)."""
    return list(get(api, "/api/v1/incidents", headers=OPERATOR)["items"])


def about(incs: list[dict[str, Any]]) -> str:
    return "; ".join(f"#{i['id']} {i['kind']} {i['key']} [{i['status']}]" for i in incs)


# --- the test -------------------------------------------------------------------------------


def test_a_collector_cut_off_from_the_network_is_one_collector_incident_and_no_outage(
    netns: Netns,
    api: ApiProcess,
    collector: subprocess.Popen[bytes],
    mounts: list[str],
) -> None:
    up = wait_for("every mount up through the API", lambda: all_in(api, mounts, "up"), 60)
    sources = {r["source"] for r in up.values()}
    assert incidents(api) == []

    netns.cut()
    assert not netns.reaches_host()
    stale = wait_for(
        "every mount unknown", lambda: all_in(api, mounts, "unknown"), STALE_AFTER + 30
    )
    for rid, r in stale.items():
        assert "stale" in {x["code"] for x in r["reasons"]}, (rid, r["reasons"])
    assert collector.poll() is None, "the collector must keep running, only cut off"
    wait_for("an incident", lambda: incidents(api), 10)
    time.sleep(HOLD)  # the silence goes on: nothing more may open

    found = incidents(api)
    assert [i for i in found if i["kind"] != "collector"] == [], about(found)
    assert len(found) == 1, f"one root cause (a silent collector) opened: {about(found)}"
    (inc,) = found
    assert inc["status"] == "triggered"
    # every pushed source is `<push name>/<collector>`; the incident is about the process
    assert all(src.startswith(f"{PUSH_NAME}/") for src in sources), sources
    assert inc["subject"] == PUSH_NAME and inc["key"] == f"collector:{PUSH_NAME}"
    assert inc["title"] == f"Collector {inc['subject']} is silent or failing"
    assert {x["resource_id"] for x in inc["impacted"]} == set(mounts)

    netns.restore()
    wait_for("every mount up again", lambda: all_in(api, mounts, "up"), 60)
    done = wait_for(
        "the collector incident to resolve itself",
        lambda: [i for i in incidents(api) if i["status"] == "resolved"],
        30,
    )
    assert [i["id"] for i in done] == [inc["id"]], about(incidents(api))
    assert len(incidents(api)) == 1, about(incidents(api))
