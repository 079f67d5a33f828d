"""``motorpool serve --workers N``: several processes on one port over PostgreSQL, refused with
the URL to use on SQLite, stopped gracefully by SIGTERM."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from ..support.processes import free_port, serve
from ..support.requirements import required_env
from ..support.scale_out import fresh_database


def test_more_than_one_worker_on_sqlite_is_refused_with_the_url_to_use(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTORPOOL_")}
    done = subprocess.run(
        [sys.executable, "-m", "motorpool.cli", "serve", "--workers", "2", "--port", str(free_port()),
         "--database-url", f"sqlite:///{tmp_path / 'motorpool.db'}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "need PostgreSQL" in done.stderr
    assert "postgresql://" in done.stderr
    assert not (tmp_path / "motorpool.db").exists()  # nothing was started or created


def test_two_workers_serve_one_port_and_stop_gracefully_on_sigterm(tmp_path: Path) -> None:
    database = required_env("MOTORPOOL_TEST_DATABASE_URL", "PostgreSQL")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with fresh_database(database, f"workers_{worker}") as url:
        served = serve(
            tmp_path, from_environment=True, args=["--workers", "2"],
            environment={"MOTORPOOL_DATABASE_URL": url},
        )  # fmt: skip
        try:
            env = served.env()  # the first start ran once, before the workers
            with httpx.Client(base_url=served.origin) as client:
                for _ in range(20):  # new connections, spread over both workers by the kernel
                    grant = served.grant()
                    assert grant.status_code == 200, grant.text
                    token = grant.json()["access_token"]
                    listed = client.get("/v3/connections", headers={"Authorization": f"Bearer {token}"})
                    assert listed.status_code == 200
                ready = client.get("/readyz")
                assert ready.status_code == 200
                assert ready.json()["checks"]["database"] == "ok"
            assert env["SMARTCAR_CLIENT_ID"].startswith("client_")
        finally:
            served.process.terminate()
            code = served.process.wait(60)
        assert code == 0, served.output.read_text()
        assert "Traceback" not in served.output.read_text()
