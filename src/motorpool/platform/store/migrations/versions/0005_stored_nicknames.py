"""vehicles keep the nickname their simulation drew

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 10:00:00

A vehicle's ``VehicleIdentification.Nickname`` signal now reports ``vehicles.nickname``. Vehicles
stored without one reported the name their simulated state drew: store that name, so what API
clients have read stays what they read.
"""
from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        drawn = "state ->> 'nickname'"
    else:
        drawn = "json_extract(state, '$.nickname')"
    op.execute(f"UPDATE vehicles SET nickname = COALESCE({drawn}, '') WHERE nickname = ''")


def downgrade() -> None:
    pass  # the stored names are kept: they are what the signal reported before too
