"""The collectors issue's "done when", end to end: `facstat serve` on a facility file that
points at real services shows their real state. The services are the machine's: the
single-host Slurm test cluster (scripts/slurm-cluster), Redis on 6379, RabbitMQ on
5672, a temp directory as the filesystem, and a TCP port this test listens on as the
link. facstat runs as its own process; nothing is mocked."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.collectors.slurm.conftest import SLURM_CONF, cluster_script, slurm
from tests.conftest import OPERATOR, OPERATOR_TOKEN, assert_promtool_accepts, free_port
from tests.procs import end

T = TypeVar("T")
BIN = Path(sys.executable).parent / "facstat"
REDIS, RABBITMQ = "redis://127.0.0.1:6379", "amqp://guest:guest@127.0.0.1:5672/%2F"
PARTITIONS = {"facstat-batch": "batch", "facstat-interactive": "interactive"}
SOURCES = {
    "facstat-slurmctld": "slurm-facstat",
    "facstat-batch": "slurm-facstat",
    "facstat-interactive": "slurm-facstat",
    "facstat": "slurm-facstat",
    "dsn-redis": "redis-dsn-redis",
    "dsn-rabbitmq": "rabbitmq-dsn-rabbitmq",
    "scratch": "filesystem-scratch",
    "link-loopback": "link-link-loopback",
}
FAMILIES = ("slurm", "redis", "rabbitmq", "filesystem", "link")  # facstat_<source>_*
DRAIN_NODE = "node2"  # in batch only, so interactive must not mention it
USABLE = {"idle", "allocated", "mixed", "reserved", "completing"}  # sinfo %T of usable nodes


def facility_yaml(scratch: Path, link_port: int) -> str:
    """The real services, every collector on a 2 s cycle, no hysteresis (one observation
    is enough to change state)."""
    slurm_opts = f'{{cluster: facstat, slurm_conf: "{SLURM_CONF}", interval: 2}}'
    return f"""
facility: {{id: realfac, name: Real services, timezone: UTC}}
defaults:
  stale_after: 5m
  hysteresis: {{consecutive: 1}}
  thresholds: {{degraded_below: 0.9, down_below: 0.1}}
systems:
  - {{id: facstat, name: facstat test cluster}}
  - {{id: streaming, name: Data streaming, kind: service}}
  - {{id: storage, name: Storage, kind: service}}
  - {{id: network, name: Network, kind: service}}
resources:
  - {{id: facstat-slurmctld, name: Scheduler, type: "urn:facstat:scheduler", system: facstat,
     collector: {{kind: slurm, options: {slurm_opts}}}}}
  - {{id: facstat-batch, name: Batch, type: "urn:facstat:partition", system: facstat,
     collector: {{kind: slurm, options: {{cluster: facstat, partition: batch}}}}}}
  - {{id: facstat-interactive, name: Interactive, type: "urn:facstat:partition", system: facstat,
     thresholds: {{degraded_below: 0.5, down_below: 0.1}},
     collector: {{kind: slurm, options: {{cluster: facstat, partition: interactive}}}}}}
  - {{id: facstat, name: Compute, type: "compute:system", system: facstat,
     collector: {{kind: slurm, options: {{cluster: facstat}}}}}}
  - {{id: dsn-redis, name: Redis, type: "urn:facstat:dsn", system: streaming,
     collector: {{kind: redis, options: {{url: "{REDIS}", interval: 2, ping_degraded_seconds: 1}}}}}}
  - {{id: dsn-rabbitmq, name: RabbitMQ, type: "urn:facstat:dsn", system: streaming,
     collector: {{kind: rabbitmq, options: {{url: "{RABBITMQ}", interval: 2,
                                             round_trip_degraded_seconds: 2}}}}}}
  - {{id: scratch, name: Scratch, type: "storage:filesystem", system: storage,
     collector: {{kind: filesystem, options: {{path: "{scratch}", interval: 2,
                                               probe_slow_seconds: 5}}}}}}
  - {{id: link-loopback, name: Loopback link, type: network, system: network,
     collector: {{kind: link, options: {{target: 127.0.0.1, port: {link_port}, interval: 2}}}}}}
"""


# --- the services and the server -------------------------------------------------------


def wait_for(
    what: str, check: Callable[[], T | None], timeout: float, detail: Callable[[], str]
) -> T:
    """`check()`'s first truthy value, polled every 0.5 s; fails naming `what` and `detail()`."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}: {detail()}")
        time.sleep(0.5)
    return value


def node_states(partition: str | None = None) -> dict[str, str]:
    """sinfo's state of each node ({} while the controller does not answer)."""
    args = ("-p", partition) if partition else ()
    done = slurm("sinfo", "-h", "-N", *args, "-o", "%N %T", check=False)
    lines = done.stdout.splitlines() if done.returncode == 0 else []
    return dict(line.split() for line in lines)


def all_usable() -> bool:
    states = node_states()
    return bool(states) and set(states.values()) <= USABLE


