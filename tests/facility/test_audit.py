"""The audit hash chain on plain values: the canonical form, the link rule, verification."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from facility.audit import (
    GENESIS,
    AuditEntry,
    as_mapping,
    canonical,
    link,
    plain,
    plain_object,
    verify,
)

AT = datetime(2026, 11, 21, 12, 0, 0, 123456, tzinfo=UTC)


def entry(**kw: Any) -> dict[str, Any]:
    base = AuditEntry(AT, "static:operator", None, "10.0.0.7", "POST", "/api/v1/maintenance",
                      "maintenance.create", "w1", 201, None, {"title": "Süd"})  # fmt: skip
    return as_mapping(base) | kw


def chain(n: int) -> list[dict[str, Any]]:
    rows, prev = [], GENESIS
    for i in range(1, n + 1):
        e = entry(target=f"w{i}")
        rows.append({**e, "id": i, "prev_hash": prev, "hash": link(prev, i, e)})
        prev = rows[-1]["hash"]
    return rows


def test_the_canonical_form_is_sorted_compact_utf8_json_with_the_id_and_a_utc_stamp() -> None:
    local = AT.astimezone(timezone(timedelta(hours=2)))
    text = canonical(7, entry(at=local))
    assert text.startswith('{"action":"maintenance.create","actor":"static:operator","after":')
    assert '"at":"2026-11-21T12:00:00.123456Z"' in text and '"id":7' in text
    assert '"title":"Süd"' in text and ", " not in text


def test_each_hash_is_sha256_of_the_previous_hash_and_the_canonical_entry() -> None:
    e = entry()
    first = link(GENESIS, 1, e)
    assert first == hashlib.sha256((GENESIS + canonical(1, e)).encode()).hexdigest()
    assert link(first, 2, e) == hashlib.sha256((first + canonical(2, e)).encode()).hexdigest()
    assert GENESIS == "0" * 64


def test_an_intact_chain_verifies_and_an_empty_one_is_intact_at_the_genesis() -> None:
    rows = chain(4)
    assert verify(rows).ok and verify(rows).count == 4 and verify(rows).head == rows[-1]["hash"]
    assert verify([]).ok and verify([]).head == GENESIS


def test_the_first_changed_field_is_reported_at_its_entry() -> None:
    rows = chain(4)
    rows[1]["after"] = {"title": "Nord"}
    rows[2]["status"] = 500
    v = verify(rows)
    assert not v.ok and v.broken_id == 2 and v.head == rows[0]["hash"] and v.count == 2


def test_a_missing_entry_is_reported_at_the_one_after_the_gap() -> None:
    rows = chain(5)
    v = verify(rows[:1] + rows[3:])
    assert v.broken_id == 4 and "entries 2–3 missing" in v.reason


def test_a_reordered_or_relinked_entry_breaks_the_chain() -> None:
    rows = chain(3)
    rows[2]["prev_hash"] = rows[0]["hash"]
    assert verify(rows).broken_id == 3 and "prev_hash" in verify(rows).reason


def test_an_anchor_must_still_be_in_the_chain() -> None:
    rows = chain(3)
    assert verify(rows, anchor=rows[1]["hash"]).ok
    assert not verify(rows[:2], anchor=rows[2]["hash"]).ok
    assert verify([], anchor=GENESIS).ok


@dataclass
class Window:
    id: str
    start: datetime
    resources: tuple[str, ...]


def test_plain_values_are_json_that_survives_the_store() -> None:
    value = {"w": Window("w1", AT, ("a", "b")), "nan": float("nan"), "nul": "a\x00b",
             1: {3, 1}, "d": timedelta(minutes=2)}  # fmt: skip
    assert plain(value) == {
        "w": {"id": "w1", "start": "2026-11-21T12:00:00.123456Z", "resources": ["a", "b"]},
        "nan": "nan", "nul": "a\ufffdb", "1": [1, 3], "d": 120.0,
    }  # fmt: skip
    assert plain_object([1]) == {"value": [1]} and plain_object(None) is None
