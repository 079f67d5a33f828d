"""Redis going down while two processes share one SQLite file and Redis carries their
announcements: a revocation made through one process is still refused by the other — by polling
the database, within the polling interval — and once Redis is back, announcements carry changes
at once again. The Redis here is a server of the test's own, so that stopping it disturbs
nobody else."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ..support.harness import KEY_ENCRYPTION_KEY
from ..support.processes import free_port
from ..support.requirements import missing
from ..support.scale_out import Pair, time_until, two_processes

pytestmark = pytest.mark.e2e

#: Seconds between polls: the fallback's pace while Redis is away.
POLL = 1.0


def start_redis(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server") or missing(
        "redis-server (to start and stop a Redis of the test's own)"
    )
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("redis-server did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(10)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    """A Redis server of this test's own on a free port; the list holds every one started."""
    port = free_port()
    started = [start_redis(port, tmp_path)]
    try:
        yield port, started
    finally:
        for process in started:
            stop(process)


def revoked_and_refused(pair: Pair) -> float:
    """Grant a token through the first process, use it on the second, revoke it through the
    first: seconds until the second refuses it."""
    env = pair.env()
    credentials = {
        "client_id": env["SMARTCAR_CLIENT_ID"],
        "client_secret": env["SMARTCAR_CLIENT_SECRET"],
    }
    with (
        httpx.Client(base_url=pair.first.origin) as first,
        httpx.Client(base_url=pair.second.origin) as second,
    ):
        grant = first.post(
            "/oauth2/token", data={"grant_type": "client_credentials", **credentials}
        )
        assert grant.status_code == 200, grant.text
        token = grant.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert second.get("/v3/connections", headers=headers).status_code == 200
        revoked = first.post("/oauth2/revoke", data={"token": token, **credentials})
        assert revoked.status_code == 200, revoked.text  # Redis down does not fail the change
        return time_until(
            lambda: second.get("/v3/connections", headers=headers).status_code == 401, 10.0
        )


def test_with_redis_down_a_revocation_still_reaches_the_other_process_by_polling(
    tmp_path: Path, own_redis: tuple[int, list[subprocess.Popen[bytes]]]
) -> None:
    port, servers = own_redis
    redis = f"redis://127.0.0.1:{port}/0"
    environment = {
        "MOTORPOOL_POLL_INTERVAL": str(POLL),
        "MOTORPOOL_KEY_ENCRYPTION_KEY": KEY_ENCRYPTION_KEY,
    }
    (tmp_path / "run").mkdir()
    with two_processes(
        tmp_path / "run", f"sqlite:///{tmp_path / 'motorpool.db'}", redis, environment
    ) as pair:
        announced = revoked_and_refused(pair)
        assert announced < 0.5, f"{announced * 1000:.0f} ms with Redis up: not announced"

        stop(servers[0])
        fallback = [revoked_and_refused(pair) for _ in range(3)]
        # Refused all the same, by the next poll: within the interval (and some slack for load).
        assert max(fallback) < POLL + 2.0, f"refused after {max(fallback):.2f} s with Redis down"
        log = pair.second.output.read_text()
        assert "polling until it is back" in log
        assert log.count("Redis listener lost") == 1, "one warning, not one per attempt"

        servers.append(start_redis(port, tmp_path))
        assert (
            time_until(lambda: httpx.get(pair.second.origin + "/readyz").status_code == 200, 15.0)
            < 15.0
        )
        time.sleep(0.5)  # the listener subscribes again (it retries every half second)
        again = revoked_and_refused(pair)
        assert again < 0.5, (
            f"{again * 1000:.0f} ms once Redis is back: announcements did not resume"
        )
