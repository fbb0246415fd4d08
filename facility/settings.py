"""Process settings, from the environment (`FACSTAT_*`) or a `.env` file."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from facility.errors import ConfigError, Issue

DEFAULT_DB = "sqlite:///var/facstat.db"
_DEFAULT_SECRETS = {"", "changeme", "change-me", "secret", "facstat"}
_ORIGIN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")  # CORS


def demo_facility_file() -> Path:
    """The shipped demo facility, from a source checkout or an installed wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "examples", here / "_examples"):
        if (candidate / "demo-facility.yaml").is_file():
            return candidate / "demo-facility.yaml"
    raise FileNotFoundError("demo-facility.yaml is not shipped with this installation")


class Settings(BaseSettings):
    """One per process. Every field can be set as `FACSTAT_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="FACSTAT_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = Field(
        "development", description="production refuses default or missing secrets"
    )
    database_url: str = Field(
        DEFAULT_DB, description="SQLAlchemy URL: sqlite:///… or postgresql+psycopg://…"
    )
    facility_file: Path | None = Field(
        None, description="facility YAML; the demo facility if unset"
    )
    collector_token: SecretStr | None = Field(
        None, description="bearer token collectors use for POST /api/v1/observations"
    )
    operator_token: SecretStr | None = Field(
        None, description="bearer token operators use to write maintenance windows and schedules"
    )
    admin_token: SecretStr | None = Field(
        None,
        description=(
            "bootstrap bearer token with the admin scope (issue API tokens, read the audit "
            "log); unset: admins use `facstat tokens create` against the store"
        ),
    )
    token_max_lifetime: timedelta = Field(
        timedelta(days=90), gt=timedelta(0), description="longest lifetime an API token may have"
    )
    oidc_issuer: str | None = Field(None, description="OIDC: the `iss` a JWT bearer must carry")
    oidc_audience: str | None = Field(None, description="OIDC: the `aud` a JWT bearer must name")
    oidc_jwks_url: str | None = Field(
        None, description="OIDC: URL of the issuer's JWKS; unset: JWT bearers are refused"
    )
    oidc_scope_claim: str = Field(
        "scope", description="OIDC: claim holding facstat scopes (space-separated or a list)"
    )
    oidc_cache_seconds: float = Field(
        300.0, gt=0, description="OIDC: how long a fetched JWKS is used before it is fetched again"
    )
    oidc_refetch_seconds: float = Field(
        30.0, ge=0, description="OIDC: least time between fetches caused by an unknown key id"
    )
    session_secret: SecretStr | None = Field(
        None,
        description=(
            "key that signs staff sign-in session cookies (HMAC-SHA256), 32+ characters; "
            "unset: a random key per process (development only: sessions end on restart "
            "and are not shared between processes)"
        ),
    )
    fetch_timeout: float = Field(
        10.0, gt=0, description="seconds allowed to fetch a calendar or schedule URL"
    )
    smtp_host: str | None = Field(None, description="SMTP relay for e-mail subscriptions")
    smtp_port: int = Field(25, ge=1, le=65535, description="port of the SMTP relay")
    smtp_sender: str = Field("facstat@localhost", description="From: of subscription e-mails")
    base_url: str = Field("http://127.0.0.1:8000", description="public URL, for links in responses")
    observation_retention: timedelta = Field(
        timedelta(days=7), description="how long raw observations are kept"
    )
    tick_interval: float = Field(
        1.0, gt=0, description="seconds between staleness/maintenance checks"
    )
    page_interval: float = Field(
        2.0, gt=0, description="seconds between checks for incident pages and escalations"
    )
    stream_heartbeat: float = Field(
        15.0, gt=0, le=300, description="seconds between SSE heartbeats on /api/v1/stream"
    )
    change_poll_interval: float = Field(
        1.0,
        gt=0,
        description="seconds between change-feed polls on SQLite (PostgreSQL is notified)",
    )
    run_collectors: bool = Field(True, description="run the facility's collectors in this process")
    demo: bool = Field(False, description="simulate the facility's sources (facstat demo)")
    otel_exporter: Literal["none", "console", "otlp"] = Field("none", description="trace exporter")
    otel_endpoint: str | None = Field(None, description="OTLP/HTTP endpoint for traces")
    max_body_bytes: int = Field(4 * 1024 * 1024, gt=0, description="largest accepted request body")
    rate_limit_per_minute: int = Field(
        1200, ge=0, description="requests per minute per client address and per token; 0: no limit"
    )
    rate_limit_burst: int = Field(
        300, ge=1, description="requests a client or token may send at once before the rate applies"
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="origins whose browser scripts may call the API (comma-separated); none: CORS off",
    )
    event_loop: Literal["asyncio", "uvloop", "auto"] = Field(
        "asyncio",
        description="uvicorn's event loop; asyncio gave a shorter latency tail than uvloop here (bench/)",
    )
    bench_floor: bool = Field(False, description="serve /api/v1/_floor (benchmarks only)")

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment != "production":
            return self
        for name in ("collector_token", "operator_token"):
            secret = getattr(self, name)
            token = secret.get_secret_value() if secret else ""
            if token.strip().lower() in _DEFAULT_SECRETS or len(token) < 16:
                raise ValueError(f"{name} must be set to a secret of 16+ characters in production")
        admin = self.admin_token.get_secret_value() if self.admin_token else None
        if admin is not None and (admin.strip().lower() in _DEFAULT_SECRETS or len(admin) < 16):
            raise ValueError("admin_token must be a secret of 16+ characters in production")
        key = self.session_secret.get_secret_value() if self.session_secret else ""
        if key.strip().lower() in _DEFAULT_SECRETS or len(key) < 32:
            raise ValueError("session_secret must be a secret of 32+ characters in production")
        return self

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        if self.oidc_jwks_url and not (self.oidc_issuer and self.oidc_audience):
            raise ValueError("oidc_jwks_url needs oidc_issuer and oidc_audience too")
        return self

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):  # FACSTAT_CORS_ORIGINS=https://a.example,https://b.example
            return [o.strip() for o in value.split(",") if o.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(f"{origin!r} is not an origin like https://host[:port] or *")
        return value

    def facility_path(self) -> Path:
        return self.facility_file or demo_facility_file()

    def ensure_sqlite_dir(self) -> None:
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            Path(self.database_url[len(prefix) :]).parent.mkdir(parents=True, exist_ok=True)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, or a ConfigError naming the bad variable."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        issues = [
            Issue("FACSTAT_" + "_".join(str(p) for p in e["loc"]).upper(), e["msg"])
            for e in exc.errors()
        ]
        raise ConfigError("settings", issues) from exc
