"""``Client`` and ``AsyncClient`` offer the same calls: every public method of each client and
of each of its resources has a twin with the same parameters (names, kinds, defaults) and the
same docstring, the async one awaited. The few deliberate differences are listed here."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import motorpool
from motorpool.sdk import _client

#: Resource attribute → (sync class, async class).
RESOURCES = {
    "connections": (_client.Connections, _client.AsyncConnections),
    "users": (_client.Users, _client.AsyncUsers),
    "vehicles": (_client.Vehicles, _client.AsyncVehicles),
    "signals": (_client.Signals, _client.AsyncSignals),
    "commands": (_client.Commands, _client.AsyncCommands),
    "charge_schedules": (_client.ChargeSchedules, _client.AsyncChargeSchedules),
    "webhooks": (_client.Webhooks, _client.AsyncWebhooks),
    "subscriptions": (_client.Subscriptions, _client.AsyncSubscriptions),
}
#: Closing is ``close``/``__exit__`` on one side and ``aclose``/``__aexit__`` on the other.
RENAMED = {"close": "aclose", "__enter__": "__aenter__", "__exit__": "__aexit__"}
#: Only the async client chooses between two HTTP libraries.
ASYNC_ONLY_PARAMETERS = {"__init__": {"http_backend"}}
#: A sync fleet read blocks a thread per request, an async one does not: their defaults differ.
DIFFERENT_DEFAULTS = {("signals", "list_many", "max_in_flight")}
#: Methods whose docstrings say how each flavour is used (a pager is iterated or awaited).
OWN_DOCSTRINGS = {("connections", "list"), ("webhooks", "list"), ("subscriptions", "list"), ("signals", "list_many")}


def public_methods(cls: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") or name in ("__init__", "__enter__", "__exit__", "__aenter__", "__aexit__")
    }


def parameters(function: Any, skip: set[str], resource: str, method: str) -> list[tuple[str, Any, Any]]:
    return [
        (p.name, p.kind, None if (resource, method, p.name) in DIFFERENT_DEFAULTS else p.default)
        for p in inspect.signature(function).parameters.values()
        if p.name not in skip
    ]


PAIRS = [("client", motorpool.Client, motorpool.AsyncClient), *((name, *pair) for name, pair in RESOURCES.items())]


@pytest.mark.parametrize(("name", "sync", "async_"), PAIRS, ids=[pair[0] for pair in PAIRS])
def test_each_method_has_an_async_twin(name: str, sync: type, async_: type) -> None:
    sync_methods = public_methods(sync)
    async_methods = public_methods(async_)
    assert {RENAMED.get(m, m) for m in sync_methods} == set(async_methods)
    for method, function in sync_methods.items():
        twin = async_methods[RENAMED.get(method, method)]
        skip = ASYNC_ONLY_PARAMETERS.get(method, set())
        assert parameters(function, set(), name, method) == parameters(twin, skip, name, method), f"{name}.{method}"
        if method not in RENAMED and method != "__init__" and (name, method) not in OWN_DOCSTRINGS:
            assert inspect.getdoc(function) == inspect.getdoc(twin), f"{name}.{method}"


@pytest.mark.parametrize(("name", "sync", "async_"), PAIRS[1:], ids=[pair[0] for pair in PAIRS[1:]])
def test_the_async_twins_are_awaited(name: str, sync: type, async_: type) -> None:
    for method, function in public_methods(async_).items():
        if method == "__init__" or (method == "list" and name in ("connections", "webhooks", "subscriptions")):
            continue  # a pager: iterate with `async for`, or await it for the first page
        sync_twin = public_methods(sync).get(method)
        assert sync_twin is not None and not inspect.iscoroutinefunction(sync_twin)
        assert inspect.iscoroutinefunction(function), f"{name}.{method}"


def test_both_clients_have_the_same_resources() -> None:
    sync = motorpool.Client("cid", "sec", base_url="http://127.0.0.1:9")
    async_client = motorpool.AsyncClient("cid", "sec", base_url="http://127.0.0.1:9")
    for attribute, (sync_cls, async_cls) in RESOURCES.items():
        assert type(getattr(sync, attribute)) is sync_cls
        assert type(getattr(async_client, attribute)) is async_cls
    sync.close()
