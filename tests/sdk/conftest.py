"""Fixtures of the SDK's tests.

``client`` is parametrised over the sync and the async client, so each behaviour test runs on
both (``tests.support.sdk.resolve`` awaits an async call's result and passes a sync one
through). Tests against the real platform use ``on``: an :class:`~tests.support.sdk.Against` of
each flavour around ``sqlite_platform`` from the suite's conftest.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import motorpool

from ..support.harness import PlatformHarness
from ..support.sdk import BASE, CLIENT_ID, CLIENT_SECRET, FAST_RETRIES, Against, Fake


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SMARTCAR_* variable (nor MOTORPOOL_URL) of the machine leaks into a test."""
    for name in list(os.environ):
        if name.startswith("SMARTCAR_") or name == "MOTORPOOL_URL":
            monkeypatch.delenv(name)


@pytest.fixture
def fake() -> Fake:
    return Fake()


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_client(flavour: str, fake: Fake) -> Iterator[Callable[..., Any]]:
    """Build a Client or an AsyncClient (per ``flavour``) wired to ``fake``."""
    made: list[Any] = []

    def build(**options: Any) -> Any:
        options.setdefault("retry_policy", FAST_RETRIES)
        transport = httpx.MockTransport(fake)
        cls = motorpool.Client if flavour == "sync" else motorpool.AsyncClient
        client = cls(CLIENT_ID, CLIENT_SECRET, base_url=BASE, transport=transport, **options)
        made.append(client)
        return client

    yield build
    for client in made:
        if isinstance(client, motorpool.Client):
            client.close()


@pytest.fixture
def client(make_client: Callable[..., Any]) -> Any:
    return make_client()


@pytest.fixture(params=["sync", "async"])
def on(request: pytest.FixtureRequest, sqlite_platform: PlatformHarness) -> Against:
    """Clients of each flavour against the real platform (on SQLite)."""
    return Against(str(request.param), sqlite_platform)
