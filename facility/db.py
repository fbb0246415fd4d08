"""One way to reach the store's database where its loss must read as `StoreUnavailable`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from facility.errors import StoreUnavailable


@contextmanager
def connected(engine: Engine, write: bool = False) -> Iterator[Connection]:
    """A connection (in a transaction that commits, with `write`); a database that cannot
    be reached raises `StoreUnavailable`, which callers treat as a passing outage."""
    try:
        with engine.begin() if write else engine.connect() as conn:
            yield conn
    except OperationalError as exc:
        raise StoreUnavailable(f"database unavailable: {exc.orig}") from exc
