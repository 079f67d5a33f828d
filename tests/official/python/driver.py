"""Every call of Smartcar's Python SDK (``smartcar`` 6.19.1) that sends a request, made as an
application makes it, against whatever the ``SMARTCAR_*`` variables of its environment name.

The SDK reads its origins when it is imported, so they are in the environment before this
program starts, as they would be for any application; nothing here points the SDK anywhere.

It prints one JSON line per call — ``{"call", "raised", "value"}`` or ``{"call", "raised",
"error"}``, values as plain JSON (named tuples as objects, dates as ISO 8601) — and after each
line waits for one line on stdin: an empty acknowledgement after a call, the answer to a
checkpoint (``{"checkpoint": …}``) otherwise:

- ``connect``: the Connect URL was built; the answer is what the redirect after Connect carried
  (``code``) and what the application's user typed or the test prepared: the ``vin`` and
  ``make`` to check compatibility for, the ``vehicle_id`` to use if ``get_vehicles`` fails, and
  another user's id (``other_user_id``) whose connections the management API deletes;
- ``commands``: the commands were sent; answered once the test has looked at the car.

``driver.py tutorial`` runs the flow of Smartcar's getting-started application instead:
``/login`` (the Connect URL), ``/exchange`` (``exchange_code``) and ``/vehicle``
(``get_vehicles``, then the first vehicle's ``attributes``)."""

from __future__ import annotations

import datetime
import enum
import json
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

import smartcar
import smartcar.smartcar as module_functions

#: What the application asks its users for.
SCOPE = [
    "read_vehicle_info", "read_vin", "read_odometer", "read_location", "read_battery",
    "read_charge", "read_fuel", "read_engine_oil", "read_tires", "read_security",
    "read_diagnostics", "read_service_history", "control_security", "control_charge",
    "control_navigation",
]  # fmt: skip
BATCH_PATHS = ["/odometer", "/location", "/charge/limit", "/security", "/tires/pressure"]
DESTINATION = (51.5007, -0.1246)
CHARGE_LIMIT = 1.0


def plain(value: Any) -> Any:
    """``value`` as JSON: named tuples as objects, dates as ISO 8601, header maps as dicts."""
    if hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def error_of(caught: BaseException) -> dict[str, Any]:
    """What an exception says: its class, and a ``SmartcarException``'s fields."""
    fields = {key: plain(item) for key, item in vars(caught).items()}
    return {"class": type(caught).__name__, "message": str(caught), **fields}


def say(line: dict[str, Any]) -> dict[str, Any]:
    """Print a line and read the answer to it."""
    print(json.dumps(line), flush=True)
    answer = sys.stdin.readline()
    return dict(json.loads(answer)) if answer.strip() else {}


def call(name: str, make: Callable[[], Any], shown: Callable[[Any], Any] = plain) -> Any:
    """Make one SDK call and report it; answer its result (``None`` if it raised)."""
    try:
        result = make()
    except Exception as caught:  # noqa: BLE001 - every failure is reported, whatever its class
        say({"call": name, "raised": True, "error": error_of(caught)})
        return None
    say({"call": name, "raised": False, "value": shown(result)})
    return result


def batch_items(result: Any) -> dict[str, Any]:
    """A batch answer: each path's value, or the error its attribute raises."""
    items: dict[str, Any] = {}
    for attribute, item in result._asdict().items():
        if attribute == "meta":
            items[attribute] = plain(item)
            continue
        try:
            items[attribute] = {"raised": False, "value": plain(item())}
        except Exception as caught:  # noqa: BLE001 - the SDK raises the item's error when read
            items[attribute] = {"raised": True, "error": error_of(caught)}
    return items


def every_call() -> None:
    client = smartcar.AuthClient(mode="test")
    url = call("get_auth_url", lambda: client.get_auth_url(SCOPE, {"state": "official-sdk"}))
    given = say({"checkpoint": "connect", "url": url})
    amt = os.environ["APPLICATION_MANAGEMENT_TOKEN"]

    access = call("exchange_code", lambda: client.exchange_code(given["code"]))
    token = access.access_token if access else ""
    refreshed = call("exchange_refresh_token", lambda: client.exchange_refresh_token(access.refresh_token))
    if refreshed is not None:
        token = refreshed.access_token

    user = call("get_user", lambda: smartcar.get_user(token))
    vehicles = call("get_vehicles", lambda: smartcar.get_vehicles(token))
    vehicle_id = vehicles.vehicles[0] if vehicles and vehicles.vehicles else given["vehicle_id"]
    vehicle = smartcar.Vehicle(vehicle_id, token)

    for name in (
        "attributes", "vin", "odometer", "location", "battery", "battery_capacity",
        "nominal_capacity", "charge", "get_charge_limit", "fuel", "engine_oil", "tire_pressure",
        "lock_status", "permissions", "service_history", "diagnostic_system_status",
        "diagnostic_trouble_codes",
    ):  # fmt: skip
        call(name, getattr(vehicle, name))
    call("batch", lambda: vehicle.batch(BATCH_PATHS), batch_items)
    call("request", lambda: vehicle.request("GET", "odometer"))
    call("get_signals", vehicle.get_signals)
    call("get_signal", lambda: vehicle.get_signal("odometer-traveleddistance"))
    # In the module, but not exported by the package (as shipped in 6.19.1).
    call("get_vehicle", lambda: module_functions.get_vehicle(token, vehicle_id))

    call("get_compatibility", lambda: smartcar.get_compatibility(given["vin"], ["read_odometer", "read_location"]))
    call("get_compatibility_matrix", lambda: module_functions.get_compatibility_matrix("US", given["make"]))
    user_id = user.id if user else given["user_id"]
    call("get_connections", lambda: smartcar.get_connections(amt, {"user_id": user_id}))

    call("unlock", vehicle.unlock)
    call("lock", vehicle.lock)
    call("set_charge_limit", lambda: vehicle.set_charge_limit(CHARGE_LIMIT))
    call("start_charge", vehicle.start_charge)
    call("stop_charge", vehicle.stop_charge)
    call("send_destination", lambda: vehicle.send_destination(*DESTINATION))
    say({"checkpoint": "commands"})

    call("delete_connections", lambda: smartcar.delete_connections(amt, {"user_id": given["other_user_id"]}))
    call("disconnect", vehicle.disconnect)


def tutorial() -> None:
    """The getting-started application's three routes, in the order a browser visits them."""
    client = smartcar.AuthClient(mode="test")
    scope = ["read_vehicle_info"]
    login = call("get_auth_url", lambda: client.get_auth_url(scope))  # GET /login: a redirect there
    given = say({"checkpoint": "connect", "url": login})
    access = call("exchange_code", lambda: client.exchange_code(given["code"]))  # GET /exchange
    if access is None:
        return
    result = call("get_vehicles", lambda: smartcar.get_vehicles(access.access_token))  # GET /vehicle
    if result is None:
        return
    vehicle = smartcar.Vehicle(result.vehicles[0], access.access_token)
    call("attributes", vehicle.attributes, lambda a: {"make": a.make, "model": a.model, "year": a.year})


def main() -> None:
    say({"call": "sdk_version", "raised": False, "value": smartcar.__version__})
    if sys.argv[1:] == ["tutorial"]:
        tutorial()
    else:
        every_call()


if __name__ == "__main__":
    main()
