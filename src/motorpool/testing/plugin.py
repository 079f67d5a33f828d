"""The pytest plugin (entry point ``pytest11``): the ``motorpool_platform`` fixture and the
``motorpool_scenario`` mark.

One platform per test session (per worker under xdist), started on first use; every test that
asks for the fixture gets it reset to its state right after start — the development
application with the same credentials, its fleet, no connections, the clock frozen at the same
instant — and then loaded with the scenarios its marks name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ._platform import MotorpoolPlatform


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "motorpool_scenario(path): load this scenario file (TOML, YAML or JSON; relative to the "
        "test's file) into motorpool_platform before the test",
    )


@pytest.fixture(scope="session")
def motorpool_session_platform() -> Iterator[MotorpoolPlatform]:
    """The session's platform, started once; tests use ``motorpool_platform``."""
    with MotorpoolPlatform() as platform:
        yield platform


@pytest.fixture
def motorpool_platform(
    request: pytest.FixtureRequest, motorpool_session_platform: MotorpoolPlatform
) -> MotorpoolPlatform:
    """A real motorpool platform, reset for this test, with its marked scenarios loaded (the
    ids they made are in ``motorpool_platform.loaded``, by file name)."""
    platform = motorpool_session_platform
    platform.reset()
    platform.loaded = {}
    for mark in reversed(list(request.node.iter_markers("motorpool_scenario"))):
        for source in mark.args:
            path = Path(source)
            if not path.is_absolute():
                beside = Path(str(request.node.path)).parent / path
                path = beside if beside.exists() else Path(str(request.config.rootpath)) / path
            platform.loaded[path.name] = platform.scenario(path)
    return platform
