"""`--json` on every command of the CLI: a walk over the Typer app fails for any command without
it, and the commands that do not talk to a running platform (serve, up, worker, hosts, ca
trust-help, db upgrade) are run to show that their stdout is one JSON document."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from typer.main import get_command

from motorpool.cli import app

from ..support.processes import free_port, stop
from ..support.up import clean_environment
from .test_cli_state import motorpool


def _leaf_commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """Every command a user can run, as ``motorpool a b`` and its click command."""
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        yield " ".join(("motorpool", *path)), command
        return
    for name, sub in subcommands.items():
        yield from _leaf_commands(sub, (*path, name))


def test_every_command_has_a_json_option() -> None:
    commands = dict(_leaf_commands(get_command(app)))
    assert len(commands) > 50  # the walk reaches the nested groups (apps, vehicles, webhooks…)
    missing = [
        name
        for name, command in commands.items()
        if "--json" not in {opt for param in command.params for opt in getattr(param, "opts", [])}
    ]
    assert not missing, f"commands without --json (add `as_json: JsonFlag = False`): {missing}"


def test_hosts_trust_help_and_db_upgrade_print_one_document(tmp_path: Path) -> None:
    hosts = json.loads(motorpool("hosts", "--address", "10.0.0.7", "--json", cwd=tmp_path).stdout)
    assert hosts["address"] == "10.0.0.7" and "vehicle.api.smartcar.com" in hosts["hosts"]
    assert "10.0.0.7 iam.smartcar.com" in hosts["lines"]

    hosts_file = tmp_path / "hosts"
    applied = motorpool("hosts", "--apply", "--file", str(hosts_file), "--json", cwd=tmp_path)
    assert json.loads(applied.stdout) | {"lines": None} == {
        "address": "127.0.0.1", "hosts": hosts["hosts"], "file": str(hosts_file),
        "applied": True, "removed": False, "changed": True, "lines": None,
    }  # fmt: skip
    assert "127.0.0.1 iam.smartcar.com" in hosts_file.read_text()

    trust = motorpool("ca", "trust-help", "--data-dir", str(tmp_path / "data"), "--proxy-port", "4321",
                      "--json", cwd=tmp_path)  # fmt: skip
    facts = json.loads(trust.stdout)
    assert Path(facts["ca"]).exists() and facts["proxy"] == "http://127.0.0.1:4321"
    assert facts["environment"]["NODE_EXTRA_CA_CERTS"] == facts["ca"]
    assert "keytool" in facts["help"]

    database = f"sqlite:///{tmp_path / 'upgraded.db'}"
    upgraded = motorpool("db", "upgrade", "--database-url", database, "--json", cwd=tmp_path)
    document = json.loads(upgraded.stdout)
    assert document["atHead"] is True and document["database"].endswith("/upgraded.db"), upgraded.stderr


def _first_document(process: subprocess.Popen[str], timeout: float = 60) -> dict[str, Any]:
    """The JSON document a long-running command prints on stdout once it serves: read line by
    line until the lines read parse (it is printed indented)."""
    assert process.stdout is not None
    deadline, text = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"exited with {process.wait()} before printing a document: {text!r}")
        text += line
        try:
            document: dict[str, Any] = json.loads(text)
        except json.JSONDecodeError:
            continue
        return document
    raise AssertionError(f"no JSON document in {timeout} s: {text!r}")


def _start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "motorpool.cli", *args], cwd=cwd, env=clean_environment(),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip


def test_serve_json_prints_the_start_up_facts_once_it_serves(tmp_path: Path) -> None:
    port = free_port()
    process = _start("serve", "--memory", "--port", str(port), "--log-level", "warning", "--json", cwd=tmp_path)
    try:
        facts = _first_document(process)
        assert facts["url"] == f"http://127.0.0.1:{port}" and facts["database"] == "memory"
        assert facts["docs"] == f"{facts['url']}/docs" and facts["envFile"] is None
        credentials = facts["credentials"]  # a first start: shown once, here
        assert facts["application"] == {"id": credentials["MOTORPOOL_APPLICATION_ID"],
                                        "clientId": credentials["SMARTCAR_CLIENT_ID"]}  # fmt: skip
        token = httpx.post(f"{facts['url']}/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": credentials["SMARTCAR_CLIENT_ID"],
            "client_secret": credentials["SMARTCAR_CLIENT_SECRET"],
        })  # fmt: skip
        assert token.status_code == 200, token.text
        assert process.stdout is not None
    finally:
        stop(process)  # type: ignore[arg-type]
    assert process.stdout.read() == ""  # nothing but the one document on stdout


def test_up_json_prints_the_platform_and_demo_facts(tmp_path: Path) -> None:
    platform_port, demo_port = free_port(), free_port()
    process = _start("up", "--platform-port", str(platform_port), "--demo-port", str(demo_port),
                     "--database-url", f"sqlite:///{tmp_path / 'up.db'}", "--json", cwd=tmp_path)  # fmt: skip
    try:
        facts = _first_document(process)
        assert facts["url"] == f"http://127.0.0.1:{platform_port}"
        assert facts["login"] == f"http://localhost:{demo_port}/login"
        assert facts["application"]["id"] and facts["envFile"] == str((tmp_path / ".env").resolve())
        login = httpx.get(facts["login"].replace("localhost", "127.0.0.1"))
        assert login.status_code == 302 and "/oauth/authorize" in login.headers["location"]
    finally:
        stop(process)  # type: ignore[arg-type]


def test_worker_json_prints_its_facts(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'worker.db'}"
    assert motorpool("db", "upgrade", "--database-url", database, cwd=tmp_path).returncode == 0
    process = _start("worker", "--database-url", database, "--json", cwd=tmp_path)
    try:
        facts = _first_document(process)
        assert facts["database"].endswith("/worker.db") and facts["pid"] == process.pid
    finally:
        stop(process)  # type: ignore[arg-type]
