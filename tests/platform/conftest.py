"""Fixtures of the platform's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..support.processes import Served, serve


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``motorpool serve`` on a database of its own, shared by a module's tests: each of them
    leaves the development application's credentials, rate limit and ``.env`` as they were."""
    server = serve(tmp_path_factory.mktemp("served"))
    try:
        yield server
    finally:
        server.stop()
