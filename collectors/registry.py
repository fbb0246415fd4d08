"""Which adapter observes which resources: collector kinds mapped to their builders."""

from __future__ import annotations

import importlib
import logging
from collections import defaultdict

from collectors.base import Builder, Collector
from facility.config import FacilityConfig, Resource
from facility.errors import ConfigError, Issue

log = logging.getLogger("facstat.collectors")

# kind (as written in a facility file's `collector.kind`) -> module with `build`
KINDS: dict[str, str] = {
    "filesystem": "collectors.filesystem",
    "link": "collectors.link",
    "lustre": "collectors.lustre",
    "rabbitmq": "collectors.rabbitmq_dsn",
    "redis": "collectors.redis_dsn",
    "slurm": "collectors.slurm",
}


def builder(kind: str) -> Builder | None:
    module = KINDS.get(kind)
    if module is None:
        return None
    built: Builder = importlib.import_module(module).build
    return built


def build_all(config: FacilityConfig) -> list[Collector]:
    """Collectors for every resource whose kind has an adapter; the rest are named in
    the log and stay `unknown` (never `up`) until something reports on them."""
    by_kind: dict[str, list[Resource]] = defaultdict(list)
    for r in config.resources:
        if r.collector is not None:
            by_kind[r.collector.kind].append(r)
    out: list[Collector] = []
    missing = []
    for kind, resources in sorted(by_kind.items()):
        make = builder(kind)
        if make is None:
            missing.append(kind)
            continue
        out += make(config, resources)
    if missing:
        log.warning("no collector for kind(s) %s; their resources stay unknown", ", ".join(missing))
    return out


def check(config: FacilityConfig) -> tuple[list[Issue], list[str]]:
    """Problems in the collectors' options (as located issues), and the kinds that have
    no adapter in this installation. Builds the collectors but contacts no source."""
    issues: list[Issue] = []
    by_kind: dict[str, list[Resource]] = defaultdict(list)
    for r in config.resources:
        if r.collector is not None:
            by_kind[r.collector.kind].append(r)
    missing = sorted(k for k in by_kind if k not in KINDS)
    for kind, resources in sorted(by_kind.items()):
        make = builder(kind)
        for r in resources if make is not None else ():
            try:
                make(config, [r])
            except ConfigError as exc:
                issues += exc.issues
    return issues, missing
