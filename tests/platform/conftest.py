"""Fixtures of the platform's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..support.processes import Served, serve


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """``motorpool serve`` on a fresh database of its own, in ``tmp_path``."""
    server = serve(tmp_path)
    try:
        yield server
    finally:
        server.stop()
