"""What a runbook is once parsed: values only, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class AppliesTo:
    """When a runbook helps. Each list is one way to match (see `runbooks.matching`)."""

    resource_types: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    reason_codes: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()
    collector_kinds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    """One action of the runbook: a stable `id`, its `number` (1-based) and its Markdown."""

    id: str
    number: int
    text: str


@dataclass(frozen=True, slots=True)
class Runbook:
    id: str
    title: str
    applies_to: AppliesTo
    severity: str  # P1 … P4: the priority of the incidents it typically addresses
    summary: str  # the first paragraph, on one line
    steps: tuple[Step, ...]
    body_markdown: str  # everything after the front matter
    path: Path

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)
