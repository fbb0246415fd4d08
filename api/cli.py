"""The `facstat` command line."""

from __future__ import annotations

import os
import secrets
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import httpx
import typer
from pydantic import SecretStr
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from api.cli_audit import audit_app
from api.cli_ops import ack, incidents, maintenance_app, ready
from api.cli_tokens import tokens_app
from facility.config import load_facility
from facility.errors import ConfigError
from facility.settings import Settings, demo_facility_file, load_settings

app = typer.Typer(
    help="facstat: facility status for HPC centres serving experiments.", no_args_is_help=True
)
app.add_typer(maintenance_app, name="maintenance")
app.add_typer(audit_app, name="audit")
app.add_typer(tokens_app, name="tokens")
app.command("ready")(ready)
app.command("incidents")(incidents)
app.command("ack")(ack)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

Host = Annotated[str, typer.Option(help="address to listen on")]
Port = Annotated[int, typer.Option(help="port to listen on")]
FacilityOpt = Annotated[Path | None, typer.Option("--facility", help="facility YAML file")]
STATE_STYLE = {
    "up": "green",
    "degraded": "yellow",
    "down": "bold red",
    "unknown": "magenta",
    "maintenance": "cyan",
}
STATE_ICON = {"up": "✔", "degraded": "▲", "down": "✖", "unknown": "?", "maintenance": "⚒"}


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        err.print("[red]error:[/red]", escape(str(exc)))
        raise typer.Exit(2) from exc


