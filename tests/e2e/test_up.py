"""``motorpool up`` end to end: real processes, real sockets, the whole tutorial flow over HTTP."""

from __future__ import annotations

import re
import signal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from ..docs.readme import DEFAULT_ADDRESS, README, output_pattern, readme_blocks
from ..support.connect_pages import go_through_connect
from ..support.up import Up, start_up

pytestmark = pytest.mark.e2e


def cells(page: str) -> dict[str, tuple[str, str, str]]:
    """Make, model and year of each row of the vehicle table, by vehicle id."""
    rows = {}
    for vehicle_id, row in re.findall(r'<tr data-vehicle-id="([^"]+)">(.*?)</tr>', page, re.DOTALL):
        make = re.search(r'<span class="make">([^<]*)</span>', row)
        model = re.search(r'<td class="cell-model">([^<]*)</td>', row)
        year = re.search(r'<td class="cell-year">([^<]*)</td>', row)
        assert make and model and year, row
        rows[vehicle_id] = (make[1], model[1], year[1])
    return rows


async def test_login_through_connect_to_the_vehicle_page(running: Up) -> None:
    async with httpx.AsyncClient(follow_redirects=True, timeout=20) as browser:
        connect_page = await browser.get(f"{running.demo}/login")
        assert connect_page.url.host == "127.0.0.1" and connect_page.url.port == running.platform_port
        assert connect_page.url.path == "/oauth/authorize"
        query = parse_qs(connect_page.url.query.decode())
        # A free demo port, registered on the development application at start-up.
        assert query["redirect_uri"] == [f"http://localhost:{running.demo_port}/exchange"]

        page = await go_through_connect(browser, connect_page, email="newcomer@example.com")
        assert page.status_code == 200, page.text
        assert str(page.url) == f"{running.demo}/vehicle"
        assert [r.url.path for r in page.history][-1] == "/exchange"

        shown = cells(page.text)
        fleet = running.admin(f"/admin/applications/{running.env['MOTORPOOL_APPLICATION_ID']}/vehicles")
        assert isinstance(fleet, list)
        assert shown == {v["id"]: (v["make"], v["model"], str(v["year"])) for v in fleet}

        as_json = (await browser.get(f"{running.demo}/vehicle", headers={"accept": "application/json"})).json()
        first = as_json["vehicles"][0]
        assert (as_json["make"], as_json["model"], as_json["year"]) == (first["make"], first["model"], first["year"])


async def test_a_forged_state_is_refused_over_http(running: Up) -> None:
    async with httpx.AsyncClient(timeout=20) as browser:
        started = await browser.get(f"{running.demo}/login")
        assert started.status_code == 302
        answer = await browser.get(f"{running.demo}/exchange", params={"state": "forged", "user_id": "someone"})
        assert answer.status_code == 400
        assert "This sign-in was refused" in answer.text


def test_up_prints_what_to_open_and_the_credentials(running: Up) -> None:
    output = running.output
    env = running.env
    assert f"http://localhost:{running.demo_port}/login" in output
    assert env["SMARTCAR_CLIENT_ID"] in output
    # First start, output to a pipe (a log): where the secrets were written, not the secrets.
    assert env["SMARTCAR_CLIENT_SECRET"] not in output
    assert env["MOTORPOOL_ADMIN_TOKEN"] not in output and env["MOTORPOOL_OWNER_PASSWORD"] not in output
    assert "written to" in output
    assert env["MOTORPOOL_URL"] == running.platform
    assert "Traceback" not in output


def test_up_prints_the_readme_banner(running: Up) -> None:
    """The banner the README's "What the newcomer sees" shows is the one ``motorpool up`` prints,
    its ports those of this run."""
    (banner,) = [
        block.text
        for block in readme_blocks(README.read_text())
        if block.text.startswith("motorpool is up")
    ]
    ports = {DEFAULT_ADDRESS: f"127.0.0.1:{running.platform_port}", "localhost:8000": f"localhost:{running.demo_port}"}
    printed = re.sub(r"\x1b\[[0-9;]*m", "", running.output)  # Rich's colours, on a terminal
    assert re.search(output_pattern(banner, ports), printed), f"README:\n{banner}\nprinted:\n{printed}"


def test_a_second_start_reuses_the_database_and_credentials_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    first = start_up(tmp_path)
    credentials = first.env
    assert first.stop(signal.SIGINT) == 0
    assert first.process.returncode == 0
    assert "Traceback" not in first.output

    # Other ports this time: the demo must follow the platform to its new origin.
    second = start_up(tmp_path)
    try:
        assert second.platform_port != first.platform_port
        env = second.env
        for name in ("SMARTCAR_CLIENT_ID", "SMARTCAR_CLIENT_SECRET", "MOTORPOOL_APPLICATION_ID", "MOTORPOOL_ADMIN_TOKEN"):
            assert env[name] == credentials[name], name
        assert env["MOTORPOOL_URL"] == second.platform
        output = second.output
        assert env["SMARTCAR_CLIENT_ID"] in output
        assert env["SMARTCAR_CLIENT_SECRET"] not in output, "the secret is shown on first start only"

        token = httpx.post(
            f"{second.platform}/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": env["SMARTCAR_CLIENT_ID"],
                "client_secret": env["SMARTCAR_CLIENT_SECRET"],
            },
        )
        assert token.status_code == 200, token.text
        apps = second.admin("/admin/applications")
        assert isinstance(apps, list) and len(apps) == 1, "no second development application"
        assert f"http://localhost:{second.demo_port}/exchange" in apps[0]["redirectUris"]

        login = httpx.get(f"{second.demo}/login")
        target = urlsplit(login.headers["location"])
        assert f"{target.scheme}://{target.netloc}" == second.platform
    finally:
        code = second.stop(signal.SIGTERM)
    assert code == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{second.demo}/", timeout=2)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{second.platform}/.well-known/jwks.json", timeout=2)

    # The secret exists only in `.env` (the database keeps a hash): without it, say so plainly.
    (tmp_path / ".env").unlink()
    with pytest.raises(AssertionError, match="exited with 1") as failure:
        start_up(tmp_path)
    assert "credentials are not in .env" in str(failure.value)
    assert "Traceback" not in str(failure.value)


def test_a_busy_port_is_reported_plainly(tmp_path: Path, running: Up) -> None:
    with pytest.raises(AssertionError, match="exited with 1") as failure:
        start_up(tmp_path, demo_port=running.demo_port)
    assert f"cannot listen on 127.0.0.1:{running.demo_port}" in str(failure.value)
    assert "Traceback" not in str(failure.value)
