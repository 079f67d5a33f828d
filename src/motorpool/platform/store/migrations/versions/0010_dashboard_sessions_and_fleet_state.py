"""Dashboard sessions held on the server; indexes for the fleet table's pages and state filter

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 00:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: The vehicle's activity (parked, driving, charging) and since when it is offline, read from its
#: state record as the fleet query writes them (store.fleet_queries), so the planner uses them.
ACTIVITY = {
    "sqlite": "json_extract(state, '$.activity.kind')",
    "postgresql": "((state -> 'activity') ->> 'kind')",
}
#: The nickname lower-cased, compared code point by code point (the search's prefix range).
NICKNAME = {
    "sqlite": "lower(nickname)",
    "postgresql": "(lower(nickname) COLLATE \"C\")",
}
OFFLINE_SINCE = {
    "sqlite": "json_extract(state, '$.offline_since')",
    "postgresql": "CAST((state ->> 'offline_since') AS DOUBLE PRECISION)",
}


def upgrade() -> None:
    op.create_table(
        "dashboard_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_sessions")),
    )
    op.create_index(op.f("ix_dashboard_sessions_expires_at"), "dashboard_sessions", ["expires_at"])
    # An application's vehicles in id order: the fleet table's keyset pages read this range
    # instead of sorting the whole fleet for each page.
    op.create_index("ix_vehicles_fleet_page", "vehicles", ["application_id", "id"])
    # The search's model branch (a model's vehicles of an application, in id order) and its VIN
    # prefix branch (a range of an application's VINs).
    op.create_index("ix_vehicles_fleet_model", "vehicles", ["application_id", "model", "id"])
    op.create_index("ix_vehicles_fleet_vin", "vehicles", ["application_id", "vin"])
    dialect = op.get_bind().dialect.name
    if dialect in ACTIVITY:
        op.execute(
            f"CREATE INDEX ix_vehicles_fleet_activity ON vehicles (application_id, {ACTIVITY[dialect]}, id)"
        )
        # Only the vehicles with an offline time (few): in id order, so an "offline" page is a
        # short read of this index, not a sort.
        op.execute(
            "CREATE INDEX ix_vehicles_fleet_offline ON vehicles (application_id, id) "
            f"WHERE {OFFLINE_SINCE[dialect]} IS NOT NULL"
        )
        op.execute(f"CREATE INDEX ix_vehicles_fleet_nickname ON vehicles (application_id, {NICKNAME[dialect]})")


def downgrade() -> None:
    if op.get_bind().dialect.name in ACTIVITY:
        op.drop_index("ix_vehicles_fleet_nickname", table_name="vehicles")
        op.drop_index("ix_vehicles_fleet_offline", table_name="vehicles")
        op.drop_index("ix_vehicles_fleet_activity", table_name="vehicles")
    op.drop_index("ix_vehicles_fleet_vin", table_name="vehicles")
    op.drop_index("ix_vehicles_fleet_model", table_name="vehicles")
    op.drop_index("ix_vehicles_fleet_page", table_name="vehicles")
    op.drop_index(op.f("ix_dashboard_sessions_expires_at"), table_name="dashboard_sessions")
    op.drop_table("dashboard_sessions")
