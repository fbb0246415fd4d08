"""The reason-code registry is complete and has no stale entries.

The source is read, not trusted: every `Reason("literal", …)` under `collectors/` and
`facility/` must be declared, and every declared code must occur in the code. The few
places that build a code at run time are listed in `DYNAMIC` and exercised here
(recorded Slurm and Lustre outputs, every Slurm partition state and error, a failing
and a hanging collector), so a new one cannot slip by unnoticed.
"""

from __future__ import annotations

import ast
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

import facility.reason_codes as core
from collectors.base import Cycle
from collectors.lustre_rules import LustreOptions, evaluate
from collectors.reason_codes import all_reason_codes, declarations, reason_codes_markdown
from collectors.runner import run_once
from collectors.slurm import capacity, status
from collectors.slurm.errors import SlurmError
from collectors.slurm.model import Diag, Node, Partition, Snapshot
from collectors.slurm.queue import summarize
from collectors.slurm.states import UNUSABLE, Category
from facility.config import parse_facility
from tests.collectors.slurm.conftest import FACILITY, SCENARIOS, replay_collector
from tests.collectors.test_lustre import snapshot
from tests.conftest import T0

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reason-codes.md"
SCANNED = ("collectors", "facility")
USERS = (*SCANNED, "slas")  # where a declared code may be set (slas: alerts made observations)
REGISTRIES = {"collectors/reason_codes.py", "facility/reason_codes.py"}
# Calls that build `Reason(code, …)` from a code known only at run time, by file and
# function, and the test below that shows which codes they produce.
DYNAMIC = {
    ("collectors/lustre_rules.py", "target_findings"): "recorded lfs outputs",
    ("collectors/slurm/capacity.py", "_reason"): "states.UNUSABLE",
    ("collectors/slurm/status.py", "unreachable"): "SlurmError subclasses",
    ("collectors/slurm/status.py", "scheduler"): "SlurmError subclasses",
    ("collectors/slurm/status.py", "partition"): "Slurm partition states",
    ("collectors/runner.py", "failure_observations"): "failing and hanging collectors",
    ("facility/codec.py", "reasons_in"): "decodes stored reasons: emits none of its own",
}
PARTITION_STATES = ("DOWN", "DRAIN", "INACTIVE", "UNKNOWN")  # and UP, which gives no code


@dataclass(frozen=True)
class Site:
    path: str
    function: str
    line: int
    code: str | None  # None: built at run time


def _files(packages: tuple[str, ...] = SCANNED) -> list[Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level `NAME = "text"` assignments (e.g. `OVERRUN = "maintenance_overrun"`)."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    out[target.id] = node.value.value
    return out


def _is_reason(call: ast.Call) -> bool:
    f = call.func
    return (isinstance(f, ast.Name) and f.id == "Reason") or (
        isinstance(f, ast.Attribute) and f.attr == "Reason"
    )


def _code_arg(call: ast.Call) -> ast.expr | None:
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg == "code"), None)


def _literal(node: ast.expr | None, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


class _Finder(ast.NodeVisitor):
    """The `Reason(…)` calls of one file, with the function each is in."""

    def __init__(self, path: str, constants: dict[str, str]) -> None:
        self.path, self.constants = path, constants
        self.stack = ["<module>"]
        self.sites: list[Site] = []

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.stack.append(node.name)
        self.generic_visit(node)
        self.stack.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        if _is_reason(node):
            code = _literal(_code_arg(node), self.constants)
            self.sites.append(Site(self.path, self.stack[-1], node.lineno, code))
        self.generic_visit(node)


def reason_sites() -> list[Site]:
    sites = []
    for path in _files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        finder = _Finder(_rel(path), _constants(tree))
        finder.visit(tree)
        sites += finder.sites
    return sites


def string_constants() -> set[str]:
    """Every string in the scanned code outside the registries, REASON_CODES and docstrings."""
    out: set[str] = set()
    for path in _files(USERS):
        if _rel(path) in REGISTRIES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = {
            id(c) for n in ast.walk(tree) if _is_declaration_or_docstring(n) for c in ast.walk(n)
        }
        out |= {
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skipped
        }
    return out


def _is_declaration_or_docstring(n: ast.AST) -> bool:
    if isinstance(n, ast.AnnAssign | ast.Assign):
        targets = [n.target] if isinstance(n, ast.AnnAssign) else n.targets
        return any(isinstance(t, ast.Name) and t.id == "REASON_CODES" for t in targets)
    return isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)


def declared_in(module: str) -> set[str]:
    return {d.code for d in declarations() if d.module == module}


