"""Public and internal views: what an anonymous caller may see of a status.

Internal callers (`status:read-internal`, or `admin`) see everything. Everyone else
gets the *public view* of the same endpoint, where each reason message is rewritten
by the rule of its code's family (the codes are in `docs/reason-codes.md`):

| family | codes | public message |
|---|---|---|
| counts | `nodes_*`, `osts_unavailable`, `mdts_unavailable`, `targets_degraded` | the count before the first `:`: `1 of 4 nodes drained` (no node or target names, no drain reasons) |
| raw errors | errors and command output (`collector_error`, `broker_unreachable`, `io_error`, `slurm_command_failed`, …) | the code's declared meaning: no host, path or tool output |
| measured | thresholds and figures (`capacity_below_threshold`, `space_low`, `stale`, `maintenance`, …) | kept |
| dependency | `dependency` | `depends on scratch (degraded: <summary>)` |
| any other | `alert_firing`, codes no module declares | the summary before the first `:`, or the code in words |

*Summary* (`summary`) is the rule for text without a known code (root causes, the
inner message of a dependency, incident impacts): the part before the first `:`,
dropped entirely when it still looks like it names a host, a node or a path. On every
kept message, parenthesised host lists (`(node2)`, `(nid00050, nid00051, …)`) go.

Pure functions of domain values, then the wiring: `AudienceDep`, the view a request
gets, which routes pass down to their renderers and into the render cache key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import cache
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from collectors.reason_codes import all_reason_codes
from facility.model import EffectiveStatus, Interval, Reason, RootCause, State
from facility.store import EventRecord
from slas.incident_service import SYSTEM
from slas.incident_store import Incident, TimelineEntry

Audience = Literal["public", "internal"]
PUBLIC: Audience = "public"
INTERNAL: Audience = "internal"

COUNTS = frozenset(
    {"nodes_drained", "nodes_down", "nodes_maint", "nodes_unavailable"}
    | {"osts_unavailable", "mdts_unavailable", "targets_degraded"}
)
RAW_ERRORS = frozenset(
    {"collector_error", "collector_timeout", "command_failed", "command_timeout"}
    | {"broker_error", "broker_unreachable", "probe_failed", "io_error", "io_timeout"}
    | {"link_down", "no_probe", "throughput_unmeasured", "not_mounted", "partition_not_found"}
    | {"slurm_command_failed", "slurm_output_invalid", "slurmctld_unreachable"}
    | {"slurmdbd_unreachable"}
)
MEASURED = frozenset(
    {"capacity_below_threshold", "stale", "no_data", "maintenance", "maintenance_overrun"}
    | {"space_low", "space_exhausted", "inodes_low", "io_slow"}
    | {"link_slow", "packet_loss", "throughput_low"}
    | {"backlog_high", "backlog_growing", "queue_missing", "broker_slow", "broker_alarm"}
    | {"memory_high", "stream_lag"}
    | {"no_nodes", "partition_down", "partition_drain", "partition_inactive", "partition_unknown"}
)
DEPENDENCY = "dependency"
SUMMARISED = frozenset({"alert_firing"})

_COUNT = re.compile(r"^\d+\b[^'\"]*$")  # "1 of 4 nodes drained", "2 target(s) degraded (…)"
_PARENS = re.compile(r"\s*\(([^()]*)\)")
_HOST_TOKEN = re.compile(r"^(?:[A-Za-z][\w.\-]*(?:\[[\d,\-]+\])?|…|\.\.\.)$")
# what a kept summary must not contain: node-like names (node2, nid00050, orion-OST0003),
# dotted host names, host:port, IP addresses, paths with two or more segments
_HOSTISH = re.compile(
    r"\b[A-Za-z][A-Za-z\-]*\d+[\w\-]*\b"
    r"|\b[A-Za-z][\w\-]*\.[A-Za-z][\w.\-]*\b"
    r"|\b\d{1,3}(?:\.\d{1,3}){3}\b"
    r"|(?:/[\w.\-]+){2,}"
)
_DEPENDS = re.compile(r"^depends on (\S+) \((\w+): (.*)\)$", re.DOTALL)
_OPENED = re.compile(r"^Opened: (\S+) (.*)$", re.DOTALL)  # slas.incident_service


# -- messages -------------------------------------------------------------------------


def drop_host_lists(text: str) -> str:
    """Remove parenthesised lists of host or node names: `(node2)`, `(nid1, nid2, …)`.
    A parenthesis with words and spaces (`(degraded at 90%)`) stays."""
    return _PARENS.sub(lambda m: "" if _is_host_list(m.group(1)) else m.group(0), text).strip()


def _is_host_list(inner: str) -> bool:
    tokens = [t.strip() for t in inner.split(",")]
    if not all(_HOST_TOKEN.match(t) for t in tokens):
        return False
    return len(tokens) > 1 or bool(re.search(r"[\d.\-\[]", tokens[0]))


def summary(text: str) -> str | None:
    """The part of a message before its first `:`, without host lists; None when that
    part still names a host, a node or a path (or is empty)."""
    head = drop_host_lists(text.split(":", 1)[0])
    return head if head and not _HOSTISH.search(head) else None


@cache
def _meanings() -> dict[str, str]:
    return {code: meaning for code, (_, meaning) in all_reason_codes().items()}


def _in_words(code: str) -> str:
    return code.replace("_", " ")


def public_message(code: str, message: str) -> str:
    """A reason's message as anonymous callers see it (see the module's table)."""
    if code in MEASURED:
        return drop_host_lists(message)
    if code in COUNTS:
        head = drop_host_lists(message.split(":", 1)[0])
        return head if _COUNT.match(head) else _meanings().get(code, _in_words(code))
    if code in RAW_ERRORS:
        return _meanings().get(code, _in_words(code))
    if code == DEPENDENCY:
        return public_dependency(message)
    return summary(message) or _in_words(code)


def public_dependency(message: str) -> str:
    """`depends on scratch (degraded: 12 of 40 OSTs inactive)`, its inner message summarised."""
    m = _DEPENDS.match(message)
    if m is None:
        return summary(message) or "depends on another resource"
    rid, state, inner = m.groups()
    short = summary(inner)
    return f"depends on {rid} ({state}: {short})" if short else f"depends on {rid} ({state})"


def public_reason(r: Reason) -> Reason:
    return Reason(r.code, public_message(r.code, r.message))


def public_reasons(reasons: Iterable[Reason]) -> tuple[Reason, ...]:
    return tuple(public_reason(r) for r in reasons)


def public_root(root: RootCause | None) -> RootCause | None:
    """A root cause carries no code: its message is summarised (else its state in words)."""
    if root is None:
        return None
    return replace(root, message=summary(root.message) or root.state.value)


# -- domain values --------------------------------------------------------------------


def public_status(s: EffectiveStatus) -> EffectiveStatus:
    """Reasons and root cause redacted; state, capacity, times, source and the
    maintenance window underneath (public: it is on the calendar) unchanged."""
    return replace(s, reasons=public_reasons(s.reasons), root_cause=public_root(s.root_cause))


def public_statuses(statuses: Mapping[str, EffectiveStatus]) -> dict[str, EffectiveStatus]:
    return {rid: public_status(s) for rid, s in statuses.items()}


def public_interval(i: Interval) -> Interval:
    return replace(i, reasons=public_reasons(i.reasons), root_cause=public_root(i.root_cause))


def public_event(e: EventRecord) -> EventRecord:
    """The description is rebuilt from the public reasons; of the details only the
    reasons, capacity and root cause are kept."""
    reasons = public_reasons(_reasons_in(e.details.get("reasons")))
    root = _root_in(e.details.get("root_cause"))
    details = {
        "reasons": [r.as_dict() for r in reasons],
        "capacity": e.details.get("capacity"),
        "root_cause": _root_out(public_root(root)),
    }
    why = "; ".join(r.message for r in reasons)
    description = f"{e.resource_id} is {e.to_state}" + (f": {why}" if why else "")
    return replace(e, description=description, details=details)


def _reasons_in(rows: Any) -> list[Reason]:
    if not isinstance(rows, list):
        return []
    return [
        Reason(str(r.get("code", "")), str(r.get("message", "")))
        for r in rows
        if isinstance(r, Mapping)
    ]


def _root_in(row: Any) -> RootCause | None:
    if not isinstance(row, Mapping):
        return None
    try:
        return RootCause(str(row["resource_id"]), State(row["state"]), str(row["message"]))
    except (KeyError, ValueError):
        return None


def _root_out(root: RootCause | None) -> dict[str, str] | None:
    return root.as_dict() if root is not None else None


def public_impact(text: str) -> str:
    """An incident's impact summary (`down: msg; msg`): each message summarised."""
    state, _, why = text.partition(": ")
    if not why:
        return summary(state) or ""
    kept = dict.fromkeys(s for s in (summary(p) for p in why.split("; ")) if s)
    return f"{state}: {'; '.join(kept)}" if kept else state


