"""Indexes for the fleet table at a million vehicles: make, powertrain and the asleep cars

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 03:40:00
"""
from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

#: When a parked car fell (or falls) asleep, read from its state record as store.fleet_queries
#: writes it, so the planner matches the partial index's condition.
ASLEEP_AT = {
    "sqlite": "json_extract(state, '$.activity.asleep_at')",
    "postgresql": "CAST(((state -> 'activity') ->> 'asleep_at') AS DOUBLE PRECISION)",
}


def upgrade() -> None:
    # A make's or a powertrain's vehicles in id order: a filtered page, and its count, read that
    # range instead of the whole fleet in id order (a rare make is a few in a hundred). The
    # make's, with the mode, also serves Connect's simulated sign-in (a bounded run of one make's
    # cars from a place in id order) and its brand page (whether the fleet has a make at all).
    op.create_index("ix_vehicles_fleet_make", "vehicles", ["application_id", "mode", "make", "id"])
    op.create_index("ix_vehicles_fleet_powertrain", "vehicles", ["application_id", "powertrain", "id"])
    dialect = op.get_bind().dialect.name
    if dialect in ASLEEP_AT:
        # Only the cars with a time to fall asleep (those put to sleep: few), in id order, so an
        # "asleep" page never reads every parked car to find none.
        op.execute(
            "CREATE INDEX ix_vehicles_fleet_asleep ON vehicles (application_id, id) "
            f"WHERE {ASLEEP_AT[dialect]} IS NOT NULL"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name in ASLEEP_AT:
        op.drop_index("ix_vehicles_fleet_asleep", table_name="vehicles")
    op.drop_index("ix_vehicles_fleet_powertrain", table_name="vehicles")
    op.drop_index("ix_vehicles_fleet_make", table_name="vehicles")
