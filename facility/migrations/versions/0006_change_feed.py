"""change feed (SSE, cross-process notifications); one open incident per key; current_status.version; ingest keys

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import facility.tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", facility.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("resources", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_at"), ["at"], unique=False)
    with op.batch_alter_table("current_status", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("version", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_index(batch_op.f("ix_current_status_version"), ["version"], unique=False)
    op.create_table(
        "ingest_key",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("at", facility.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("ingest_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ingest_key_at"), ["at"], unique=False)
    open_ = sa.text(facility.tables.OPEN_INCIDENT)
    op.create_index(
        "ux_incident_open_key",
        "incident",
        ["key"],
        unique=True,
        sqlite_where=open_,
        postgresql_where=open_,
    )


def downgrade() -> None:
    op.drop_table("ingest_key")
    with op.batch_alter_table("current_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_current_status_version"))
        batch_op.drop_column("version")
    op.drop_index("ux_incident_open_key", table_name="incident")
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_at"))
    op.drop_table("change")
