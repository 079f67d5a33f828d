"""Connections paged from an index: (application, created_at, id) and (application, user, created_at, id)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 00:20:00
"""
from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_connections_app_created", table_name="connections")
    op.create_index(
        "ix_connections_app_created_id", "connections", ["application_id", "created_at", "id"]
    )
    op.create_index(
        "ix_connections_app_user_created_id",
        "connections",
        ["application_id", "user_id", "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_connections_app_user_created_id", table_name="connections")
    op.drop_index("ix_connections_app_created_id", table_name="connections")
    op.create_index("ix_connections_app_created", "connections", ["application_id", "created_at"])
