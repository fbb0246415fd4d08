"""The pyslurm backend against `fake_pyslurm` (pyslurm 25.11's object API, fed from the
real test cluster's recordings, installed as `sys.modules["pyslurm"]`), and against the
real pyslurm where one imports and was built for this Slurm (not on Debian's 22.05)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from types import ModuleType, SimpleNamespace

import pytest

from collectors.slurm import backend, parse, pyslurm_backend
from collectors.slurm.errors import (
    AccountingUnreachable,
    CommandFailed,
    ControllerUnreachable,
    OutputInvalid,
)
from collectors.slurm.options import SlurmOptions
from collectors.slurm.pyslurm_backend import PyslurmBackend
from tests.collectors.slurm import fake_pyslurm
from tests.collectors.slurm.conftest import RECORDED, ROOT, SCENARIOS, SLURM_CONF, recorded
from tests.collectors.slurm.test_restd import taken_at

ANSWERING = [s for s in SCENARIOS if s != "controller-down"]


def fake(scenario: str, version: str = "25.11.0") -> ModuleType:
    return fake_pyslurm.module(RECORDED / scenario, taken_at(scenario), version)


Install = Callable[[str], ModuleType]


@pytest.fixture
def install(monkeypatch: pytest.MonkeyPatch) -> Install:
    """`install(scenario)`: the fake, fed from `scenario`, becomes `import pyslurm`."""

    def put(scenario: str) -> ModuleType:
        module = fake(scenario)
        monkeypatch.setitem(sys.modules, "pyslurm", module)
        return module

    return put


def test_no_module_but_the_pyslurm_backend_imports_pyslurm_and_it_only_lazily() -> None:
    importing = re.compile(r"^\s*(import pyslurm|from pyslurm)", re.M)
    sources = [*(ROOT / "collectors").rglob("*.py"), *(ROOT / "api").rglob("*.py")]
    sources += [*(ROOT / "facility").rglob("*.py"), *(ROOT / "slas").rglob("*.py")]
    assert [p.name for p in sources if importing.search(p.read_text())] == []
    text = (ROOT / "collectors" / "slurm" / "pyslurm_backend.py").read_text()
    assert 'import_module("pyslurm")' in text and "pyslurm" not in sys.modules


@pytest.mark.parametrize("scenario", ANSWERING)
def test_nodes_partitions_and_jobs_read_the_same_as_from_the_commands(
    install: Install, scenario: str
) -> None:
    install(scenario)
    b = PyslurmBackend()
    assert b.nodes() == parse.parse_sinfo_json(recorded(scenario, "sinfo.json"))
    assert b.partitions() == parse.parse_partitions(recorded(scenario, "scontrol-partition"))
    assert b.jobs() == parse.parse_squeue_json(recorded(scenario, "squeue.json"))
    assert b.reservations() == parse.parse_reservations(
        recorded(scenario, "scontrol-reservation"), UTC
    )


@pytest.mark.parametrize("scenario", [s for s in ANSWERING if s != "slurmdbd-down"])
def test_qos_read_through_a_slurmdbd_connection_match_sacctmgr(
    install: Install, scenario: str
) -> None:
    install(scenario)
    assert PyslurmBackend().qos() == parse.parse_qos(recorded(scenario, "sacctmgr-qos"))


def test_statistics_give_sdiags_figures(install: Install) -> None:
    install("down")
    got = PyslurmBackend().diag()
    sdiag = parse.parse_sdiag(recorded("down", "sdiag"))
    assert (got.since, got.jobs, got.main_cycles) == (sdiag.since, sdiag.jobs, sdiag.main_cycles)
    assert got.backfill_mean_cycle_us == sdiag.backfill_mean_cycle_us
    assert got.rpcs["REQUEST_NODE_INFO"] == sdiag.rpcs["REQUEST_NODE_INFO"]


def test_a_drained_node_keeps_its_reason_author_time_and_its_gpus(install: Install) -> None:
    install("drained")
    nodes = {n.name: n for n in PyslurmBackend().nodes()}
    assert (nodes["node2"].reason, nodes["node2"].reason_by) == ("bad DIMM", "root")
    assert nodes["node2"].flags == {"DRAIN"} and nodes["node1"].gpus == 2
    assert nodes["node3"].flags == {"MAINTENANCE", "RESERVED"}


def test_with_slurmctld_stopped_every_load_is_controller_unreachable(install: Install) -> None:
    install("controller-down")
    b = PyslurmBackend()
    for kind in ("diag", "nodes", "partitions", "jobs", "reservations"):
        with pytest.raises(ControllerUnreachable, match="Unable to contact slurm controller"):
            getattr(b, kind)()
    with pytest.raises(ControllerUnreachable) as err:
        b.diag()
    assert err.value.command == "pyslurm.slurmctld.diag()"


def test_with_slurmdbd_stopped_qos_is_accounting_unreachable(install: Install) -> None:
    install("slurmdbd-down")
    with pytest.raises(AccountingUnreachable, match="slurmdbd") as err:
        PyslurmBackend().qos()
    assert err.value.command == "pyslurm.db.QualitiesOfService.load()"


def test_without_pyslurm_every_call_fails_naming_the_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pyslurm", None)  # `import pyslurm` raises ImportError
    with pytest.raises(CommandFailed, match="pyslurm") as err:
        PyslurmBackend().nodes()
    assert err.value.command == "import pyslurm"


@dataclass
class BareQos:
    """What pyslurm 25.11's documentation shows of a QualityOfService."""

    name: str
    description: str
    id: int


