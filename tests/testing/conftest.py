"""What the CLI and testing modules share: one ``MotorpoolPlatform`` per module (its tests reset
it as they need) and a CLI runner with plain help text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from motorpool import cli
from motorpool.testing import MotorpoolPlatform


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    cli._plain_help()
    return CliRunner()


@pytest.fixture(scope="module")
def mp() -> Iterator[MotorpoolPlatform]:
    with MotorpoolPlatform() as platform:
        yield platform
