"""Alembic environment: uses the engine handed over by `facility.migrate`."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import facility.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
engine = config.attributes.get("engine")


def run() -> None:
    if engine is None:
        context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    with engine.connect() as conn:
        context.configure(
            connection=conn,
            target_metadata=SQLModel.metadata,
            render_as_batch=conn.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run()
