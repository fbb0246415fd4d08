"""`facstat tokens create|list|revoke`: API tokens, straight in the store.

Like `facstat db-upgrade`, these work on `FACSTAT_DATABASE_URL` directly (migrating it
first), so the first admin token of a site needs no running server and no
bootstrap secret. `create` prints the token on stdout, alone, once (so
`TOKEN=$(facstat tokens create …)` works); everything else goes to stderr. Bad input
exits 2 naming the option; an unreachable store exits 1.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from api.tokens import LIFETIME_HELP, TokenInfo, TokenStore, check_request
from facility.config import FacilityConfig, load_facility
from facility.errors import ConfigError, Issue, NotFoundError
from facility.service import utcnow
from facility.settings import Settings, load_settings

tokens_app = typer.Typer(help="Issue, list and revoke API tokens.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
OPTION = {"name": "--name", "scopes": "--scope", "expires_in": "--expires-in"}
STATUS_STYLE = {"active": "green", "expired": "yellow", "revoked": "red"}


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print("[red]error:[/red]", escape(message))
    return typer.Exit(code)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise _fail(str(exc)) from exc


@contextmanager
def _store(settings: Settings) -> Iterator[TokenStore]:
    from facility.migrate import upgrade
    from facility.store import create_db_engine

    settings.ensure_sqlite_dir()
    try:
        engine = create_db_engine(settings.database_url)
    except (SQLAlchemyError, ValueError) as exc:
        raise _fail(f"FACSTAT_DATABASE_URL: {exc}") from exc
    try:
        upgrade(engine)
        yield TokenStore(engine)
    except SQLAlchemyError as exc:
        raise _fail(f"store {settings.database_url}: {exc.__class__.__name__}: {exc}", 1) from exc
    finally:
        engine.dispose()


def _facility(settings: Settings) -> FacilityConfig:
    try:
        return load_facility(settings.facility_path())
    except (ConfigError, OSError) as exc:
        raise _fail(f"cannot check --resource against the facility file: {exc}") from exc


def _option(issue: Issue) -> str:
    head, _, rest = issue.path.partition("[")
    if head == "resources":
        return "--resource" + (f" #{int(rest.rstrip(']')) + 1}" if rest else "")
    if head == "scopes" and rest:
        return f"--scope #{int(rest.rstrip(']')) + 1}"
    return OPTION.get(head, issue.path)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@tokens_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="who or what will use it")],
    scope: Annotated[list[str], typer.Option(help="a scope (repeat for more)")],
    expires_in: Annotated[str, typer.Option(help=LIFETIME_HELP)],
    resource: Annotated[
        list[str] | None,
        typer.Option(help="observations:write only: a resource or system it may report on"),
    ] = None,
) -> None:
    """Issue a token and print it, once: only a hash of its secret is stored."""
    settings, resources = _settings(), resource or []
    config = _facility(settings) if resources else None
    maximum = settings.token_max_lifetime
    lifetime, issues = check_request(name, scope, expires_in, resources, config, maximum)
    if issues or lifetime is None:
        for i in issues:
            err.print("[red]error:[/red]", escape(f"{_option(i)}: {i.message}"))
        raise typer.Exit(2)
    with _store(settings) as store:
        issued = store.create(name, scope, resources, lifetime, _actor(), utcnow())
    t = issued.info
    err.print(
        f"issued token [bold]{t.id}[/bold] ({escape(t.name)}): {', '.join(t.scopes)}; "
        f"expires {t.expires_at:%Y-%m-%d %H:%M}Z. It is not shown again."
    )
    print(issued.token)


@tokens_app.command("list")
def list_tokens() -> None:
    """Every token, without secrets: scopes, binding, status, expiry, last use."""
    with _store(_settings()) as store:
        found = store.all()
    out.print(_table(found))


def _table(found: list[TokenInfo]) -> Table:
    now = utcnow()
    table = Table(title=f"API tokens ({len(found)})")
    table.add_column("id", no_wrap=True, min_width=12)
    for col in ("name", "scopes", "resources", "status", "expires", "last used"):
        table.add_column(col)
    for t in found:
        status = t.status(now)
        table.add_row(
            t.id,
            escape(t.name),
            ", ".join(t.scopes),
            escape(", ".join(t.resources)) or "any",
            f"[{STATUS_STYLE[status]}]{status}[/]",
            f"{t.expires_at:%Y-%m-%d %H:%M}",
            f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never",
        )
    return table


@tokens_app.command("revoke")
def revoke(token_id: Annotated[str, typer.Argument(help="the token's id (see list)")]) -> None:
    """Revoke a token at once; it stays listed, marked revoked."""
    with _store(_settings()) as store:
        try:
            t = store.revoke(token_id, utcnow())
        except NotFoundError as exc:
            raise _fail(f"no token with id {token_id!r} (see `facstat tokens list`)") from exc
    out.print(f"revoked [bold]{t.id}[/bold] ({escape(t.name)}) at {t.revoked_at:%Y-%m-%d %H:%M}Z")