def _run(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from api.app import create_app

    try:
        application = create_app(settings)
    except ConfigError as exc:
        err.print("[red]error:[/red]", escape(str(exc)))
        raise typer.Exit(2) from exc
    console.print(
        f"facstat on [bold]http://{host}:{port}/[/bold]  (API docs: /docs, store: {settings.database_url})"
    )
    uvicorn.run(application, host=host, port=port, log_level="warning", loop=settings.event_loop)


@app.command()
def serve(host: Host = "127.0.0.1", port: Port = 8000, facility: FacilityOpt = None) -> None:
    """Run the API, the status engine and the facility's collectors."""
    _run(_settings(facility_file=facility), host, port)


@app.command()
def demo(host: Host = "127.0.0.1", port: Port = 8000, facility: FacilityOpt = None) -> None:
    """Run facstat on the demo facility with simulated sources whose state moves."""
    settings = _settings(facility_file=facility or demo_facility_file(), demo=True)
    if settings.operator_token is None:  # so the on-call pages can be tried at once
        token = secrets.token_urlsafe(18)
        settings = settings.model_copy(update={"operator_token": SecretStr(token)})
        console.print(
            f"staff token for the on-call pages (/oncall) and writes: [bold]{token}[/bold]"
        )
    _run(settings, host, port)


@app.command("check-config")
def check_config(file: Annotated[Path, typer.Argument(help="facility YAML file")]) -> None:
    """Validate a facility file; exit 1 and name every problem if it is invalid."""
    from collectors.registry import check
    from slas.sources import check_all

    try:
        config = load_facility(file)
        issues, missing = check(config)
        issues += check_all(config, file.resolve().parent)
        if issues:
            raise ConfigError(str(file), issues)
    except ConfigError as exc:
        err.print("[red]invalid:[/red]", escape(str(exc)))
        raise typer.Exit(1) from exc
    if missing:
        err.print(
            f"[yellow]note:[/yellow] no collector in this installation for: {', '.join(missing)}"
        )
    console.print(
        f"[green]ok[/green]: {file}: {len(config.systems)} systems, {len(config.resources)} resources, "
        f"{sum(len(e.beamlines) for e in config.experiment_facilities)} beamlines"
    )


dashboards_app = typer.Typer(
    help="Grafana dashboards generated from the facility file.", no_args_is_help=True
)
app.add_typer(dashboards_app, name="dashboards")


@dashboards_app.command("build")
def dashboards_build(
    facility: FacilityOpt = None,
    out: Annotated[Path, typer.Option(help="directory to write")] = Path("grafana"),
) -> None:
    """Grafana dashboards and provisioning files for a facility."""
    from dashboards.cli import build_command

    try:
        written = build_command(facility, out)
    except ConfigError as exc:
        err.print("[red]invalid:[/red]", escape(str(exc)))
        raise typer.Exit(1) from exc
    console.print(f"[green]wrote[/green] {len(written)} files under {out}")


@app.command()
def rules(
    facility: FacilityOpt = None,
    out: Annotated[Path | None, typer.Option(help="file to write (default: stdout)")] = None,
) -> None:
    """Prometheus recording and alerting rules for the facility's SLAs (burn rates)."""
    from slas.rules import render_rules
    from slas.sources import slas_of

    path = facility or demo_facility_file()
    try:
        text = render_rules(slas_of(load_facility(path), path.resolve().parent))
    except ConfigError as exc:
        err.print("[red]invalid:[/red]", escape(str(exc)))
        raise typer.Exit(1) from exc
    if out is None:
        sys.stdout.write(text)
        return
    out.write_text(text, encoding="utf-8")
    console.print(f"[green]wrote[/green] {out}")


@app.command()
def status(
    url: Annotated[
        str, typer.Option(help="facstat base URL", envvar="FACSTAT_URL")
    ] = "http://127.0.0.1:8000",
) -> None:
    """Print the current status of every resource as a table."""
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            overall = client.get("/api/v1/status").raise_for_status().json()
            items = _all_resources(client)
    except httpx.HTTPError as exc:
        err.print("[red]error:[/red]", escape(f"cannot read status from {url}: {exc}"))
        raise typer.Exit(1) from exc
    console.print(_table(overall, items))


def _all_resources(client: httpx.Client) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    cursor = None
    while True:
        params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/resources", params=params).raise_for_status().json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def _table(overall: dict[str, object], items: list[dict[str, object]]) -> Table:
    state = str(overall["state"])
    table = Table(title=f"facility: {STATE_ICON[state]} {state}", title_style=STATE_STYLE[state])
    for col in ("system", "resource", "state", "capacity", "why", "observed"):
        table.add_column(col)
    for r in sorted(items, key=lambda r: (str(r["system"]), str(r["id"]))):
        st = str(r["state"])
        cap = r["capacity"]
        reasons = r["reasons"] if isinstance(r["reasons"], list) else []
        why = "; ".join(x["message"] for x in reasons)
        table.add_row(
            str(r["system"]),
            str(r["id"]),
            f"[{STATE_STYLE[st]}]{STATE_ICON[st]} {st}[/]",
            f"{cap:.0%}" if isinstance(cap, float) else "–",
            why,
            str(r["observed_at"] or "never"),
        )
    return table


@app.command()
def collect(
    facility: Annotated[Path, typer.Option("--facility", help="facility YAML file")],
    push: Annotated[
        str | None, typer.Option(help="facstat base URL to push observations to")
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar="FACSTAT_PUSH_TOKEN", help="bearer token for --push")
    ] = None,
    listen: Annotated[
        str | None, typer.Option(help="serve Prometheus metrics on [HOST]:PORT (exporter mode)")
    ] = None,
    spool: Annotated[Path, typer.Option(help="where batches wait until delivered")] = Path(
        "var/spool"
    ),
    kind: Annotated[list[str] | None, typer.Option(help="only collectors of this kind")] = None,
    run_for: Annotated[
        float | None, typer.Option("--for", help="stop after this many seconds")
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            help="this collector process, in every pushed source (`NAME/collector`); if it "
            "goes silent, its resources make one incident (default: the host name)"
        ),
    ] = None,
) -> None:
    """Run collectors outside the API: push their observations, serve their metrics, or both."""
    from collectors.collect import run_collect

    if push is None and listen is None:
        err.print(
            "[red]error:[/red]",
            escape("give --push URL (with --token) and/or --listen [HOST]:PORT"),
        )
        raise typer.Exit(2)
    if push is not None and not token:
        err.print("[red]error:[/red] --push needs --token (or FACSTAT_PUSH_TOKEN)")
        raise typer.Exit(2)
    try:
        config = load_facility(facility)
        who = name or socket.gethostname()
        if "/" in who or not who.strip():
            raise ValueError(f"--name {who!r}: give a name without '/'")
        run_collect(config, push, token, listen, spool, kind or [], run_for, console.print, who)
    except (ConfigError, ValueError) as exc:
        err.print("[red]error:[/red]", escape(str(exc)))
        raise typer.Exit(2) from exc


def _write_doc(out: Path, render: Callable[[], str]) -> None:
    out.write_text(render(), encoding="utf-8")
    console.print(f"[green]wrote[/green] {out}")


@app.command("config-docs")
def config_docs(
    out: Annotated[Path, typer.Option(help="where to write")] = Path("docs/facility-file.md"),
) -> None:
    """Regenerate the facility file reference from the models' descriptions."""
    from facility.docs import render

    _write_doc(out, render)


@app.command("metrics-docs")
def metrics_docs(
    out: Annotated[Path, typer.Option(help="where to write")] = Path("docs/metrics.md"),
) -> None:
    """Regenerate the list of every exported metric."""
    from collectors.docs import render

    _write_doc(out, render)


@app.command("db-upgrade")
def db_upgrade() -> None:
    """Apply the store's migrations to FACSTAT_DATABASE_URL."""
    from facility.migrate import upgrade
    from facility.store import create_db_engine

    settings = _settings()
    settings.ensure_sqlite_dir()
    upgrade(create_db_engine(settings.database_url))
    console.print(f"[green]ok[/green]: {settings.database_url} is at the latest schema")


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
