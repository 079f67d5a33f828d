"""Fixtures of the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..support.up import Up, start_up


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    """One ``motorpool up`` in a directory of its own, shared by a module's tests."""
    up = start_up(tmp_path_factory.mktemp("up"))
    try:
        yield up
    finally:
        up.kill()
