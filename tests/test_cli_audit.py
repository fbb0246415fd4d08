"""`facstat audit verify` on a real store: exit 0 with the count and head, exit 1 naming
the first broken entry, exit 2 when the log cannot be read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from facility.audit import AuditEntry
from facility.audit_store import AuditLog
from facility.store import Store
from tests.conftest import T0

BIN = Path(sys.executable).parent / "facstat"


def verify(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FACSTAT_DATABASE_URL": db_url, "COLUMNS": "250"}
    cmd = [str(BIN), "audit", "verify", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)


def three_entries(store: Store) -> AuditLog:
    log = AuditLog(store.engine)
    for i in range(3):
        log.append(AuditEntry(T0, "static:operator", None, "10.1.2.3", "POST",
                              f"/api/v1/maintenance/w{i}/cancel", "maintenance.cancel",
                              f"w{i}", 200, {"cancelled": False}, {"cancelled": True}))  # fmt: skip
    return log


def tamper(store: Store, statement: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text(statement))


def test_an_intact_log_verifies_with_its_count_and_head_hash(store: Store, db_url: str) -> None:
    head = three_entries(store).verify().head
    out = verify(db_url)
    assert out.returncode == 0, out.stderr
    assert "ok: 3 entries, the chain is intact" in out.stdout and f"head: {head}" in out.stdout


def test_a_changed_entry_fails_verification_naming_it(store: Store, db_url: str) -> None:
    three_entries(store)
    tamper(store, "UPDATE audit_log SET target = 'w9' WHERE id = 2")
    out = verify(db_url)
    assert out.returncode == 1
    assert "broken at entry 2: its contents do not match its hash" in out.stderr
    assert "1 entry before it is intact" in out.stderr


def test_a_removed_entry_fails_verification_at_the_gap(store: Store, db_url: str) -> None:
    three_entries(store)
    tamper(store, "DELETE FROM audit_log WHERE id = 2")
    out = verify(db_url)
    assert out.returncode == 1 and "broken at entry 3: entry 2 missing" in out.stderr


def test_a_recorded_head_catches_entries_cut_off_the_end(store: Store, db_url: str) -> None:
    head = three_entries(store).verify().head
    assert verify(db_url, "--anchor", head).returncode == 0
    tamper(store, "DELETE FROM audit_log WHERE id = 3")
    out = verify(db_url, "--anchor", head)
    assert out.returncode == 1 and "is not in the chain" in out.stderr


def test_a_store_without_an_audit_log_is_a_clear_error(tmp_path: Path) -> None:
    out = verify(f"sqlite:///{tmp_path / 'empty.db'}")
    assert out.returncode == 2 and "cannot read the audit log" in out.stderr
    assert "Traceback" not in out.stderr
