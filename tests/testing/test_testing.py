"""motorpool.testing as an application's test suite uses it: the pytest plugin (installed through
its entry point), the fixture's reset between tests, the context manager, and the credentials
and environment it hands to motorpool's SDK and Smartcar's own."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

import motorpool
from motorpool.testing import MotorpoolPlatform, PlatformError
from tests.support.up import clean_environment

ROOT = Path(__file__).resolve().parents[2]
SOC = "tractionbattery-stateofcharge"


def _pytest(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", *args],
        cwd=cwd, env=clean_environment(), capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip


def test_the_example_app_passes_its_own_tests() -> None:
    result = _pytest(str(ROOT / "examples" / "battery_app"), cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


def test_a_fresh_project_gets_the_fixture_from_the_entry_point(tmp_path: Path) -> None:
    """Nothing but the installed package: no conftest, no ``-p``. Two tests in a row see the
    same credentials and a fresh state each."""
    (tmp_path / "test_mine.py").write_text(textwrap.dedent('''
        import motorpool

        def test_first(motorpool_platform):
            (car,) = motorpool_platform.fleet(powertrain="BEV")
            user = motorpool_platform.connect("me@example.com", vehicle_ids=[car])
            motorpool_platform.pin(car, "tractionbattery-stateofcharge", {"value": 33})
            with motorpool.Client(motorpool_platform.client_id, motorpool_platform.client_secret,
                                  base_url=motorpool_platform.url) as client:
                assert client.user(user).signals.state_of_charge(car).percent == 33
                assert len(client.connections.list().data) == 1

        def test_second_starts_clean(motorpool_platform):
            with motorpool.Client(motorpool_platform.client_id, motorpool_platform.client_secret,
                                  base_url=motorpool_platform.url) as client:
                assert len(client.connections.list().data) == 0
    '''))
    result = _pytest("--durations=0", "-vv", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_the_context_manager_starts_resets_and_stops() -> None:
    with MotorpoolPlatform() as mp:
        assert mp.url.startswith("http://127.0.0.1:")
        baseline = mp.admin("GET", f"/admin/applications/{mp.application_id}/vehicles")
        (car,) = mp.fleet(make="TOYOTA")
        user = mp.connect("a@example.com", vehicle_ids=[car])
        clock = mp.admin("GET", f"/admin/applications/{mp.application_id}/clock")
        assert clock["rate"] == 0
        later = mp.advance("2h")
        assert later > clock["now"]
        mp.reset()
        assert mp.admin("GET", f"/admin/applications/{mp.application_id}/vehicles") == baseline
        assert mp.admin("GET", f"/admin/applications/{mp.application_id}/clock")["now"] == clock["now"]
        with pytest.raises(PlatformError, match="404"):
            mp.admin("GET", f"/admin/vehicles/{car}/nonexistent")
        client = motorpool.Client(mp.client_id, mp.client_secret, base_url=mp.url)
        with client, pytest.raises(motorpool.ApiError):  # the connection went with the reset
            client.user(user).vehicles.get(car)
        url = mp.url
    with pytest.raises(httpx.TransportError):
        httpx.get(url + "/.well-known/jwks.json", timeout=2)


def test_the_official_python_sdk_runs_on_the_environment_it_is_given() -> None:
    """Smartcar's own SDK, unchanged, configured by ``mp.env`` alone: its Connect URL points
    at the platform, and its Management API call lists the connection the test made."""
    script = textwrap.dedent('''
        import os, sys, smartcar
        client = smartcar.AuthClient(os.environ["SMARTCAR_CLIENT_ID"], os.environ["SMARTCAR_CLIENT_SECRET"],
                                     os.environ["SMARTCAR_REDIRECT_URI"], mode="simulated")
        url = client.get_auth_url(["read_battery"])
        assert url.startswith(os.environ["MOTORPOOL_URL"]), url
        found = smartcar.get_connections(os.environ["APPLICATION_MANAGEMENT_TOKEN"], {"user_id": sys.argv[1]})
        print(" ".join(c.vehicle_id for c in found.connections))
    ''')
    with MotorpoolPlatform() as mp:
        (car,) = mp.fleet(powertrain="BEV")
        user = mp.connect("sdk@example.com", vehicle_ids=[car])
        result = subprocess.run(
            [sys.executable, "-c", script, user], env=clean_environment() | mp.env,
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [car]


def test_a_busy_port_is_one_clear_error() -> None:
    with MotorpoolPlatform() as first:
        taken = first.port
        with pytest.raises(RuntimeError, match=f"cannot listen on 127.0.0.1:{taken}"):
            MotorpoolPlatform(port=taken).start()


def test_no_file_is_left_behind() -> None:
    mp = MotorpoolPlatform().start()
    folder = mp._folder
    assert folder is not None and (folder / "motorpool.db").exists()
    mp.stop()
    assert not folder.exists()
    assert os.environ.get("MOTORPOOL_URL") != mp.url  # the process's environment is untouched
