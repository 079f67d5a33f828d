"""The tutorial's own code, unchanged, against motorpool: its Python app (Flask, requests, the
official ``smartcar`` package for the Connect URL) and its Node app (Express, the global
``fetch``, the official ``smartcar`` npm package) hard-code ``https://iam.smartcar.com`` and
``https://vehicle.api.smartcar.com``; only environment variables, printed by
``motorpool env``, point them at ``motorpool serve --tls``.

Each way is the one that fits the language (the README says which): Python honours
``HTTPS_PROXY``, so it goes through ``--proxy-port``; Node 20's global ``fetch`` ignores it, so
the host names are mapped with ``motorpool hosts --apply`` to a platform serving on port 443.
Each run happens in a private network namespace (``tests/support/private_network.py``): its
ports 443 and 8000 are its own, and the hosts file it changes is a private copy — the machine's
``/etc/hosts`` is never written."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from ..support.private_network import require_private_network, run_private
from ..support.requirements import missing
from ..support.up import clean_environment

pytestmark = pytest.mark.e2e

REPOSITORY = Path(__file__).resolve().parents[2]
NODE_APP = Path(__file__).resolve().parent / "node"


def walk(language: str, way: str, workdir: Path) -> dict[str, Any]:
    """Run ``tests/tutorial/walk.py`` in a private network; what it reported."""
    require_private_network()
    completed = run_private(
        [sys.executable, "-m", "tests.tutorial.walk", "--language", language, "--way", way,
         "--workdir", str(workdir)],
        cwd=REPOSITORY, env=clean_environment(), hosts_copy=workdir / "hosts", timeout=240,
    )  # fmt: skip
    lines = completed.stdout.strip().splitlines()
    assert completed.returncode == 0 and lines, f"the walk broke:\n{completed.stdout}\n{completed.stderr}"
    result: dict[str, Any] = json.loads(lines[-1])
    assert "error" not in result, "\n".join(f"--- {k}\n{v}" for k, v in result.items())
    return result


def assert_walked_to_the_vehicle(result: dict[str, Any]) -> None:
    steps = result["steps"]
    logs = f"\n--- serve\n{result['serve_log']}\n--- app\n{result['app_log']}"
    assert steps["login"]["status"] == 302, logs
    assert steps["login"]["location"].startswith("https://connect.smartcar.com/oauth/authorize?"), steps
    assert steps["connect_page"] == {"status": 200, "url": steps["login"]["location"]}, steps
    assert steps["connect_redirect"]["status"] == 302, steps
    assert steps["connect_redirect"]["location"].startswith("http://localhost:8000/exchange?"), steps
    assert steps["exchange"]["status"] == 200, logs
    assert steps["vehicle"]["status"] == 200, steps["vehicle"]["body"] + logs
    shown = json.loads(steps["vehicle"]["body"])
    # The platform's own view: the user's newest connection is the vehicle /vehicle shows.
    connection = result["platform"]["connections"][0]
    assert connection["userId"] == steps["user_id"]
    car = next(v for v in result["platform"]["fleet"] if v["id"] == connection["vehicleId"])
    assert shown == {"make": car["make"], "model": car["model"], "year": car["year"]}


def test_the_python_app_runs_unchanged_through_the_proxy(tmp_path: Path) -> None:
    before = Path("/etc/hosts").read_bytes()
    result = walk("python", "proxy", tmp_path)
    assert_walked_to_the_vehicle(result)
    exported = result["exported"]
    assert "export HTTPS_PROXY=http://127.0.0.1:4080" in exported
    assert "export REQUESTS_CA_BUNDLE=" in exported and "export SMARTCAR_CLIENT_ID=client_" in exported
    assert Path("/etc/hosts").read_bytes() == before


def test_the_node_app_runs_unchanged_by_host_name(tmp_path: Path) -> None:
    if shutil.which("node") is None:
        missing("the Node tutorial test needs node (apt-get install nodejs npm)")
    if not (NODE_APP / "node_modules" / "express").exists():
        missing("the Node tutorial test needs its packages: make official-sdks (npm ci in tests/tutorial/node)")
    before = Path("/etc/hosts").read_bytes()
    result = walk("node", "hosts", tmp_path)
    assert result["hosts_apply"]["code"] == 0, result["hosts_apply"]
    assert_walked_to_the_vehicle(result)
    assert "export NODE_EXTRA_CA_CERTS=" in result["exported"]
    assert "HTTPS_PROXY" not in result["exported"]
    assert result["hosts_remove"] == {"code": 0, "restored": True}
    assert Path("/etc/hosts").read_bytes() == before


def test_the_python_app_runs_unchanged_by_host_name(tmp_path: Path) -> None:
    result = walk("python", "hosts", tmp_path)
    assert_walked_to_the_vehicle(result)
    assert result["hosts_remove"] == {"code": 0, "restored": True}
