"""`facstat audit verify`: recompute the audit log's hash chain from the store itself.

It reads the database directly (`--database-url`, `FACSTAT_DATABASE_URL`), not the API,
so a tampered API cannot vouch for its own log. Exit 0: every entry follows from the
one before (the count and the head hash are printed; keep the head elsewhere and pass
it later as `--anchor` to catch entries cut off the end). Exit 1: the first broken
entry and why. Exit 2: the store cannot be read.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from facility.audit import Verdict
from facility.audit_store import AuditLog
from facility.settings import DEFAULT_DB
from facility.store import create_db_engine

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
audit_app = typer.Typer(help="The audit log of writes.", no_args_is_help=True)

DatabaseUrl = Annotated[
    str, typer.Option("--database-url", envvar="FACSTAT_DATABASE_URL", help="the store")
]
Anchor = Annotated[
    str | None,
    typer.Option(help="a head hash printed by an earlier verify; it must still be in the chain"),
]


@audit_app.command("verify")
def verify(database_url: DatabaseUrl = DEFAULT_DB, anchor: Anchor = None) -> None:
    """Recompute the hash chain; exit 1 naming the first broken entry."""
    engine = create_db_engine(database_url)
    try:
        verdict = AuditLog(engine).verify(anchor)
    except SQLAlchemyError as exc:
        err.print("[red]error:[/red]", escape(f"cannot read the audit log: {exc}"))
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    report(verdict)


def report(verdict: Verdict) -> None:
    if verdict.ok:
        console.print(f"[green]ok[/green]: {verdict.count} entries, the chain is intact")
        console.print(f"head: {verdict.head}")
        return
    where = f"entry {verdict.broken_id}" if verdict.broken_id is not None else "the log"
    err.print(f"[red]broken[/red] at {where}: {escape(verdict.reason)}")
    n = verdict.count - 1 if verdict.broken_id is not None else verdict.count
    intact = "1 entry before it is" if n == 1 else f"{n} entries before it are"
    err.print(f"{intact} intact; last good hash: {verdict.head}")
    raise typer.Exit(1)
