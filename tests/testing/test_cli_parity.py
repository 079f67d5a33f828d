"""Every CLI command, walked: help that names each value by a real metavar (never ``<str>`` or
``<bool>``), and ``--json`` on every command that prints a resource, answering one JSON document
against a real platform. ``vehicles show`` reads a vehicle as the control plane sees it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from motorpool import cli
from motorpool.testing import MotorpoolPlatform


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield path, command


def test_every_command_names_its_values_and_offers_json(runner: CliRunner) -> None:
    walked = list(_commands(typer.main.get_command(cli.app)))
    assert len(walked) > 50
    without_json = set()
    for path, command in walked:
        shown = runner.invoke(cli.app, [*path, "--help"])
        assert shown.exit_code == 0, (path, shown.output)
        typed = re.findall(r"<\w+>", shown.output)
        assert not typed, f"motorpool {' '.join(path)} --help shows {typed}:\n{shown.output}"
        if not any("--json" in getattr(param, "opts", ()) for param in command.params):
            without_json.add(" ".join(path))
    assert not without_json, f"commands without --json: {sorted(without_json)}"


def _json(runner: CliRunner, *args: str) -> Any:
    answered = runner.invoke(cli.app, [*args, "--json"])
    assert answered.exit_code == 0, (args, answered.output)
    return json.loads(answered.stdout)


def test_commands_that_change_things_answer_json(
    runner: CliRunner, mp: MotorpoolPlatform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mp.reset()
    monkeypatch.chdir(tmp_path)
    admin = ["--url", mp.url, "--admin-token", mp.admin_token]
    app = ["--application", mp.application_id]

    made = _json(runner, "apps", "create", "Fleet tool", "--redirect-uri", "http://localhost:9000/cb", *admin)
    assert made["clientId"].startswith("client_") and made["clientSecret"]
    new_app = made["id"]
    uris = _json(runner, "apps", "add-redirect-uri", new_app, "http://localhost:9001/cb", *admin)
    assert "http://localhost:9001/cb" in uris["redirectUris"]
    secret = _json(runner, "apps", "create-secret", new_app, *admin)
    assert _json(runner, "apps", "revoke-secret", new_app, secret["id"], *admin)["revokedAt"]
    token = _json(runner, "apps", "management-token", new_app, *admin)
    assert token == {"applicationId": new_app, "managementToken": token["managementToken"]}
    assert _json(runner, "apps", "rate-limit", new_app, "--vehicle-per-minute", "30", *admin)["vehicleRequestsPerMinute"] == 30
    assert _json(runner, "apps", "connect-permissions", new_app, "-p", "read_vin", *admin)["permissions"] == ["read_vin"]

    vehicle = _json(runner, "vehicles", "create", *app, "--make", "TESLA", "--powertrain", "BEV", *admin)
    assert vehicle["make"] == "TESLA"
    vid = vehicle["id"]
    assert _json(runner, "vehicles", "plug", vid, "--start", *admin)["plugged"] is True
    assert _json(runner, "vehicles", "open", vid, "trunk", *admin)["vehicleId"] == vid
    assert _json(runner, "vehicles", "online", vid, "--offline", *admin)["vehicleId"] == vid
    assert _json(runner, "vehicles", "online", vid, *admin)["vehicleId"] == vid
    assert _json(runner, "vehicles", "wake", vid, *admin)["vehicleId"] == vid
    assert _json(runner, "signals", "set", vid, "tractionbattery-stateofcharge", '{"value": 42}', *admin)["vehicleId"] == vid
    clock = _json(runner, "clock", "advance", "15m", *app, *admin)
    assert clock["frozen"] is True
    assert _json(runner, "clock", "resume", *app, *admin)["frozen"] is False
    assert _json(runner, "clock", "freeze", *app, *admin)["frozen"] is True
    assert _json(runner, "clock", "set", "--rate", "0", *app, *admin)["rate"] == 0

    keys = _json(runner, "keys", "list", *admin)
    rotated = _json(runner, "keys", "rotate", *admin)
    assert rotated["signing"] is True and rotated["kid"] not in {k["kid"] for k in keys}
    _json(runner, "snapshot", "save", "parity", *admin)
    assert _json(runner, "snapshot", "delete", "parity", *admin) == {"name": "parity", "deleted": True}

    env_file = tmp_path / "credentials.env"
    env_file.write_text(f"SMARTCAR_CLIENT_ID={mp.client_id}\nSMARTCAR_CLIENT_SECRET={mp.client_secret}\n")
    assert _json(runner, "env", "--env-file", str(env_file))["SMARTCAR_CLIENT_ID"] == mp.client_id
    assert Path(_json(runner, "ca", "path", "--data-dir", str(tmp_path / "data"))["ca"]).is_file()


def test_webhook_commands_answer_json(
    runner: CliRunner, mp: MotorpoolPlatform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mp.reset()
    monkeypatch.chdir(tmp_path)
    admin = ["--platform", mp.url, "--admin-token", mp.admin_token]
    # Nothing listens there: the webhook is made, but not verified.
    made = _json(runner, "webhooks", "create", "--name", "Trips", "--url", "http://127.0.0.1:9/hook",
                 "--trigger", "tractionbattery-stateofcharge", "--application", mp.application_id, *admin)  # fmt: skip
    hook = made["id"]
    refused = runner.invoke(cli.app, ["webhooks", "verify", hook, *admin, "--json"])
    assert refused.exit_code == 1  # a callback that does not pass fails the command, --json or not
    assert json.loads(refused.stdout)["meta"]["verified"] is False
    assert isinstance(_json(runner, "webhooks", "deliveries", hook, *admin), list)
    assert _json(runner, "webhooks", "delete", hook, *admin) == {"id": hook, "deleted": True}


def _chargeable_tesla(mp: MotorpoolPlatform) -> str:
    """A Tesla that `plug --start` will set charging: parked, unplugged, below its charge limit.

    A new car's state depends on its seed and the time of day (it may be charging already, or
    plugged in and full), so a few are made and the first one that fits is taken."""
    for vehicle_id in mp.fleet(count=12, make="TESLA", powertrain="BEV"):
        car = mp.admin("GET", f"/admin/vehicles/{vehicle_id}")
        signals = {s["code"]: s["body"] for s in car["signals"]}
        limit = min(v["limit"] for v in signals["charge-chargelimits"]["values"])
        state = car["state"]
        if (state["activity"] == "parked" and not state["plugged"]
                and signals["tractionbattery-stateofcharge"]["value"] < limit - 5):  # fmt: skip
            return vehicle_id
    pytest.fail("none of 12 new Teslas was parked, unplugged and below its charge limit")


def test_vehicles_show_reads_state_queue_and_signals(
    runner: CliRunner, mp: MotorpoolPlatform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mp.reset()
    monkeypatch.chdir(tmp_path)
    admin = ["--url", mp.url, "--admin-token", mp.admin_token]
    vid = _chargeable_tesla(mp)
    mp.pin(vid, "tractionbattery-stateofcharge", {"value": 37})
    _json(runner, "vehicles", "plug", vid, "--start", *admin)

    shown = _json(runner, "vehicles", "show", vid, *admin)
    assert shown["id"] == vid and shown["make"] == "TESLA"
    assert shown["state"]["activity"] == "charging" and shown["state"]["plugged"] is True
    signals = {s["code"]: s for s in shown["signals"]}
    assert signals["tractionbattery-stateofcharge"]["body"]["value"] == 37
    assert signals["tractionbattery-stateofcharge"]["pinned"] is True
    assert all(s["ageSeconds"] >= 0 for s in shown["signals"])

    mp.advance("2h")
    later = _json(runner, "vehicles", "show", vid, *admin)
    assert later["now"] > shown["now"]

    text = runner.invoke(cli.app, ["vehicles", "show", vid, *admin])
    assert text.exit_code == 0, text.output
    assert vid in text.stdout and "tractionbattery-stateofcharge" in text.stdout and "pinned" in text.stdout

    missing = runner.invoke(cli.app, ["vehicles", "show", "00000000-0000-0000-0000-000000000000", *admin])
    assert missing.exit_code == 1 and "404" in missing.output
    malformed = runner.invoke(cli.app, ["vehicles", "show", "not-an-id", *admin])
    assert malformed.exit_code == 1 and "400" in malformed.output
