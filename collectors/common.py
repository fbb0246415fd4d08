"""What every source adapter shares: options validation, findings and verdicts.

A *finding* is a probe state with the reason for it; the worst finding decides the
state of an observation, and a `Verdict` is what an observation is made of.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from facility.config import Resource, yaml_path
from facility.errors import ConfigError, Issue
from facility.model import ProbeState, Reason

ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_options(model: type[ModelT], r: Resource) -> ModelT:
    """A resource's collector options as `model`, or a ConfigError naming each bad option."""
    try:
        return model.model_validate(r.collector.options if r.collector else {})
    except ValidationError as exc:
        where = f"resources[{r.id}].collector.options"
        issues = [Issue(yaml_path((where, *e["loc"])), e["msg"]) for e in exc.errors()]
        raise ConfigError(f"resource {r.id}", issues) from exc


Finding = tuple[ProbeState, Reason]
_RANK = {ProbeState.UP: 0, ProbeState.DEGRADED: 1, ProbeState.DOWN: 2}


def worst(findings: Sequence[Finding]) -> ProbeState:
    return max((s for s, _ in findings), key=_RANK.__getitem__, default=ProbeState.UP)


@dataclass(frozen=True, slots=True)
class Verdict:
    state: ProbeState
    capacity: float | None
    reasons: tuple[Reason, ...]
    values: dict[str, float] = field(default_factory=dict)
