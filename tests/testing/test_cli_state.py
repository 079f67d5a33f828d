"""The state-control commands as a user runs them: `snapshot`, `scenario load`, `db reset`,
`serve --memory`, a busy port, `--version`."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from motorpool.testing import MotorpoolPlatform
from tests.support.processes import free_port, read_env_file, stop, wait_until
from tests.support.up import clean_environment

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "scenarios" / "commuters.toml"


def motorpool(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "motorpool.cli", *args], cwd=cwd, env=clean_environment(),
        input=stdin, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_snapshot_save_restore_list_delete(mp: MotorpoolPlatform, tmp_path: Path) -> None:
    mp.reset()
    options = ["--url", mp.url, "--admin-token", mp.admin_token]
    saved = motorpool("snapshot", "save", "clean", *options, cwd=tmp_path)
    assert saved.returncode == 0 and "saved snapshot clean" in saved.stdout, saved.stderr
    mp.fleet(3)
    assert len(mp.admin("GET", f"/admin/applications/{mp.application_id}/vehicles")) == 6
    restored = motorpool("snapshot", "restore", "clean", *options, "--json", cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout)["name"] == "clean"
    assert len(mp.admin("GET", f"/admin/applications/{mp.application_id}/vehicles")) == 3
    listed = json.loads(motorpool("snapshot", "list", *options, "--json", cwd=tmp_path).stdout)
    assert "clean" in {s["name"] for s in listed}
    assert motorpool("snapshot", "delete", "clean", *options, cwd=tmp_path).returncode == 0
    missing = motorpool("snapshot", "restore", "clean", *options, cwd=tmp_path)
    assert missing.returncode == 1 and "No snapshot named 'clean'" in missing.stderr


def test_scenario_load_prints_full_ids(mp: MotorpoolPlatform, tmp_path: Path) -> None:
    mp.reset()
    options = ["--url", mp.url, "--admin-token", mp.admin_token]
    loaded = motorpool("scenario", "load", str(EXAMPLE), *options, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    printed = re.search(r"vehicles ada-car: ([0-9a-f-]{36})$", loaded.stdout, re.MULTILINE)
    assert printed is not None, loaded.stdout  # the whole id, not a cut one
    fleet = {v["id"]: v for v in mp.admin("GET", f"/admin/applications/{mp.application_id}/vehicles")}
    assert fleet[printed.group(1)]["make"] == "TESLA"
    as_json = motorpool("scenario", "load", str(EXAMPLE), *options, "--json", cwd=tmp_path)
    assert set(json.loads(as_json.stdout)["users"]) == {"ada@example.com", "grace@example.com"}
    bad = tmp_path / "bad.toml"
    bad.write_text("[[fleets]]\ncount = 'many'\n")
    refused = motorpool("scenario", "load", str(bad), *options, cwd=tmp_path)
    assert refused.returncode == 1 and "/fleets/0/count" in refused.stderr
    assert motorpool("scenario", "load", str(tmp_path / "x.ini"), *options, cwd=tmp_path).returncode == 2


def test_db_reset_starts_afresh_and_keeps_other_env_lines(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MINE=kept\n")
    database = ["--database-url", f"sqlite:///{tmp_path / 'motorpool.db'}"]
    refused = motorpool("db", "reset", *database, cwd=tmp_path, stdin="")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    first = motorpool("db", "reset", "--yes", *database, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = read_env_file(tmp_path / ".env")
    again = motorpool("db", "reset", "--yes", "--json", *database, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    after = read_env_file(tmp_path / ".env")
    assert json.loads(again.stdout)["SMARTCAR_CLIENT_ID"] == after["SMARTCAR_CLIENT_ID"]
    assert after["SMARTCAR_CLIENT_ID"] != before["SMARTCAR_CLIENT_ID"]
    assert after["MINE"] == "kept"


def test_serve_memory_writes_nothing(tmp_path: Path) -> None:
    port = free_port()
    output = tmp_path.parent / f"{tmp_path.name}-serve.log"
    with output.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "motorpool.cli", "serve", "--memory", "--port", str(port)],
            cwd=tmp_path, env=clean_environment(), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/.well-known/jwks.json"), process, output, "serve --memory")
        printed = output.read_text()
        assert "in memory" in printed and "SMARTCAR_CLIENT_SECRET=" in printed
        client_id = next(line.split("=", 1)[1] for line in printed.split() if line.startswith("SMARTCAR_CLIENT_ID="))
        secret = next(line.split("=", 1)[1] for line in printed.split() if line.startswith("SMARTCAR_CLIENT_SECRET="))
        token = httpx.post(f"http://127.0.0.1:{port}/oauth2/token",
                           data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})  # fmt: skip
        assert token.status_code == 200
    finally:
        stop(process)
    assert os.listdir(tmp_path) == []


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_serve_on_a_busy_port_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = motorpool("serve", "--memory", "--port", str(port), cwd=tmp_path)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "Traceback" not in result.stderr and "ERROR" not in result.stderr


def test_version(tmp_path: Path) -> None:
    from importlib.metadata import version

    result = motorpool("--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == f"motorpool {version('motorpool')}"
