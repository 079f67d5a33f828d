"""Migrations that change stored data, run from the revision before them on a database that
holds rows."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, text

from motorpool.platform.store.db import alembic_config


def _migrate(url: str, revision: str) -> None:
    from alembic import command

    engine = create_engine(url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    engine.dispose()


def test_vehicles_stored_without_a_nickname_keep_the_one_they_reported(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _migrate(url, "0004")
    engine = create_engine(url)
    with engine.begin() as connection:
        for vehicle_id, stored, drawn in (("a", "", "Comet"), ("b", "Named", "Other"), ("c", "", "")):
            connection.execute(
                text(
                    "INSERT INTO vehicles (id, vin, make, model, year, powertrain, mode, nickname, seed,"
                    " state, version, created_at) VALUES (:id, 'VIN', 'TESLA', 'Model 3', 2024, 'BEV',"
                    " 'simulated', :nickname, 1, :state, 1, '2026-01-01 00:00:00')"
                ),
                {"id": vehicle_id, "nickname": stored, "state": json.dumps({"nickname": drawn})},
            )
    _migrate(url, "0005")
    with engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT id, nickname FROM vehicles")).all())
    engine.dispose()
    assert rows == {"a": "Comet", "b": "Named", "c": ""}
