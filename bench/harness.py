"""Shared pieces of the benchmarks: start servers the way a user does, drive them with wrk.

Each benchmark pins the server to CPU 0 and the load generator to CPU 1 when ``taskset`` is
available, so the figures are server-bound, and runs the configurations it compares side by
side in one run; the ratios are what to trust, not the absolute numbers."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(cpu: int, argv: list[str]) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(cpu), *argv]
    return argv


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk from Debian's packages …", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    found = shutil.which("wrk")
    assert found, "wrk could not be installed"
    return found


def wait_ready(url: str, timeout: float = 30.0) -> float:
    """Poll ``url`` every 5 ms until it answers; returns the seconds waited."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return time.perf_counter() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.005)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    origin: str
    workdir: Path
    startup: float

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        env_file = self.workdir / ".env"
        if env_file.exists():
            for line in env_file.read_text().splitlines():
                if "=" in line and not line.startswith("#"):
                    key, _, value = line.partition("=")
                    values[key] = value
        return values


@contextmanager
def motorpool_serve(
    workdir: Path | None = None, extra_env: dict[str, str] | None = None, database_url: str | None = None
) -> Iterator[Server]:
    """``motorpool serve`` on a free port, as a user starts it: on ``database_url``, else on a
    SQLite database of its own in ``workdir``."""
    own = workdir is None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="motorpool-bench-"))
    port = free_port()
    env = {
        **os.environ,
        "MOTORPOOL_ENV_FILE": str(workdir / ".env"),
        "MOTORPOOL_PRINT_CREDENTIALS": "false",
        **(extra_env or {}),
    }
    argv = pinned(0, [
        PYTHON, "-m", "motorpool.cli", "serve", "--port", str(port),
        "--database-url", database_url or sqlite_url(workdir), "--log-level", "warning",
    ])
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, cwd=workdir)
    try:
        origin = f"http://127.0.0.1:{port}"
        wait_ready(origin + "/.well-known/jwks.json")
        yield Server(process, origin, workdir, time.perf_counter() - started)
    finally:
        process.terminate()
        process.wait(timeout=15)
        if own:
            shutil.rmtree(workdir, ignore_errors=True)


def sqlite_url(workdir: Path) -> str:
    return f"sqlite+aiosqlite:///{workdir / 'motorpool.db'}"


def seed_in_bulk(workdir: Path, database_url: str, count: int, seed: int, email: str) -> str:
    """Add ``count`` vehicles with ``motorpool vehicles seed`` (COPY on PostgreSQL), all connected
    to ``email``'s simulated user; on an empty database the command makes the first start, with
    its ``.env`` in ``workdir``. The user's id."""
    argv = [PYTHON, "-m", "motorpool.cli", "vehicles", "seed", "--count", str(count), "--seed", str(seed),
            "--connect", email, "--database-url", database_url, "--json"]
    env = {k: v for k, v in os.environ.items() if k != "MOTORPOOL_APPLICATION_ID"}
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"motorpool vehicles seed failed: {done.stderr[-2000:]}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"seeded {count:,} vehicles in {time.perf_counter() - started:.1f} s")
    return str(summary["userId"])


@contextmanager
def bare_asgi(body_size: int) -> Iterator[str]:
    """A bare ASGI app answering a JSON body of ``body_size`` bytes, on the same uvicorn setup."""
    port = free_port()
    # -P: bench/ holds token.py, which would shadow the standard library inside the child.
    argv = pinned(0, [PYTHON, "-P", str(Path(__file__).parent / "bare_asgi.py"), str(port), str(body_size)])
    process = subprocess.Popen(argv)
    try:
        origin = f"http://127.0.0.1:{port}"
        wait_ready(origin + "/")
        yield origin
    finally:
        process.terminate()
        process.wait(timeout=15)


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int


def _ms(text: str) -> float:
    number = float(re.match(r"[\d.]+", text).group())  # type: ignore[union-attr]
    if text.endswith("us"):
        return number / 1000
    if text.endswith("ms"):
        return number
    if text.endswith("s"):
        return number * 1000
    return number


def run_wrk(url: str, *, script: str | None = None, seconds: int = 10, connections: int = 50, warmup: int = 2) -> WrkResult:
    wrk = ensure_wrk()
    base = [wrk, "-t1", f"-c{connections}", "--latency"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script or "")
        lua = handle.name
    extra = ["-s", lua] if script else []
    if warmup:
        subprocess.run(pinned(1, [*base, f"-d{warmup}s", *extra, url]), capture_output=True, check=True)
    out = subprocess.run(pinned(1, [*base, f"-d{seconds}s", *extra, url]), capture_output=True, text=True, check=True).stdout
    os.unlink(lua)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s*50%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    non_2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return WrkResult(rps, p50, p99, non_2xx, errors)


@dataclass
class Fleet:
    """A seeded fleet: every vehicle's id (in the order the owner connected them), the owner's
    user id, and an application token."""

    vehicle_ids: list[str]
    user_id: str
    token: str


def fleet_ids(http: httpx.Client, app_id: str, admin: dict[str, str]) -> list[str]:
    """Every car of an application's simulated fleet, following the listing's pages."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        params = {"cursor": cursor} if cursor else {}
        page = http.get(f"/admin/applications/{app_id}/vehicles", params=params, headers=admin)
        page.raise_for_status()
        body = page.json()
        ids += [vehicle["id"] for vehicle in body["data"]]
        cursor = body["meta"]["nextCursor"]
        if cursor is None:
            return ids


def seed_fleet(server: Server, size: int) -> Fleet:
    """Grow the development application's fleet to ``size`` vehicles through the admin API (the
    first start made three), connect one owner to all of them, and fetch a token."""
    env = server.env()
    admin = {"Authorization": f"Bearer {env['MOTORPOOL_ADMIN_TOKEN']}"}
    app_id = env["MOTORPOOL_APPLICATION_ID"]
    with httpx.Client(base_url=server.origin, timeout=600) as http:
        existing = fleet_ids(http, app_id, admin)
        if size > len(existing):
            http.post(
                f"/admin/applications/{app_id}/fleet",
                json={"count": size - len(existing), "seed": 42},
                headers=admin,
            ).raise_for_status()
            existing = fleet_ids(http, app_id, admin)
        # A direct connect names at most 1,000 cars: the same owner, a batch at a time.
        vehicle_ids: list[str] = []
        for start in range(0, len(existing), 1_000):
            grant = http.post(
                f"/admin/applications/{app_id}/connections",
                json={
                    "email": "fleet-owner@example.com",
                    "mode": "simulated",
                    "vehicleIds": existing[start : start + 1_000],
                },
                headers=admin,
            )
            grant.raise_for_status()
            vehicle_ids += grant.json()["data"]["vehicleIds"]
        assert len(vehicle_ids) >= size, len(vehicle_ids)
        token = http.post(
            "/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": env["SMARTCAR_CLIENT_ID"],
                "client_secret": env["SMARTCAR_CLIENT_SECRET"],
            },
        ).json()["access_token"]
    return Fleet(vehicle_ids, grant.json()["data"]["userId"], token)


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
