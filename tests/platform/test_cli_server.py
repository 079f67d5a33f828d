"""`motorpool serve` and the admin commands, as a user runs them: real processes, real sockets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ..support.processes import Served, free_port, serve

pytestmark = pytest.mark.e2e


def test_first_start_prints_and_writes_credentials(served: Served) -> None:
    printed = served.output.read_text()
    env = served.env()
    assert env["SMARTCAR_CLIENT_ID"].startswith("client_")
    assert env["SMARTCAR_REDIRECT_URI"] == "http://localhost:8000/exchange"
    # Printed to a file (a log), first start says where the secrets are, not what they are.
    assert env["SMARTCAR_CLIENT_SECRET"] not in printed
    assert env["MOTORPOOL_ADMIN_TOKEN"] not in printed and env["MOTORPOOL_OWNER_PASSWORD"] not in printed
    assert f"written to {served.workdir / '.env'}" in printed or "written to .env" in printed
    assert oct((served.workdir / ".env").stat().st_mode)[-3:] == "600"
    # The database and the key that seals its signing keys are the owner's alone.
    assert oct((served.workdir / "motorpool.db").stat().st_mode)[-3:] == "600"
    assert oct((served.workdir / ".motorpool").stat().st_mode)[-3:] == "700"
    assert oct((served.workdir / ".motorpool" / "key-encryption.key").stat().st_mode)[-3:] == "600"
    token = served.grant()
    assert token.status_code == 200 and token.json()["token_type"] == "Bearer"


def test_second_start_reuses_database_and_keeps_other_env_lines(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MY_OWN_SETTING=keep-me\n")
    port = free_port()
    first = serve(tmp_path, port)
    first.stop()
    env = first.env()
    assert env["MY_OWN_SETTING"] == "keep-me"
    second = serve(tmp_path, port)
    try:
        assert "first start" not in second.output.read_text()
        assert second.env() == env
        assert second.grant().status_code == 200
    finally:
        second.stop()


def test_serve_takes_its_port_from_the_environment_and_its_database_from_the_default(tmp_path: Path) -> None:
    import jwt

    server = serve(tmp_path, from_environment=True)
    try:
        assert (tmp_path / "motorpool.db").exists()
        token = server.grant().json()["access_token"]
        assert jwt.decode(token, options={"verify_signature": False})["iss"] == server.origin
    finally:
        server.stop()


def test_redirect_uri_and_secret_commands(served: Served) -> None:
    """Register a redirect URI, create a second secret, revoke the first: it stops working."""
    # An application of its own: the server is shared by this module, and the development
    # application's secret must keep working for the other tests.
    made = served.cli("apps", "create", "Rotating secrets", "--redirect-uri", "http://localhost:8000/exchange")
    assert made.returncode == 0, made.stderr
    app_id = made.stdout.split("application id")[1].split()[0]
    client_id = made.stdout.split("SMARTCAR_CLIENT_ID=")[1].split()[0]
    first_secret = made.stdout.split("SMARTCAR_CLIENT_SECRET=")[1].split()[0]
    added = served.cli("apps", "add-redirect-uri", app_id, "https://fleet.example/callback")
    assert added.returncode == 0, added.stderr
    assert "https://fleet.example/callback" in added.stdout and "http://localhost:8000/exchange" in added.stdout
    created = served.cli("apps", "create-secret", app_id)
    assert created.returncode == 0, created.stderr
    second_secret = created.stdout.split("SMARTCAR_CLIENT_SECRET=")[1].split()[0]

    def grant(secret: str) -> int:
        return served.grant(client_id, secret).status_code

    assert grant(first_secret) == 200 and grant(second_secret) == 200
    secrets = httpx.get(f"{served.origin}/admin/applications/{app_id}", headers=served.admin_headers()).json()["data"]["secrets"]
    first_id = next(s["id"] for s in secrets if s["id"] not in created.stdout)
    revoked = served.cli("apps", "revoke-secret", app_id, first_id)
    assert revoked.returncode == 0 and f"revoked {first_id}" in revoked.stdout, revoked.stderr
    assert grant(first_secret) == 401 and grant(second_secret) == 200
    unknown = served.cli("apps", "add-redirect-uri", app_id, "not a uri")
    assert unknown.returncode == 1 and unknown.stderr


def test_management_token_in_env_and_commands(served: Served, tmp_path: Path) -> None:
    """First start writes the development application's management token (and prints it only to
    a terminal); the CLI shows it, and rotates another application's, updating the .env that
    names that application."""
    env = served.env()
    token = env["APPLICATION_MANAGEMENT_TOKEN"]
    assert token not in served.output.read_text()
    application = httpx.get(f"{served.origin}/admin/applications/{env['MOTORPOOL_APPLICATION_ID']}",
                            headers=served.admin_headers()).json()["data"]  # fmt: skip
    assert application["managementToken"] == token
    shown = served.cli("apps", "management-token")
    assert shown.returncode == 0 and shown.stdout.strip() == f"APPLICATION_MANAGEMENT_TOKEN={token}", shown.stderr

    def connections(amt: str) -> int:
        return httpx.get(f"{served.origin}/v2.0/management/connections", auth=("default", amt)).status_code

    made = served.cli("apps", "create", "Rotating tokens")
    app_id = made.stdout.split("application id")[1].split()[0]
    old = served.cli("apps", "management-token", app_id).stdout.strip().split("=", 1)[1]
    (tmp_path / ".env").write_text(
        f"MOTORPOOL_ADMIN_TOKEN={env['MOTORPOOL_ADMIN_TOKEN']}\nMOTORPOOL_APPLICATION_ID={app_id}\n"
        f"APPLICATION_MANAGEMENT_TOKEN={old}\nMY_OWN_SETTING=keep-me\n"
    )
    rotated = served.cli("apps", "management-token", "--rotate", cwd=tmp_path)
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.strip().split("=", 1)[1]
    assert new != old and ".env has the new one" in rotated.stderr
    written = (tmp_path / ".env").read_text().splitlines()
    assert f"APPLICATION_MANAGEMENT_TOKEN={new}" in written and "MY_OWN_SETTING=keep-me" in written
    assert connections(old) == 401 and connections(new) == 200 and connections(token) == 200
    assert served.env()["APPLICATION_MANAGEMENT_TOKEN"] == token
    unknown = served.cli("apps", "management-token", "--rotate", "no-such-application")
    assert unknown.returncode == 1 and "404" in unknown.stderr


def test_admin_commands(served: Served) -> None:
    created = served.cli("apps", "create", "Fleet dashboard", "--redirect-uri", "https://fleet.example/callback")
    assert created.returncode == 0, created.stderr
    assert "SMARTCAR_CLIENT_SECRET=scs_" in created.stdout
    listed = served.cli("apps", "list")
    assert "Fleet dashboard" in listed.stdout and "Development" in listed.stdout
    owner = served.cli("owners", "create", "dana@example.com", "--name", "Dana", "--password", "correct horse battery")
    assert owner.returncode == 0, owner.stderr
    assert "dana@example.com" in served.cli("owners", "list").stdout
    vehicle = served.cli("vehicles", "create", "--powertrain", "BEV")
    assert vehicle.returncode == 0, vehicle.stderr
    assert "(BEV)" in vehicle.stdout
    fleet = served.cli("vehicles", "list")
    assert fleet.stdout.count("BEV") >= 2
    owned = served.cli("vehicles", "create", "--owner", "dana@example.com", "--powertrain", "ICE")
    assert owned.returncode == 0 and "(ICE)" in owned.stdout
    refused = served.cli("vehicles", "create", "--powertrain", "STEAM")
    assert refused.returncode == 1 and "powertrain" in refused.stderr.lower()


def test_clock_and_steering_commands(served: Served) -> None:
    """Freeze the clock, plug a car in and start charging, advance two hours: more charge."""
    created = served.cli("vehicles", "create", "--make", "TESLA", "--model", "Model 3")
    assert created.returncode == 0, created.stderr
    vehicle_id = created.stdout.split()[1]
    frozen = served.cli("clock", "freeze")
    assert frozen.returncode == 0 and "frozen" in frozen.stdout, frozen.stderr
    env = served.env()
    connected = httpx.post(f"{served.origin}/admin/applications/{env['MOTORPOOL_APPLICATION_ID']}/connections",
                           headers=served.admin_headers(), json={"email": "cli@example.com", "mode": "simulated",
                                                "vehicleIds": [vehicle_id]})
    assert connected.status_code == 201, connected.text
    user_id = connected.json()["data"]["userId"]
    token = served.grant().json()["access_token"]

    def soc() -> float:
        answer = httpx.get(f"{served.origin}/v3/vehicles/{vehicle_id}/signals/tractionbattery-stateofcharge",
                           headers={"Authorization": f"Bearer {token}", "sc-user-id": user_id})
        assert answer.status_code == 200, answer.text
        return float(answer.json()["data"]["attributes"]["body"]["value"])

    assert served.cli("vehicles", "plug", vehicle_id, "--out").returncode == 0
    assert served.cli("signals", "set", vehicle_id, "charge-chargelimits", "--clear").returncode == 0
    plugged = served.cli("vehicles", "plug", vehicle_id, "--start", "--kw", "11")
    assert plugged.returncode == 0 and "plugged in" in plugged.stdout, plugged.stderr
    before = soc()
    advanced = served.cli("clock", "advance", "2h")
    assert advanced.returncode == 0 and "frozen" in advanced.stdout, advanced.stderr
    after = soc()
    assert after > before or after >= 80, (before, after)
    shown = served.cli("clock", "show")
    offset = float(shown.stdout.split("(frozen, ")[1].split(" s ")[0])
    assert 7000 < offset <= 7200, shown.stdout  # two hours ahead, less the real time since freezing

    assert "charging" not in served.cli("vehicles", "plug", vehicle_id, "--out").stdout
    slept = served.cli("vehicles", "sleep", vehicle_id)
    assert slept.returncode == 0 and "parked" in slept.stdout, slept.stderr
    assert served.cli("vehicles", "wake", vehicle_id).returncode == 0
    opened = served.cli("vehicles", "open", vehicle_id, "hood")
    assert opened.returncode == 0, opened.stderr
    assert served.cli("vehicles", "open", vehicle_id, "hood", "--close").returncode == 0
    no_such = served.cli("vehicles", "open", vehicle_id, "moonroof")
    assert no_such.returncode == 1 and "moonroof" in no_such.stderr
    drove = served.cli("vehicles", "drive", vehicle_id, "--to", "37.80,-122.40")
    assert drove.returncode == 0 and "driving" in drove.stdout, drove.stderr
    pinned = served.cli("signals", "set", vehicle_id, "odometer-traveleddistance", '{"unit": "km", "value": 12345}')
    assert pinned.returncode == 0, pinned.stderr
    assert served.cli("vehicles", "online", vehicle_id, "--offline").returncode == 0
    bad = served.cli("vehicles", "drive", vehicle_id, "--to", "north")
    assert bad.returncode == 2 and "LAT,LON" in bad.stderr
    backwards = served.cli("clock", "set", "--now", "2001-01-01T00:00:00Z")
    assert backwards.returncode == 1 and "backwards" in backwards.stderr
    assert served.cli("clock", "resume").returncode == 0


def test_rate_limit_command(served: Served) -> None:
    assert served.cli("apps", "rate-limit").stdout.strip() == "no rate limits"
    smartcar = served.cli("apps", "rate-limit", "--smartcar", "--vehicle-per-minute", "10")
    assert smartcar.returncode == 0, smartcar.stderr
    assert "120 requests, refilling 2 a minute; 10 a minute per vehicle" in smartcar.stdout
    assert "120 requests" in served.cli("apps", "rate-limit").stdout
    bad = served.cli("apps", "rate-limit", "--requests", "5")
    assert bad.returncode == 1 and "refillPerMinute" in bad.stderr
    assert served.cli("apps", "rate-limit", "--off").stdout.strip() == "no rate limits"


def test_connect_permissions_command(served: Served) -> None:
    shown = served.cli("apps", "connect-permissions")
    assert shown.returncode == 0, shown.stderr
    assert "read_odometer" in shown.stdout and "(every permission: the default)" in shown.stdout
    narrowed = served.cli("apps", "connect-permissions", "-p", "read_odometer", "-p", "read_location")
    assert narrowed.returncode == 0, narrowed.stderr
    assert narrowed.stdout.strip() == "read_odometer read_location"
    assert served.cli("apps", "connect-permissions").stdout.strip() == "read_odometer read_location"
    unknown = served.cli("apps", "connect-permissions", "-p", "read_everything")
    assert unknown.returncode == 1 and "read_everything" in unknown.stderr
    reset = served.cli("apps", "connect-permissions", "--all")
    assert reset.returncode == 0 and "(every permission: the default)" in reset.stdout


def test_admin_commands_need_the_token(served: Served, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("")  # a directory whose .env holds no admin token
    result = served.cli("apps", "list", cwd=tmp_path)
    assert result.returncode == 2 and "MOTORPOOL_ADMIN_TOKEN" in result.stderr
    wrong = subprocess.run(
        [sys.executable, "-m", "motorpool.cli", "apps", "list", "--admin-token", "adm_wrong", "--url", served.origin],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert wrong.returncode == 1 and "AUTHENTICATION" in wrong.stderr


def test_db_upgrade_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "motorpool.cli", "db", "upgrade", "--database-url", url],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    import sqlite3

    tables = {row[0] for row in sqlite3.connect(tmp_path / "fresh.db").execute("select name from sqlite_master")}
    assert {"applications", "vehicles", "connections", "alembic_version"} <= tables


def test_keys_rotate_and_list(served: Served) -> None:
    """A rotation signs new tokens with a new key; a token of the old key keeps working."""
    import jwt

    before = served.grant().json()["access_token"]
    rotated = served.cli("keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    new_kid = rotated.stdout.split()[0]
    listed = served.cli("keys", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.strip().splitlines()
    assert len(lines) >= 2 and lines[-1].startswith(new_kid) and "signs new tokens" in lines[-1]
    assert sum("signs new tokens" in line for line in lines) == 1
    after = served.grant().json()["access_token"]
    assert jwt.get_unverified_header(after)["kid"] == new_kid != jwt.get_unverified_header(before)["kid"]
    jwks = httpx.get(f"{served.origin}/.well-known/jwks.json").json()
    assert {jwt.get_unverified_header(t)["kid"] for t in (before, after)} <= {k["kid"] for k in jwks["keys"]}
    for token in (before, after):
        answer = httpx.get(f"{served.origin}/v3/connections", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
