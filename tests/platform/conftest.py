"""Fixtures of the platform's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from ..support.harness import PlatformHarness
from ..support.processes import Served, serve
from ..support.receiver import Receiver


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``motorpool serve`` on a database of its own, shared by a module's tests: each of them
    leaves the development application's credentials, rate limit and ``.env`` as they were."""
    server = serve(tmp_path_factory.mktemp("served"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def receiver(platform: PlatformHarness) -> AsyncIterator[Receiver]:
    """A webhook callback on loopback that answers VERIFY with the application's management
    token and keeps what it receives."""
    started = await Receiver(platform.management_token).start()
    try:
        yield started
    finally:
        await started.stop()