def test_a_pyslurm_lacking_an_attribute_is_output_invalid_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, install: Install
) -> None:
    module = install("idle")
    bare = {"normal": BareQos("normal", "Normal QOS default", 1)}
    monkeypatch.setattr(module, "db", SimpleNamespace(
        Connection=module.db.Connection,
        QualitiesOfService=SimpleNamespace(load=lambda conn: bare),
    ))  # fmt: skip
    with pytest.raises(OutputInvalid, match=r"AttributeError: .*no attribute"):
        PyslurmBackend().qos()


def test_an_rpc_error_that_is_not_about_reaching_slurmctld_is_a_command_failure() -> None:
    def refused() -> object:
        raise fake_pyslurm.RPCError(2017, "Invalid user id")

    module = fake("idle")
    module.__dict__["Jobs"] = SimpleNamespace(load=refused)
    with pytest.raises(CommandFailed, match="Invalid user id"):
        PyslurmBackend(module=lambda: module).jobs()


def test_another_clusters_slurm_conf_is_refused_in_a_process_that_has_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLURM_CONF", "/etc/slurm-a/slurm.conf")
    b = PyslurmBackend(slurm_conf="/etc/slurm-b/slurm.conf", module=lambda: fake("idle"))
    with pytest.raises(CommandFailed, match=r"SLURM_CONF=/etc/slurm-a/slurm\.conf"):
        b.nodes()
    monkeypatch.delenv("SLURM_CONF")
    assert len(b.nodes()) == 4
    assert os.environ["SLURM_CONF"] == "/etc/slurm-b/slurm.conf"


@pytest.mark.parametrize(
    ("pyslurm_version", "slurm", "usable"),
    [
        ("22.5.3", "slurm 22.05.8", True),
        ("25.11.0", "slurm 25.11.2", True),
        ("25.11.0", "slurm 22.05.8", False),
        ("25.11.0", "", False),
    ],
)
def test_pyslurm_is_usable_only_when_made_for_this_slurm_release(
    pyslurm_version: str, slurm: str, usable: bool
) -> None:
    assert pyslurm_backend.usable(slurm, lambda: fake("idle", pyslurm_version)) is usable


def test_a_pyslurm_that_does_not_import_is_not_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyslurm", None)
    assert not pyslurm_backend.usable("slurm 25.11.2")


def test_reservation_flags_read_as_scontrol_names_them() -> None:
    flags = fake_pyslurm.ReservationFlags
    value = flags.MAINTENANCE | flags.IGNORE_RUNNING_JOBS | flags.SPECIFIC_NODES
    assert sorted(pyslurm_backend.flag_names(value)) == [
        "IGNORE_RUNNING_JOBS", "MAINTENANCE", "SPECIFIC_NODES",
    ]  # fmt: skip
    assert pyslurm_backend.flag_names(flags(0)) == []


@pytest.mark.parametrize(
    ("gres", "count"),
    [({"gpu": 2}, 2), ({"gpu:a100": {"count": "4", "indexes": "0-3"}}, 4), ({}, 0), (None, 0)],
)
def test_gpus_are_counted_from_pyslurms_gres_dicts(gres: object, count: int) -> None:
    assert pyslurm_backend.gpus(gres) == count


def _real_pyslurm() -> bool:
    opts = SlurmOptions(cluster="facstat", slurm_conf=str(SLURM_CONF))
    return pyslurm_backend.usable(backend.slurm_version(opts))


@pytest.mark.skipif(not _real_pyslurm(), reason="no pyslurm built for this host's Slurm")
@pytest.mark.usefixtures("slurm_cluster")
def test_the_real_pyslurm_reads_the_test_cluster() -> None:
    b = PyslurmBackend(slurm_conf=str(SLURM_CONF))
    assert [n.name for n in b.nodes()] == ["node1", "node2", "node3", "node4"]
    assert {p.name for p in b.partitions()} == {"batch", "interactive"}
    assert b.diag().server_threads >= 1
    assert {q.name: q.priority for q in b.qos()} == {"normal": 10, "urgent": 100}
