"""Several processes starting at once on one empty PostgreSQL database (machines of one
deployment, a CI farm's jobs): the migrations run once and one development application is made;
every process starts."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from motorpool.platform.services.runtime import start_platform
from motorpool.platform.store.models import Application, Owner

from ..support.harness import platform_settings
from ..support.requirements import required_env
from ..support.scale_out import fresh_database


@pytest.fixture
def empty_database() -> Iterator[str]:
    url = required_env("MOTORPOOL_TEST_DATABASE_URL", "PostgreSQL")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with fresh_database(url, f"firststart_{worker}") as fresh:
        yield fresh


async def test_three_processes_starting_at_once_make_one_first_start(empty_database: str) -> None:
    starting = [start_platform(platform_settings(empty_database)) for _ in range(3)]
    platforms = await asyncio.gather(*starting)
    try:
        firsts = [p.first_start for p in platforms if p.first_start is not None]
        assert len(firsts) == 1, "more than one process made the first start"
        async with platforms[0].sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Application)) == 1
            owners = await session.scalar(select(func.count()).select_from(Owner))
        assert owners == len(firsts[0].owners)
    finally:
        for platform in platforms:
            await platform.close()
