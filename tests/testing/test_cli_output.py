"""The CLI as scripts use it: --json documents with full ids, whole ids in a pipe, flags without
a type in --help, --password honoured without a terminal, signals set refusing what no car
reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from motorpool.testing import MotorpoolPlatform

from .test_cli_state import motorpool


def _options(mp: MotorpoolPlatform) -> list[str]:
    return ["--url", mp.url, "--admin-token", mp.admin_token]


def test_listing_commands_answer_json_with_full_ids(mp: MotorpoolPlatform, tmp_path: Path) -> None:
    mp.reset()
    apps = json.loads(motorpool("apps", "list", *_options(mp), "--json", cwd=tmp_path).stdout)
    assert [a["clientId"] for a in apps] == [mp.client_id]
    fleet = motorpool("vehicles", "list", "--application", mp.application_id, *_options(mp), "--json", cwd=tmp_path)
    ids = {v["id"] for v in json.loads(fleet.stdout)}
    assert ids == {v["id"] for v in mp.admin("GET", f"/admin/applications/{mp.application_id}/vehicles")}
    owners = json.loads(motorpool("owners", "list", *_options(mp), "--json", cwd=tmp_path).stdout)
    assert len(owners) == 3
    clock = json.loads(motorpool("clock", "show", "--application", mp.application_id, *_options(mp), "--json",
                                 cwd=tmp_path).stdout)  # fmt: skip
    assert clock["frozen"] is True


def test_tables_in_a_pipe_keep_whole_ids(mp: MotorpoolPlatform, tmp_path: Path) -> None:
    mp.reset()
    listed = motorpool("vehicles", "list", "--application", mp.application_id, *_options(mp), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    for vehicle in mp.admin("GET", f"/admin/applications/{mp.application_id}/vehicles"):
        assert vehicle["id"] in listed.stdout and vehicle["vin"] in listed.stdout
    assert mp.client_id in motorpool("apps", "list", *_options(mp), cwd=tmp_path).stdout


def test_help_shows_no_bool_metavar(tmp_path: Path) -> None:
    for command in (["serve"], ["signals", "set"], ["vehicles", "plug"], ["snapshot", "list"]):
        shown = motorpool(*command, "--help", cwd=tmp_path)
        assert shown.returncode == 0 and "<bool>" not in shown.stdout, shown.stdout
    assert "--port PORT" in motorpool("serve", "--help", cwd=tmp_path).stdout


def test_owners_create_takes_the_password_it_is_given(mp: MotorpoolPlatform, tmp_path: Path) -> None:
    mp.reset()
    made = motorpool("owners", "create", "new@example.com", "--password", "long-enough-1", *_options(mp), "--json",
                     cwd=tmp_path, stdin="")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["email"] == "new@example.com"
    asked = motorpool("owners", "create", "other@example.com", *_options(mp), cwd=tmp_path, stdin="")
    assert asked.returncode == 2 and "Give --password" in asked.stderr
    assert "Aborted" not in asked.stderr


@pytest.mark.parametrize(
    ("code", "body", "says"),
    [
        ("bananas", '{"value": 1}', "'bananas' is not a signal code"),
        ("tractionbattery-stateofcharge", '{"value": 500}', "from 0 to 100, not 500"),
        ("tractionbattery-stateofcharge", '{"value": "bananas"}', "not 'bananas'"),
    ],
)
def test_signals_set_refuses_what_no_car_reports(
    mp: MotorpoolPlatform, tmp_path: Path, code: str, body: str, says: str
) -> None:
    mp.reset()
    car = mp.admin("GET", f"/admin/applications/{mp.application_id}/vehicles")[0]["id"]
    refused = motorpool("signals", "set", car, code, body, *_options(mp), cwd=tmp_path)
    assert refused.returncode == 1
    assert says in refused.stderr and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    accepted = motorpool("signals", "set", car, "tractionbattery-stateofcharge", '{"value": 55}', *_options(mp),
                         cwd=tmp_path)  # fmt: skip
    assert accepted.returncode == 0, accepted.stderr


def test_the_application_taken_from_dotenv_is_named(mp: MotorpoolPlatform, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"MOTORPOOL_URL={mp.url}\nMOTORPOOL_ADMIN_TOKEN={mp.admin_token}\nMOTORPOOL_APPLICATION_ID={mp.application_id}\n"
    )
    shown = motorpool("clock", "show", "--json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert f"application {mp.application_id} (from .env's MOTORPOOL_APPLICATION_ID" in shown.stderr
    assert json.loads(shown.stdout)["applicationId"] == mp.application_id
    given = motorpool("clock", "show", "--application", mp.application_id, cwd=tmp_path)
    assert "from .env" not in given.stderr


def test_the_catalogue_lists_models_and_what_they_support(mp: MotorpoolPlatform, tmp_path: Path) -> None:
    listed = motorpool("catalogue", "--make", "Tesla", *_options(mp), "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    models = json.loads(listed.stdout)
    assert models and {m["make"] for m in models} == {"TESLA"}
    model3 = next(m for m in models if m["model"] == "Model 3")
    assert model3["powertrainType"] == "BEV" and "commands/charge/start" in model3["commands"]
    assert "tractionbattery-stateofcharge" in model3["signals"] and "read_battery" in model3["permissions"]
    fuel = json.loads(motorpool("catalogue", "--powertrain", "ICE", *_options(mp), "--json", cwd=tmp_path).stdout)
    assert all("commands/charge/start" not in m["commands"] for m in fuel)
    table = motorpool("catalogue", "--powertrain", "BEV", *_options(mp), cwd=tmp_path)
    assert "Model 3" in table.stdout
    unknown = motorpool("catalogue", "--make", "Trabant", *_options(mp), cwd=tmp_path)
    assert unknown.returncode == 1 and "No make 'Trabant'" in unknown.stderr
    bad = motorpool("catalogue", "--powertrain", "steam", *_options(mp), cwd=tmp_path)
    assert bad.returncode == 1 and "Unknown powertrain" in bad.stderr


def test_connections_create_list_delete(mp: MotorpoolPlatform, tmp_path: Path) -> None:
    mp.reset()
    app = ["--application", mp.application_id, *_options(mp)]
    first, second = mp.fleet(2, powertrain="BEV")
    made = motorpool("connections", "create", "pat@example.com", "--vehicle", first, "--vehicle", second,
                     "--permission", "read_battery", *app, "--json", cwd=tmp_path)  # fmt: skip
    assert made.returncode == 0, made.stderr
    user = json.loads(made.stdout)["userId"]
    listed = json.loads(motorpool("connections", "list", "--user", user, *app, "--json", cwd=tmp_path).stdout)
    assert {c["vehicleId"] for c in listed} == {first, second}
    assert all(c["permissions"] == ["read_battery"] and c["vehicle"]["make"] for c in listed)
    table = motorpool("connections", "list", *app, cwd=tmp_path)
    assert user in table.stdout and first in table.stdout
    removed = motorpool("connections", "delete", "--user", user, "--vehicle", first, *app, "--json", cwd=tmp_path)
    assert [c["vehicleId"] for c in json.loads(removed.stdout)] == [first]
    left = json.loads(motorpool("connections", "list", "--user", user, *app, "--json", cwd=tmp_path).stdout)
    assert [c["vehicleId"] for c in left] == [second]
    assert motorpool("connections", "delete", *app, cwd=tmp_path).returncode == 2
    unknown = motorpool("connections", "list", "--application", "no-such-app", *_options(mp), cwd=tmp_path)
    assert unknown.returncode == 1 and "404" in unknown.stderr


def _as_app(mp: MotorpoolPlatform, folder: Path) -> Path:
    (folder / ".env").write_text("".join(f"{k}={v}\n" for k, v in mp.env.items()))
    return folder


def test_reading_and_commanding_as_a_user(mp: MotorpoolPlatform, tmp_path: Path) -> None:
    mp.reset()
    home = _as_app(mp, tmp_path)
    (car,) = mp.fleet(powertrain="BEV", seed=7)
    user = mp.connect("me@example.com", vehicle_ids=[car])
    mp.pin(car, "tractionbattery-stateofcharge", {"value": 41})
    read = motorpool("vehicles", "read", car, "--user", user, "tractionbattery-stateofcharge", "--json", cwd=home)
    assert read.returncode == 0, read.stderr
    (soc,) = json.loads(read.stdout)
    assert soc["code"] == "tractionbattery-stateofcharge" and soc["body"]["value"] == 41
    table = motorpool("vehicles", "read", car, "--user", user, cwd=home)
    assert "odometer-traveleddistance" in table.stdout and "41" in table.stdout
    locked = motorpool("vehicles", "lock", car, "--user", user, "--json", cwd=home)
    assert locked.returncode == 0, locked.stderr
    assert json.loads(locked.stdout)["status"] == "SUCCESS"
    assert "SUCCESS" in motorpool("vehicles", "unlock", car, "--user", user, cwd=home).stdout
    mp.admin("POST", f"/admin/vehicles/{car}/plug", json={"plugged": False})
    refused = motorpool("vehicles", "charge", car, "--user", user, cwd=home)
    assert refused.returncode == 1 and "CHARGING_PLUG_NOT_CONNECTED" in refused.stderr
    assert "motorpool vehicles plug" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    other = mp.connect("x@example.com", vehicle_ids=mp.fleet())
    stranger = motorpool("vehicles", "read", car, "--user", other, cwd=home)
    assert stranger.returncode == 1
