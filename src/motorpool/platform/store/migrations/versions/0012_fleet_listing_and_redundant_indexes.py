"""An index for reading a large fleet a page at a time (the admin listing); two indexes
another one already begins with dropped

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 03:30:00
"""
from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The admin API's fleet listing: an application's simulated cars oldest first, a keyset
    # page at a time, without sorting the whole fleet for each page.
    op.create_index(
        "ix_vehicles_fleet_listing", "vehicles", ["application_id", "mode", "created_at", "id"]
    )
    # Each is the first column of another index (the fleet's (application_id, id), the
    # connections' unique (user_id, vehicle_id)), which serves every query it served; without
    # them a bulk load of a fleet and its connections keeps two indexes fewer.
    op.drop_index("ix_vehicles_application_id", table_name="vehicles")
    op.drop_index("ix_connections_user_id", table_name="connections")


def downgrade() -> None:
    op.create_index("ix_connections_user_id", "connections", ["user_id"])
    op.create_index("ix_vehicles_application_id", "vehicles", ["application_id"])
    op.drop_index("ix_vehicles_fleet_listing", table_name="vehicles")
