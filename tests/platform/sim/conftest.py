"""Helpers shared by the simulation tests (the simulation is pure, so no app is needed)."""

from __future__ import annotations

from typing import Any

import pytest

from motorpool.platform.sim import catalogue
from motorpool.platform.sim.catalogue import ModelSpec

#: A fixed instant (2026-05-28T20:26:40Z), so tests do not depend on the wall clock.
T0 = 1_780_000_000_000
MINUTE = 60_000
HOUR = 3_600_000
DAY = 86_400_000

ALL_MODELS = catalogue.models()


def model(make: str, name: str) -> ModelSpec:
    spec = catalogue.find_model(make, name)
    assert spec is not None, (make, name)
    return spec


def body(readings: dict[str, Any], code: str) -> Any:
    reading = readings[code]
    assert reading.error is None, (code, reading.error)
    return reading.body


@pytest.fixture(params=ALL_MODELS, ids=lambda m: f"{m.make}-{m.model}")
def any_model(request: pytest.FixtureRequest) -> ModelSpec:
    return request.param  # type: ignore[no-any-return]