def partition_total(partition: str) -> int:
    out = slurm("scontrol", "-o", "show", "partition", partition).stdout
    return int(out.split("TotalNodes=")[1].split()[0])


@pytest.fixture(scope="module")
def slurm_idle() -> None:
    """The test cluster running with every node usable (bounded wait: other tests may
    still be restoring it)."""
    cluster_script("start")
    wait_for("every Slurm node usable", all_usable, 180, lambda: str(node_states()))


@dataclass
class Listener:
    """A loopback TCP port that accepts and closes every connection, counting them."""

    sock: socket.socket
    accepted: int = 0

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed: the test is over
                return
            conn.close()
            self.accepted += 1


@pytest.fixture(scope="module")
def link_target() -> Iterator[Listener]:
    sock = socket.create_server(("127.0.0.1", 0), backlog=64)
    listener = Listener(sock)
    thread = threading.Thread(target=listener.serve, daemon=True)
    thread.start()
    yield listener
    sock.close()
    thread.join(timeout=5)


@dataclass
class Served:
    url: str
    proc: subprocess.Popen[bytes]
    scratch: Path


def _log(proc: subprocess.Popen[bytes], log: Path) -> str:
    return f"exit code {proc.poll()}; output:\n{log.read_text(errors='replace')[-4000:]}"


