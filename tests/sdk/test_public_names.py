"""The public surface: one list of names in ``motorpool.__all__``, each documented."""

from __future__ import annotations

import subprocess
import sys

import motorpool
from motorpool.sdk import _auth, _client, _config, _errors, _models, _pagination, _webhooks

MODULES = (_auth, _client, _config, _errors, _models, _pagination, _webhooks)


def test_all_lists_each_public_name_once_and_sorted() -> None:
    assert len(motorpool.__all__) == len(set(motorpool.__all__))
    assert motorpool.__all__ == sorted(motorpool.__all__)


def test_all_is_exactly_what_the_private_modules_export() -> None:
    exported = [name for module in MODULES for name in module.__all__]
    assert len(exported) == len(set(exported)), "a name is exported by two modules"
    assert set(motorpool.__all__) == set(exported)


def test_every_public_name_resolves_and_is_documented() -> None:
    for name in motorpool.__all__:
        value = getattr(motorpool, name)
        assert value.__doc__ and value.__doc__.strip(), f"{name} has no docstring"


def test_public_methods_of_the_clients_are_documented() -> None:
    for cls in (motorpool.Client, motorpool.AsyncClient, motorpool.AuthClient):
        for attribute, value in vars(cls).items():
            if not attribute.startswith("_") and callable(value):
                assert value.__doc__, f"{cls.__name__}.{attribute} has no docstring"
    client = motorpool.Client("id", "secret")
    resources = [value for name, value in vars(client).items() if not name.startswith("_")]
    assert {type(r).__name__ for r in resources} >= {"Connections", "Signals", "Commands", "Subscriptions"}
    for resource in resources:
        for attribute in dir(resource):
            if not attribute.startswith("_"):
                assert getattr(resource, attribute).__doc__, f"{type(resource).__name__}.{attribute}"
    client.close()


def test_unknown_names_raise_attribute_error() -> None:
    try:
        motorpool.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as error:
        assert "NoSuchThing" in str(error)
    else:
        raise AssertionError("expected AttributeError")


def test_importing_the_package_does_not_load_the_http_stack() -> None:
    # The platform and the CLI import motorpool too; they must not pay for the SDK's imports.
    code = "import sys, motorpool; print('aiohttp' in sys.modules, 'motorpool.sdk' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    code = "import sys, motorpool; motorpool.Client; print('motorpool.sdk' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True"]


def test_py_typed_marker_ships() -> None:
    from importlib.resources import files

    assert files("motorpool").joinpath("py.typed").is_file()
