"""One run of the tutorial's app, unchanged, against motorpool in zero-change mode, as a user does
it, inside a private network (``tests/support/private_network.py``):

1. ``motorpool serve --tls`` in a folder of its own — with ``--proxy-port 4080`` for the proxy
   way, or on port 443 after ``motorpool hosts --apply`` for the hosts way;
2. the tutorial's app (``python main.py`` or ``node index.js``) started by a shell that first
   runs ``eval "$(motorpool env …)"``: nothing but environment variables points it at motorpool;
3. an owner's browser walking ``/login`` → Connect (at ``connect.smartcar.com``, through the
   proxy or by name) → ``/exchange`` → ``/vehicle``.

Prints one JSON line: what each step answered, the platform's own view of the vehicles, and the
logs. ``python -m tests.tutorial.walk --language python --way proxy --workdir DIR``"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from ..support.connect_pages import go_through_connect, query_of
from ..support.up import clean_environment

HERE = Path(__file__).resolve().parent
APPS = {"python": (sys.executable, HERE / "python" / "main.py"), "node": ("node", HERE / "node" / "index.js")}
PROXY_PORT = 4080
APP = "http://localhost:8000"


def motorpool(*args: str) -> list[str]:
    return [sys.executable, "-m", "motorpool.cli", *args]


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path, verify: Any = True) -> None:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}:\n{log.read_text()}")
        try:
            httpx.get(url, timeout=1, verify=verify, trust_env=False)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer in 40 s:\n{log.read_text()}")


def start(argv: list[str], cwd: Path, log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


async def walk(way: str, ca: Path) -> dict[str, Any]:
    """The owner's browser: the app over plain HTTP on localhost, Connect over HTTPS at
    Smartcar's host name (through the proxy, or by name)."""
    trust = ssl.create_default_context(cafile=str(ca))
    proxy = f"http://127.0.0.1:{PROXY_PORT}" if way == "proxy" else None
    connect = httpx.AsyncHTTPTransport(verify=trust, proxy=proxy, trust_env=False)
    steps: dict[str, Any] = {}
    async with httpx.AsyncClient(mounts={"https://": connect}, timeout=30, trust_env=False) as browser:
        login = await browser.get(f"{APP}/login")
        steps["login"] = {"status": login.status_code, "location": login.headers.get("location")}
        page = await browser.get(login.headers["location"])
        steps["connect_page"] = {"status": page.status_code, "url": str(page.url)}
        back = await go_through_connect(browser, page, email="tutorial@example.com")
        steps["connect_redirect"] = {"status": back.status_code, "location": back.headers.get("location")}
        steps["user_id"] = query_of(back).get("user_id")
        exchange = await browser.get(back.headers["location"])
        steps["exchange"] = {"status": exchange.status_code}
        vehicle = await browser.get(f"{APP}/vehicle")
        steps["vehicle"] = {"status": vehicle.status_code, "body": vehicle.text}
    return steps


def platform_view(origin: str, ca: Path, env: dict[str, str], user_id: str | None) -> dict[str, Any]:
    """What motorpool's own APIs say of the user's connections and the fleet."""
    verify = ssl.create_default_context(cafile=str(ca))
    with httpx.Client(base_url=origin, verify=verify, trust_env=False, timeout=30) as platform:
        admin = {"Authorization": f"Bearer {env['MOTORPOOL_ADMIN_TOKEN']}"}
        fleet = platform.get(f"/admin/applications/{env['MOTORPOOL_APPLICATION_ID']}/vehicles", headers=admin)
        token = platform.post("/oauth2/token", data={
            "grant_type": "client_credentials",
            "client_id": env["SMARTCAR_CLIENT_ID"],
            "client_secret": env["SMARTCAR_CLIENT_SECRET"],
        }).json()["access_token"]  # fmt: skip
        headers = {"Authorization": f"Bearer {token}", "sc-user-id": user_id or ""}
        connections = platform.get("/v3/connections", headers=headers).json()
    return {"fleet": fleet.json()["data"], "connections": connections["connections"]}


def run(language: str, way: str, workdir: Path) -> dict[str, Any]:
    environment = clean_environment()
    result: dict[str, Any] = {"language": language, "way": way}
    if way == "hosts":
        original = Path("/etc/hosts").read_text()
        applied = subprocess.run(
            motorpool("hosts", "--apply"), capture_output=True, text=True, env=environment, check=False
        )
        result["hosts_apply"] = {"code": applied.returncode, "stderr": applied.stderr}
        serve_args = ["--tls", "--port", "443"]
        origin = "https://127.0.0.1"
    else:
        serve_args = ["--tls", "--port", "4443", "--proxy-port", str(PROXY_PORT)]
        origin = "https://127.0.0.1:4443"
    serve_log, app_log = workdir / "serve.log", workdir / f"{language}-app.log"
    server = start(motorpool("serve", *serve_args), workdir, serve_log, environment)
    app: subprocess.Popen[bytes] | None = None
    try:
        ca = workdir / ".motorpool" / "tls" / "ca.pem"
        deadline = time.monotonic() + 40
        while not ca.exists() and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.05)
        wait_for(f"{origin}/.well-known/jwks.json", server, serve_log, ssl.create_default_context(cafile=str(ca)))
        env_args = ["env", "--proxy-port", str(PROXY_PORT)] if way == "proxy" else ["env", "--tls"]
        program, source = APPS[language]
        # What the user types: eval "$(motorpool env …)", then the tutorial's own command.
        shell = f'eval "$({shlex.join(motorpool(*env_args))})" && exec {shlex.quote(program)} {shlex.quote(str(source))}'
        app = start(["sh", "-c", shell], workdir, app_log, environment)
        wait_for(f"{APP}/login", app, app_log)
        result["steps"] = asyncio.run(walk(way, ca))
        env = dict(line.split("=", 1) for line in (workdir / ".env").read_text().splitlines() if "=" in line)
        result["platform"] = platform_view(origin, ca, env, result["steps"].get("user_id"))
        result["exported"] = subprocess.run(
            motorpool(*env_args), cwd=workdir, capture_output=True, text=True, env=environment,
            check=False,
        ).stdout  # fmt: skip
    finally:
        if app is not None:
            stop(app)
        stop(server)
        result["serve_log"] = serve_log.read_text() if serve_log.exists() else ""
        result["app_log"] = app_log.read_text() if app_log.exists() else ""
        if way == "hosts":
            removed = subprocess.run(
                motorpool("hosts", "--remove"), capture_output=True, text=True, env=environment,
                check=False,
            )  # fmt: skip
            restored = Path("/etc/hosts").read_text() == original
            result["hosts_remove"] = {"code": removed.returncode, "restored": restored}
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--language", choices=sorted(APPS), required=True)
    parser.add_argument("--way", choices=["proxy", "hosts"], required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    args = parser.parse_args()
    try:
        result = run(args.language, args.way, args.workdir)
    except Exception as exc:  # noqa: BLE001 - whatever broke is reported to the test, which shows it
        import traceback

        result = {"error": "".join(traceback.format_exception(exc))}
        for log in sorted(args.workdir.glob("*.log")):
            result[log.name] = log.read_text()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