@pytest.fixture(scope="module")
def served(
    slurm_idle: None, link_target: Listener, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """`facstat serve --facility FILE` as its own process, on a free port."""
    tmp = tmp_path_factory.mktemp("real-facility")
    scratch = tmp / "scratch"
    scratch.mkdir()
    facility = tmp / "facility.yaml"
    facility.write_text(facility_yaml(scratch, link_target.port))
    port, log = free_port(), tmp / "serve.log"
    env = {**os.environ, "FACSTAT_DATABASE_URL": f"sqlite:///{tmp / 'facstat.db'}"}
    env["SLURM_CONF"] = str(SLURM_CONF)
    env["FACSTAT_OPERATOR_TOKEN"] = OPERATOR_TOKEN  # to read the internal view
    cmd = [str(BIN), "serve", "--facility", str(facility), "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for("facstat serve to answer /healthz", lambda: _healthy(url, proc), 30,
                 lambda: _log(proc, log))  # fmt: skip
        yield Served(url, proc, scratch)
    finally:
        end(proc)
        assert "Traceback" not in log.read_text(errors="replace"), _log(proc, log)


def _healthy(url: str, proc: subprocess.Popen[bytes]) -> bool:
    if proc.poll() is not None:
        pytest.fail(f"facstat serve exited with code {proc.returncode}")
    try:
        return httpx.get(url + "/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def resources(url: str, internal: bool = True) -> dict[str, dict[str, Any]]:
    """Every resource; the internal view (node names, drain reasons) unless `internal` is False."""
    headers = OPERATOR if internal else {}
    page = httpx.get(url + "/api/v1/resources", params={"limit": 1000}, timeout=10, headers=headers)
    page.raise_for_status()
    return {r["id"]: r for r in page.json()["items"]}


def brief(items: dict[str, dict[str, Any]]) -> str:
    return "; ".join(
        f"{rid}: {r['state']} cap={r['capacity']} src={r['source']} "
        f"why={[x['message'] for x in r['reasons']]}"
        for rid, r in sorted(items.items())
    )


@pytest.fixture(scope="module")
def observed(served: Served) -> dict[str, dict[str, Any]]:
    """Every resource once its own collector has observed it and knows its state (bounded
    wait: other tests may stop and restart the Slurm controller)."""

    def everything() -> dict[str, dict[str, Any]] | None:
        items = resources(served.url)
        done = all(
            items[rid]["observed_at"]
            and items[rid]["source"] == s
            and items[rid]["state"] != "unknown"
            for rid, s in SOURCES.items()
        )
        return items if done else None

    return wait_for("every resource observed by its collector", everything, 90,
                    lambda: brief(resources(served.url)))  # fmt: skip


def metric_values(url: str) -> tuple[str, dict[str, list[tuple[dict[str, str], float]]]]:
    text = httpx.get(url + "/metrics", timeout=10).raise_for_status().text
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return text, out


def value(
    samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str
) -> float:
    """The sum of the samples of `name` whose labels include `labels`; fails if none."""
    found = [v for lbl, v in samples.get(name, []) if labels.items() <= lbl.items()]
    assert found, f"no sample {name}{labels} in /metrics"
    return sum(found)


# --- the tests ---------------------------------------------------------------------------


def test_every_resource_shows_the_real_state_its_own_collector_saw(
    observed: dict[str, dict[str, Any]],
) -> None:
    why = brief(observed)
    for rid, source in SOURCES.items():
        assert observed[rid]["source"] == source, why
        assert observed[rid]["state"] == "up", why
    for rid, partition in PARTITIONS.items():
        states = node_states(partition)
        usable = sum(s in USABLE for s in states.values())
        assert len(states) == partition_total(partition), states
        assert observed[rid]["capacity"] == usable / len(states), why
    assert observed["facstat"]["capacity"] == 1.0, why
    assert observed["scratch"]["capacity"] == 1.0, why


def test_metrics_carry_every_source_with_measured_values_and_pass_promtool(
    served: Served, observed: dict[str, dict[str, Any]], link_target: Listener
) -> None:
    text, m = metric_values(served.url)
    for source in FAMILIES:
        prefix = f"facstat_{source}_"
        assert any(name.startswith(prefix) for name in m), f"no {prefix}* family in /metrics"
    assert value(m, "facstat_slurm_controller_up", cluster="facstat") == 1
    for partition in PARTITIONS.values():
        nodes = value(m, "facstat_slurm_partition_nodes", partition=partition)
        assert nodes == partition_total(partition)
    assert value(m, "facstat_redis_up", resource="dsn-redis") == 1
    assert value(m, "facstat_redis_ping_seconds", resource="dsn-redis") > 0
    assert value(m, "facstat_redis_memory_used_bytes", resource="dsn-redis") > 0
    assert value(m, "facstat_rabbitmq_up", resource="dsn-rabbitmq") == 1
    assert value(m, "facstat_rabbitmq_round_trip_seconds", resource="dsn-rabbitmq") > 0
    fs = os.statvfs(served.scratch)
    assert (
        value(m, "facstat_filesystem_size_bytes", resource="scratch") == fs.f_blocks * fs.f_frsize
    )
    assert value(m, "facstat_filesystem_probe_latency_seconds", operation="total") > 0
    assert value(m, "facstat_link_rtt_seconds", resource="link-loopback", probe="tcp") > 0
    assert value(m, "facstat_link_loss_ratio", resource="link-loopback", probe="tcp") == 0
    assert link_target.accepted >= 1, "the link probe never connected to the test's port"
    assert_promtool_accepts(text)


def test_a_node_drained_in_slurm_shows_in_its_partition_reasons(
    served: Served, observed: dict[str, dict[str, Any]]
) -> None:
    why = f"facstat e2e {uuid.uuid4().hex[:8]}"
    try:
        slurm("scontrol", "update", f"nodename={DRAIN_NODE}", "state=drain", f"reason={why}")

        def drained() -> dict[str, dict[str, Any]] | None:
            items = resources(served.url)
            messages = [r["message"] for r in items["facstat-batch"]["reasons"]]
            return items if any(why in msg for msg in messages) else None

        items = wait_for(f"'{why}' in facstat-batch's reasons", drained, 30,
                         lambda: brief(resources(served.url)))  # fmt: skip
        batch = items["facstat-batch"]
        assert "nodes_drained" in {r["code"] for r in batch["reasons"]}, brief(items)
        assert DRAIN_NODE in " ".join(r["message"] for r in batch["reasons"]), brief(items)
        assert batch["state"] == "degraded" and batch["capacity"] < 1, brief(items)
        interactive = " ".join(r["message"] for r in items["facstat-interactive"]["reasons"])
        assert why not in interactive, brief(items)
        public = resources(served.url, internal=False)["facstat-batch"]["reasons"]
        assert public and all(
            why not in r["message"] and DRAIN_NODE not in r["message"] for r in public
        )
    finally:
        slurm("scontrol", "update", f"nodename={DRAIN_NODE}", "state=resume", check=False)


def test_a_slurm_maint_reservation_becomes_a_window_and_puts_its_partition_in_maintenance(
    served: Served, observed: dict[str, dict[str, Any]]
) -> None:
    name = f"facstat_e2e_{uuid.uuid4().hex[:6]}"
    try:
        slurm(
            "scontrol", "create", "reservation", f"reservationname={name}", "starttime=now",
            "duration=20", "nodes=node3,node4", "flags=MAINT,IGNORE_JOBS", "users=root",
        )  # fmt: skip

        def window() -> dict[str, Any] | None:
            items = httpx.get(served.url + "/api/v1/maintenance", timeout=5).json()["items"]
            return next(
                (w for w in items if w["id"].startswith(f"slurm:slurm-facstat:{name}")), None
            )

        w = wait_for(f"window of {name}", window, 30, lambda: "no window yet")
        assert (w["source"], w["kind"], w["resolution"]) == (
            "slurm:slurm-facstat",
            "reservation",
            "unresolved",
        )
        assert w["id"] == f"slurm:slurm-facstat:{name}" and w["resources"] == [
            "facstat-interactive"
        ]
        status = resources(served.url)["facstat-interactive"]
        assert status["state"] == "maintenance" and status["underlying"] is not None, brief(
            resources(served.url)
        )
        incidents = httpx.get(served.url + "/api/v2/status/incidents", timeout=5).json()
        assert any(i["id"] == w["id"] and i["type"] == "reservation" for i in incidents)
    finally:
        slurm("scontrol", "delete", f"reservationname={name}", check=False)

    def gone() -> bool | None:
        items = httpx.get(served.url + "/api/v1/maintenance", timeout=5).json()["items"]
        return True if not any(name in w["id"] for w in items) else None

    wait_for(f"window of {name} removed", gone, 30, lambda: "still listed")
