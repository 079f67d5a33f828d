"""PostgreSQL going away under a running process: requests are answered 503 SERVER with
Retry-After (never a 500 or a crash), /readyz says unavailable, and everything recovers by
itself once the database is back."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from ..support.processes import serve
from ..support.relay import Relay
from ..support.requirements import required_env
from ..support.scale_out import fresh_database


def test_requests_get_503_while_the_database_is_cut_and_recover_after(tmp_path: Path) -> None:
    database = required_env("MOTORPOOL_TEST_DATABASE_URL", "PostgreSQL")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with fresh_database(database, f"outage_{worker}") as url:
        target = make_url(url)
        relay = Relay(target.host or "127.0.0.1", target.port or 5432)
        through_relay = target.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
        served = serve(
            tmp_path, from_environment=True, environment={"MOTORPOOL_DATABASE_URL": through_relay}
        )
        try:
            admin = served.admin_headers()
            with httpx.Client(base_url=served.origin, headers=admin) as client:
                assert client.get("/admin/applications").status_code == 200
                relay.cut()
                down = client.get("/admin/applications")
                assert down.status_code == 503, down.text
                body = down.json()
                assert (body["type"], body["code"], body["statusCode"]) == ("SERVER", "INTERNAL", 503)
                assert down.headers["retry-after"] == "1"
                assert down.headers["sc-request-id"]
                assert client.get("/readyz").status_code == 503
                assert client.get("/healthz").status_code == 200  # alive, only not ready
                relay.restore()
                deadline = time.monotonic() + 10
                while client.get("/admin/applications").status_code != 200:
                    assert time.monotonic() < deadline, "did not recover"
                    time.sleep(0.1)
                assert client.get("/readyz").status_code == 200
            assert served.process.poll() is None
            assert "Traceback" not in served.output.read_text()
        finally:
            served.stop()
            relay.close()
