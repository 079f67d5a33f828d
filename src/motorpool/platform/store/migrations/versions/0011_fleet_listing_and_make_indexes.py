"""Indexes for reading a large fleet a page at a time (the admin listing, Connect's sign-in);
two indexes another one already begins with dropped

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 03:30:00
"""
from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The admin API's fleet listing: an application's simulated cars oldest first, a keyset
    # page at a time, without sorting the whole fleet for each page.
    op.create_index(
        "ix_vehicles_fleet_listing", "vehicles", ["application_id", "mode", "created_at", "id"]
    )
    # Connect's simulated sign-in: a bounded run of one make's cars from a place in id order,
    # and whether the fleet has a make at all (the brand page), each a short index read.
    op.create_index("ix_vehicles_fleet_make", "vehicles", ["application_id", "mode", "make", "id"])
    # Each is the first column of another index (the fleet's (application_id, id), the
    # connections' unique (user_id, vehicle_id)), which serves every query it served; without
    # them a bulk load of a fleet and its connections keeps two indexes fewer.
    op.drop_index("ix_vehicles_application_id", table_name="vehicles")
    op.drop_index("ix_connections_user_id", table_name="connections")


def downgrade() -> None:
    op.create_index("ix_connections_user_id", "connections", ["user_id"])
    op.create_index("ix_vehicles_application_id", "vehicles", ["application_id"])
    op.drop_index("ix_vehicles_fleet_make", table_name="vehicles")
    op.drop_index("ix_vehicles_fleet_listing", table_name="vehicles")