def _module_of(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")


# --- what the code builds from literals ------------------------------------------------


def test_every_literal_reason_code_in_the_code_is_declared() -> None:
    declared = set(all_reason_codes())
    undeclared = [s for s in reason_sites() if s.code is not None and s.code not in declared]
    assert undeclared == [], "declare these in the module's REASON_CODES"


def test_each_collector_module_declares_the_literal_codes_it_builds_itself() -> None:
    for s in reason_sites():
        if s.code is None:
            continue
        owner = "facility.reason_codes" if s.path.startswith("facility/") else _module_of(s.path)
        assert s.code in declared_in(owner), f"{s.path}:{s.line}: {s.code} not in {owner}"


def test_every_reason_built_at_run_time_is_listed_and_exercised_here() -> None:
    dynamic = {(s.path, s.function) for s in reason_sites() if s.code is None}
    assert dynamic == set(DYNAMIC)


def test_every_declared_code_occurs_in_the_code() -> None:
    literals = {s.code for s in reason_sites() if s.code is not None}
    used = literals | string_constants() | partition_codes()
    stale = sorted(set(all_reason_codes()) - used)
    assert stale == [], "declared but never emitted: remove them"


# --- what the code builds at run time --------------------------------------------------


def partition_codes() -> set[str]:
    """The codes a partition in each Slurm partition state gets."""
    node = Node("n1", "IDLE", partitions=("p",))
    ctx = status.Context("c", "slurm-c", T0)
    target = status.Target("r", "partition", "p")
    out = set()
    for state in PARTITION_STATES:
        snap = Snapshot(Diag(), [node], [Partition("p", state, ("n1",))], [], [])
        obs = status.partition(ctx, target, snap, summarize([], T0, 600))
        out |= {r.code for r in obs.reasons}
    return out


def test_each_slurm_partition_state_has_a_declared_code() -> None:
    codes = partition_codes()
    assert len(codes) == len(PARTITION_STATES)
    assert codes <= set(status.REASON_CODES)
    assert {c for c in status.REASON_CODES if c.startswith("partition_")} - codes == {
        "partition_not_found"
    }


def _subclasses(cls: type[SlurmError]) -> list[type[SlurmError]]:
    return [s for c in cls.__subclasses__() for s in (c, *_subclasses(c))]


def test_every_slurm_error_has_a_code_the_status_module_declares() -> None:
    codes = {cls.code for cls in _subclasses(SlurmError)}
    assert codes <= set(status.REASON_CODES)
    literals = {s.code for s in reason_sites() if s.path == "collectors/slurm/status.py"}
    assert codes | partition_codes() | (literals - {None}) == set(status.REASON_CODES)


def test_each_unusable_node_category_has_a_declared_code() -> None:
    assert {code for code, _ in UNUSABLE.values()} == set(capacity.REASON_CODES)


def _in(category: Category) -> Node:
    state = {
        Category.DRAINED: ("IDLE", {"DRAIN"}),
        Category.DRAINING: ("ALLOCATED", {"DRAIN"}),
        Category.DOWN: ("DOWN", set()),
        Category.MAINT: ("IDLE", {"MAINTENANCE"}),
        Category.REBOOTING: ("IDLE", {"REBOOT_ISSUED"}),
        Category.FUTURE: ("FUTURE", set()),
        Category.UNKNOWN: ("WEIRD", set()),
    }[category]
    return Node("n1", state[0], frozenset(state[1]))


def test_nodes_of_every_unusable_category_get_a_declared_code() -> None:
    nodes = [_in(c) for c in UNUSABLE]
    assert {n.category for n in nodes} == set(UNUSABLE)
    codes = {r.code for r in capacity.unusable_reasons(nodes)}
    assert codes == set(capacity.REASON_CODES)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_slurm_collector_on_recorded_outputs_emits_only_declared_codes(scenario: str) -> None:
    config = parse_facility(FACILITY, "slurm-test-facility")
    collector, _ = replay_collector(config, scenario)
    cycle = collector.collect(T0)
    codes = {r.code for o in cycle.observations for r in o.reasons}
    assert codes <= set(all_reason_codes())


@pytest.mark.parametrize("scenario", ["healthy", "inactive", "mdts-down"])
def test_the_lustre_rules_on_recorded_outputs_emit_only_declared_codes(scenario: str) -> None:
    verdict = evaluate(snapshot(scenario), LustreOptions(fsname="orion"))
    assert {r.code for r in verdict.reasons} <= set(all_reason_codes())


class _Failing:
    name, kind, interval, resource_ids = "failing", "test", 60.0, ("r1",)

    def __init__(self, timeout: float, sleep: float = 0.0) -> None:
        self.timeout, self.sleep = timeout, sleep

    def collect(self, now: datetime) -> Cycle:
        if self.sleep:
            time.sleep(self.sleep)
            return Cycle([])
        raise RuntimeError("boom")


def test_a_failing_or_hanging_collector_emits_the_runner_codes_declared_in_the_core() -> None:
    with ThreadPoolExecutor(2) as pool:
        failed = run_once(_Failing(5.0), T0, pool)
        hung = run_once(_Failing(0.05, sleep=0.5), T0, pool)
    codes = {r.code for o in failed + hung for r in o.reasons}
    assert codes == {core.COLLECTOR_ERROR, core.COLLECTOR_TIMEOUT}
    assert codes <= set(core.REASON_CODES)


# --- the registry and its document -------------------------------------------------------


def test_the_registry_names_the_module_and_a_one_line_meaning_of_each_code() -> None:
    codes = all_reason_codes()
    assert codes["nodes_drained"][0] == "collectors.slurm.capacity"
    assert codes["maintenance_overrun"][0] == "facility.reason_codes"
    for code, (_, meaning) in codes.items():
        assert code.isidentifier() and code == code.lower(), code
        assert meaning and "\n" not in meaning and not meaning.endswith("."), code


def test_the_committed_reason_code_reference_matches_the_code() -> None:
    assert DOC.read_text(encoding="utf-8") == reason_codes_markdown(), (
        "regenerate docs/reason-codes.md from collectors.reason_codes.reason_codes_markdown()"
    )
