"""Fixtures of the SDK's tests.

``client`` is parametrised over the sync and the async client, so each behaviour test runs on
both (``tests.support.sdk.resolve`` awaits an async call's result and passes a sync one
through). Tests against the real platform use ``on``: an :class:`~tests.support.sdk.Against` of
each flavour around ``sqlite_platform`` from the suite's conftest.
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

import motorpool

from ..support.harness import PlatformHarness
from ..support.sdk import (
    BASE,
    CLIENT_ID,
    CLIENT_SECRET,
    FAST_RETRIES,
    Against,
    Fake,
    FakeHTTPServer,
)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SMARTCAR_* variable (nor MOTORPOOL_URL) of the machine leaks into a test."""
    for name in list(os.environ):
        if name.startswith("SMARTCAR_") or name == "MOTORPOOL_URL":
            monkeypatch.delenv(name)


@pytest.fixture
def fake() -> Fake:
    return Fake()


#: Each client over the network its users get (httpx, aiohttp) on a loopback socket serving the
#: Fake, and over an in-memory ``MockTransport``.
NETWORKED = ["sync", "async"]
IN_MEMORY = ["sync-in-memory", "async-in-memory"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "in_memory_network(reason): the test scripts what a socket cannot do (a refused "
        "connection after the request was made), so it runs over MockTransport only",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "flavour" not in metafunc.fixturenames or any(
        "flavour" in marker.args[0] for marker in metafunc.definition.iter_markers("parametrize")
    ):
        return
    kinds = IN_MEMORY
    if "make_client" in metafunc.fixturenames and metafunc.definition.get_closest_marker("in_memory_network") is None:
        kinds = NETWORKED + IN_MEMORY
    metafunc.parametrize("flavour", kinds)


@pytest.fixture
def served_fake(fake: Fake) -> Iterator[FakeHTTPServer]:
    server = FakeHTTPServer(fake)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
async def make_client(flavour: str, fake: Fake, request: pytest.FixtureRequest) -> AsyncIterator[Callable[..., Any]]:
    """Build a Client or an AsyncClient (per ``flavour``) wired to ``fake``: over a loopback
    socket with the default transports, or in memory."""
    made: list[Any] = []
    served: FakeHTTPServer | None = None
    if not flavour.endswith("in-memory"):
        served = request.getfixturevalue("served_fake")

    def build(**options: Any) -> Any:
        options.setdefault("retry_policy", FAST_RETRIES)
        cls = motorpool.Client if flavour.startswith("sync") else motorpool.AsyncClient
        if served is None:
            options.setdefault("transport", httpx.MockTransport(fake))
            client = cls(CLIENT_ID, CLIENT_SECRET, base_url=BASE, **options)
        else:
            client = cls(CLIENT_ID, CLIENT_SECRET, base_url=served.origin, **options)
        made.append(client)
        return client

    yield build
    for client in made:
        if isinstance(client, motorpool.Client):
            client.close()
        else:
            await client.aclose()


@pytest.fixture
def client(make_client: Callable[..., Any]) -> Any:
    return make_client()


@pytest.fixture(params=["sync", "async"])
def on(request: pytest.FixtureRequest, sqlite_platform: PlatformHarness) -> Against:
    """Clients of each flavour against the real platform (on SQLite)."""
    return Against(str(request.param), sqlite_platform)
