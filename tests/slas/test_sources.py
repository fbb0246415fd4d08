"""Calendars and schedules named by the facility file: local files and real HTTP URLs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from facility.config import FacilityConfig
from facility.errors import ConfigError
from facility.store import Store
from slas.operations import Operations
from slas.repository import Repository
from slas.sources import check_all, import_all
from tests.conftest import free_port

EVENT = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
    "UID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261201T080000Z\r\n"
    "DTEND:20261201T120000Z\r\nSUMMARY:Scratch check\r\n"
    "X-FACSTAT-RESOURCES:{resources}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
SCHEDULE = (
    "beamtimes:\n  - {beamline: bl1, start: 2026-12-01T08:00:00Z, end: 2026-12-02T08:00:00Z}\n"
)


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str, ThreadingHTTPServer]]:
    """A real HTTP server on loopback serving `tmp_path/www`."""
    www = tmp_path / "www"
    www.mkdir()
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(Quiet, directory=str(www)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{port}", server
    server.shutdown()
    server.server_close()


def operations(config: FacilityConfig, store: Store, **ops: object) -> Operations:
    changed = config.model_copy(update={"operations": config.operations.model_copy(update=ops)})
    return Operations(changed, Repository(store.engine))


def test_a_calendar_url_is_imported_and_kept_while_unreachable_or_broken(
    config: FacilityConfig, store: Store, served: tuple[Path, str, ThreadingHTTPServer]
) -> None:
    www, url, server = served
    (www / "ops.ics").write_text(EVENT.format(uid="w1@test", resources="scratch"))
    ops = operations(config, store, maintenance_calendars=[f"{url}/ops.ics"])
    import_all(ops, Path("."), timeout=5)
    assert [(w.id, w.source) for w in ops.windows()] == [("w1@test", "ical:ops")]
    (www / "ops.ics").write_text("BEGIN:VCALENDAR\r\ngarbage")
    import_all(ops, Path("."), timeout=5)
    assert [w.id for w in ops.windows()] == ["w1@test"]
    server.shutdown()
    server.server_close()
    import_all(ops, Path("."), timeout=2)
    assert [w.id for w in ops.windows()] == ["w1@test"]


def test_a_schedule_url_is_imported(
    config: FacilityConfig, store: Store, served: tuple[Path, str, ThreadingHTTPServer]
) -> None:
    www, url, _ = served
    (www / "ls.yaml").write_text(SCHEDULE)
    ops = operations(config, store, beamtime_schedules=[f"{url}/ls.yaml"])
    import_all(ops, Path("."), timeout=5)
    assert [(b.beamline, b.source) for b in ops.beamtimes()] == [("bl1", "schedule:ls")]


def test_a_broken_local_calendar_is_a_config_error_and_imports_nothing(
    config: FacilityConfig, store: Store, tmp_path: Path
) -> None:
    (tmp_path / "ops.ics").write_text(EVENT.format(uid="w1@test", resources="scrach"))
    ops = operations(config, store, maintenance_calendars=["ops.ics"])
    with pytest.raises(ConfigError, match="scrach"):
        import_all(ops, tmp_path, timeout=5)
    assert ops.windows() == ()
    issues = check_all(ops.config, tmp_path)
    assert len(issues) == 1 and "scrach" in str(issues[0])


def test_a_missing_local_schedule_is_a_config_error(
    config: FacilityConfig, store: Store, tmp_path: Path
) -> None:
    ops = operations(config, store, beamtime_schedules=["nope.yaml"])
    with pytest.raises(ConfigError, match="cannot read"):
        import_all(ops, tmp_path, timeout=5)
