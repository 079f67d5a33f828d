"""``pip install motorpool`` is the SDK alone: built as a wheel, installed into an empty
virtualenv, it imports and works without FastAPI, SQLAlchemy, uvicorn or any other server
package, and its console script says how to get the platform."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from ..support.requirements import missing

ROOT = Path(__file__).resolve().parents[2]
SERVER_PACKAGES = {
    "fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "asyncpg", "aiosqlite",
    "pydantic-settings", "typer", "rich", "redis", "jinja2", "argon2-cffi",
}


@pytest.fixture(scope="module")
def sdk_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a fresh virtualenv holding the built wheel and its dependencies only."""
    work = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(work / "dist"), str(ROOT)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    [wheel] = (work / "dist").glob("motorpool-*.whl")
    venv.create(work / "venv", with_pip=True)
    python = work / "venv" / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True, timeout=600, check=False
    )
    if install.returncode != 0:
        missing(f"the wheel's dependencies could not be installed: {install.stderr[-500:]}")
    return python


def run(python: Path, code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=120, env=env, cwd="/", check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_the_wheel_brings_no_server_package(sdk_only: Path) -> None:
    listed = subprocess.run(
        [str(sdk_only), "-m", "pip", "list", "--format", "json"], capture_output=True, text=True, check=True
    )
    names = {entry["name"].lower() for entry in json.loads(listed.stdout)}
    assert {"motorpool", "httpx", "aiohttp", "pydantic", "orjson", "sniffio"} <= names
    assert not names & SERVER_PACKAGES


def test_the_sdk_imports_and_builds_its_urls_without_the_platform(sdk_only: Path) -> None:
    code = (
        "import asyncio, motorpool\n"
        "from importlib.metadata import version\n"
        "assert motorpool.__version__ == version('motorpool')\n"
        "auth = motorpool.AuthClient('cid', 'sec', 'https://app.example/cb', mode='simulated')\n"
        "assert auth.get_auth_url(['read_odometer']).startswith('https://connect.smartcar.com/')\n"
        "client = motorpool.Client('cid', 'sec', base_url='http://127.0.0.1:9')\n"
        "client.close()\n"
        "async def main():\n"
        "    async with motorpool.AsyncClient('cid', 'sec', base_url='http://127.0.0.1:9', max_retries=0) as c:\n"
        "        try:\n"
        "            await c.access_token()\n"
        "        except motorpool.ConnectError:\n"
        "            print('refused')\n"
        "asyncio.run(main())\n"
    )
    assert run(sdk_only, code).strip() == "refused"


def test_the_console_script_says_how_to_install_the_platform(sdk_only: Path) -> None:
    script = sdk_only.parent / "motorpool"
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60, cwd="/", check=False)
    assert out.returncode == 1
    assert "pip install 'motorpool[platform]'" in out.stderr and "Traceback" not in out.stderr