def public_incident(inc: Incident) -> Incident:
    """Impact summaries summarised; an alert's title (Alertmanager's own text, which
    may name hosts) cut to the alert's name."""
    impacted = {
        rid: {**entry, "summary": public_impact(str(entry["summary"]))}
        if isinstance(entry, Mapping) and "summary" in entry
        else entry
        for rid, entry in inc.impacted.items()
    }
    title = inc.title if inc.kind != "alert" else summary(inc.title) or "alert firing"
    return replace(inc, impacted=impacted, title=title)


def public_entry(e: TimelineEntry) -> TimelineEntry:
    """A public timeline entry. The engine's own `opened` entry quotes the impact's
    reasons (or an alert's title): summarised like the impacts. What people wrote as
    public notes stays as written."""
    if e.actor != SYSTEM or e.kind != "opened":
        return e
    m = _OPENED.match(e.text)
    text = f"Opened: {m[1]} {public_impact(m[2])}" if m else summary(e.text) or "alert firing"
    return replace(e, text=text)


def public_oncall(item: Mapping[str, Any]) -> dict[str, Any]:
    """An on-call row as the public sees it: the team and the shift, not who (names and
    e-mail addresses are internal)."""
    return {**item, "primary": None, "secondary": None, "escalate_to": None}


# -- wiring ---------------------------------------------------------------------------


def audience(internal: bool) -> Audience:
    return INTERNAL if internal else PUBLIC


async def get_audience(request: Request) -> Audience:
    """`internal` for a bearer token with `status:read-internal` (or `admin`), else
    `public`: no token, or one that is unknown, expired or revoked, reads the public
    view (it is what anyone may see) rather than an error. A stored or OIDC token is
    checked in a worker thread (it may read the store)."""
    from api import deps  # here, not above: api.deps imports the runtime, which imports us

    creds = await deps.bearer(request)
    if creds is None:
        return PUBLIC
    internal = await run_in_threadpool(deps.is_operator, request.app.state.runtime, creds)
    return audience(internal)


AudienceDep = Annotated[Audience, Depends(get_audience)]
