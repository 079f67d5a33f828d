"""How long a token revoked through one process stays accepted by another.

    .venv/bin/python bench/invalidation.py --database-url postgresql://USER@HOST/DB [--trials 100]

Two ``motorpool serve`` processes, side by side in one run, twice: over PostgreSQL, where the
revocation is announced (``NOTIFY``) and polling is set to a minute, and over one SQLite file
without Redis, where polling every second (``MOTORPOOL_POLL_INTERVAL``, the default) is all
there is. Each trial grants a token through the first process, reads with it through the second
(so the second has it cached), revokes it through the first and times until the second refuses
it. A database named after the given one plus ``_bench_invalidation`` is created and dropped."""

from __future__ import annotations

import _pathfix  # noqa: F401  (must come first: see _pathfix.py)

# isort: split
import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
from harness import free_port, wait_ready
from sqlalchemy.engine import make_url


@contextmanager
def _fresh_postgres(url: str) -> Iterator[str]:
    base = make_url(url.replace("postgresql://", "postgresql+asyncpg://", 1))
    name = f"{base.database}_bench_invalidation"
    dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)

    async def run(statement: str) -> None:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def _two_processes(database_url: str, poll_interval: str) -> Iterator[tuple[str, str, dict[str, str]]]:
    workdir = Path(tempfile.mkdtemp(prefix="motorpool-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTORPOOL_")} | {
        "MOTORPOOL_DATABASE_URL": database_url,
        "MOTORPOOL_POLL_INTERVAL": poll_interval,
        "MOTORPOOL_CLIENT_CACHE_TTL": "3600",
        "MOTORPOOL_PUBLIC_URL": "http://platform.motorpool.test",
        "MOTORPOOL_ENV_FILE": str(workdir / ".env"),
        "MOTORPOOL_PRINT_CREDENTIALS": "false",
        "MOTORPOOL_LOG_LEVEL": "warning",
    }
    processes: list[subprocess.Popen[bytes]] = []
    origins: list[str] = []
    try:
        for _ in range(2):  # one after the other: the first makes the first start
            port = free_port()
            argv = [sys.executable, "-m", "motorpool.cli", "serve", "--port", str(port), "--log-level", "warning"]
            processes.append(subprocess.Popen(argv, env=env, cwd=workdir))
            origins.append(f"http://127.0.0.1:{port}")
            wait_ready(origins[-1] + "/.well-known/jwks.json")
        values = dict(
            line.split("=", 1) for line in (workdir / ".env").read_text().splitlines() if "=" in line
        )
        yield origins[0], origins[1], values
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


def _delays(first_origin: str, second_origin: str, env: dict[str, str], trials: int) -> list[float]:
    credentials = {"client_id": env["SMARTCAR_CLIENT_ID"], "client_secret": env["SMARTCAR_CLIENT_SECRET"]}
    delays: list[float] = []
    with httpx.Client(base_url=first_origin) as first, httpx.Client(base_url=second_origin) as second:
        for _ in range(trials):
            token = first.post(
                "/oauth2/token", data={"grant_type": "client_credentials", **credentials}
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            assert second.get("/v3/connections", headers=headers).status_code == 200
            assert first.post("/oauth2/revoke", data={"token": token, **credentials}).status_code == 200
            started = time.perf_counter()
            while second.get("/v3/connections", headers=headers).status_code != 401:
                if time.perf_counter() - started > 10:
                    break
            delays.append(time.perf_counter() - started)
    return delays


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, -(-99 * len(ordered) // 100) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("MOTORPOOL_BENCH_DATABASE_URL"))
    parser.add_argument("--trials", type=int, default=100)
    args = parser.parse_args()
    if not args.database_url:
        parser.error("give --database-url (a PostgreSQL server the bench may create a database on)")
    rows: list[tuple[str, list[float]]] = []
    with _fresh_postgres(args.database_url) as url, _two_processes(url, "60") as (a, b, env):
        rows.append(("announced (PostgreSQL NOTIFY, polling 60 s)", _delays(a, b, env, args.trials)))
    sqlite = Path(tempfile.mkdtemp(prefix="motorpool-bench-db-")) / "motorpool.db"
    with _two_processes(f"sqlite:///{sqlite}", "1") as (a, b, env):
        rows.append(("polled (SQLite, no Redis, polling 1 s)", _delays(a, b, env, args.trials)))
    shutil.rmtree(sqlite.parent, ignore_errors=True)
    print(f"revoked token refused by the other process, {args.trials} trials each")
    print(f"{'':46} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, delays in rows:
        print(f"{name:46} {statistics.median(delays) * 1000:8.1f} {_p99(delays) * 1000:8.1f} {max(delays) * 1000:8.1f}")
    announced, polled = rows[0][1], rows[1][1]
    print(f"p99 ratio polled / announced: {_p99(polled) / _p99(announced):.0f}x")


if __name__ == "__main__":
    main()
