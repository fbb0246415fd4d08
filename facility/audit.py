"""The audit log's hash chain, pure: entries, their canonical form, hashes, verification.

Every entry is chained to the one before it:

    hash[n] = sha256_hex(hash[n-1] + canonical(entry[n]))      hash[0] = GENESIS

where `canonical` is the UTF-8 JSON of the entry's fields (`id`, `at`, `actor`,
`token_id`, `client`, `method`, `path`, `action`, `target`, `status`, `before`,
`after`) with sorted keys, no whitespace and non-ASCII kept as is; `at` is RFC 3339
UTC with microseconds (`2026-11-21T12:00:00.000000Z`). Ids are 1, 2, 3, … with no
gap, so a removed entry shows as a gap as well as a broken link.

`plain` turns any value into the JSON that the store keeps and reads back unchanged
(strings without NUL, finite floats, string keys), so the hash computed when an entry
is appended is the hash recomputed from the stored row.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One write: who (`actor`, `token_id`), from where (`client`), what, and the result."""

    at: datetime
    actor: str
    token_id: str | None
    client: str
    method: str
    path: str
    action: str
    target: str
    status: int
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


ENTRY_FIELDS = tuple(f.name for f in fields(AuditEntry))


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of a verification: `ok`, or the first broken entry and why."""

    ok: bool
    count: int  # entries checked (up to and including the broken one)
    head: str  # hash of the last good entry (GENESIS for an empty log)
    broken_id: int | None = None
    reason: str = ""


def stamp(at: datetime) -> str:
    """`at` as RFC 3339 UTC with microseconds."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(entry_id: int, entry: Mapping[str, Any]) -> str:
    """The JSON that is hashed: the entry's fields and its id, in one fixed form."""
    doc = {name: entry[name] for name in ENTRY_FIELDS} | {"id": entry_id}
    doc["at"] = stamp(doc["at"])
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def link(prev_hash: str, entry_id: int, entry: Mapping[str, Any]) -> str:
    """The hash of an entry that follows the entry whose hash is `prev_hash`."""
    data = (prev_hash + canonical(entry_id, entry)).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def as_mapping(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in ENTRY_FIELDS}


def verify(rows: Iterable[Mapping[str, Any]], anchor: str | None = None) -> Verdict:
    """Walk stored rows in id order (each with the entry's fields, `id`, `prev_hash` and
    `hash`) and stop at the first one that does not follow from the one before.

    `anchor`: a head hash recorded earlier (e.g. printed by a past verification); the
    chain must still contain it, which catches entries cut off the end."""
    prev, expected_id, count, anchored = GENESIS, 1, 0, anchor in (None, GENESIS)
    for row in rows:
        count += 1
        reason = _fault(row, prev, expected_id)
        if reason:
            return Verdict(False, count, prev, int(row["id"]), reason)
        prev, expected_id = str(row["hash"]), int(row["id"]) + 1
        anchored = anchored or prev == anchor
    if not anchored:
        reason = f"the anchor {anchor} is not in the chain: entries were removed from its end"
        return Verdict(False, count, prev, None, reason)
    return Verdict(True, count, prev)


def _fault(row: Mapping[str, Any], prev: str, expected_id: int) -> str:
    rid = int(row["id"])
    if rid != expected_id:
        missing = (
            f"entry {expected_id}" if rid == expected_id + 1 else f"entries {expected_id}–{rid - 1}"
        )
        return f"{missing} missing: the ids jump from {expected_id - 1} to {rid}"
    if row["prev_hash"] != prev:
        return "prev_hash is not the hash of the entry before it: that entry was changed or removed"
    if link(prev, rid, row) != row["hash"]:
        return "its contents do not match its hash: the entry was changed"
    return ""


def plain(value: Any) -> Any:
    """`value` as JSON that survives a round trip through the store unchanged."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, datetime):
        return stamp(value) if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, Mapping):
        return {plain(str(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    return plain(str(value))


def plain_object(value: Any) -> dict[str, Any] | None:
    """`plain(value)` as an object (the `before`/`after` columns hold objects or null)."""
    out = plain(value)
    return out if isinstance(out, dict) or out is None else {"value": out}
