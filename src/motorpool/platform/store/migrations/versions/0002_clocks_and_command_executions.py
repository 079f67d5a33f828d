"""application clocks and command executions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 20:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("clock", sa.JSON(), nullable=True))
    op.create_table(
        "command_executions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("vehicle_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("executed_ms", sa.BigInteger(), nullable=False),
        sa.Column("due_ms", sa.BigInteger(), nullable=False),
        sa.Column("completed_ms", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"], ["applications.id"],
            name=op.f("fk_command_executions_application_id_applications"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicles.id"],
            name=op.f("fk_command_executions_vehicle_id_vehicles"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_command_executions")),
    )
    op.create_index("ix_command_executions_vehicle", "command_executions", ["vehicle_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_command_executions_vehicle", table_name="command_executions")
    op.drop_table("command_executions")
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("clock")
