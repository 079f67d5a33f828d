"""Tests whose server or program is missing: skipped with their reason on a developer's machine,
failed under CI (``CI=true``), where everything they need is installed and a skip would hide a
suite that never ran them."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def under_ci() -> bool:
    return os.environ.get("CI") == "true"


def missing(reason: str) -> NoReturn:
    """Skip the current test for ``reason``, or fail it under CI."""
    if under_ci():
        pytest.fail(f"{reason} (CI=true: this test must run, not skip)", pytrace=False)
    pytest.skip(reason)


def required_env(name: str, what: str) -> str:
    """The value of the environment variable ``name``; without it the test is ``missing``."""
    value = os.environ.get(name)
    if not value:
        missing(f"{what} tests need {name}")
    return value
