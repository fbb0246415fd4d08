"""Process settings, from the environment (`FACSTAT_*`) or a `.env` file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from facility.errors import ConfigError, Issue

DEFAULT_DB = "sqlite:///var/facstat.db"
_DEFAULT_SECRETS = {"", "changeme", "change-me", "secret", "facstat"}


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
    base_url: str = Field("http://127.0.0.1:8000", description="public URL, for links in responses")
    observation_retention: timedelta = Field(
        timedelta(days=7), description="how long raw observations are kept"
    )
    tick_interval: float = Field(
        1.0, gt=0, description="seconds between staleness/maintenance checks"
    )
    run_collectors: bool = Field(True, description="run the facility's collectors in this process")
    demo: bool = Field(False, description="simulate the facility's sources (facstat demo)")
    otel_exporter: Literal["none", "console", "otlp"] = Field("none", description="trace exporter")
    otel_endpoint: str | None = Field(None, description="OTLP/HTTP endpoint for traces")
    max_body_bytes: int = Field(4 * 1024 * 1024, gt=0, description="largest accepted request body")
    event_loop: Literal["asyncio", "uvloop", "auto"] = Field(
        "asyncio",
        description="uvicorn's event loop; asyncio gave a shorter latency tail than uvloop here (bench/)",
    )
    bench_floor: bool = Field(False, description="serve /api/v1/_floor (benchmarks only)")

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment != "production":
            return self
        token = self.collector_token.get_secret_value() if self.collector_token else ""
        if token.strip().lower() in _DEFAULT_SECRETS or len(token) < 16:
            raise ValueError(
                "collector_token must be set to a secret of 16+ characters in production"
            )
        return self

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
