"""Scaling on PostgreSQL: one worker beside two, and a small fleet beside a large one.

    .venv/bin/python bench/scale.py --database-url postgresql://USER@HOST:5432/DB
        [--seconds 8] [--rounds 2] [--small 1000] [--large 200000]

A fresh database (the given one's name plus ``_bench_scale``, dropped afterwards) is seeded with
``motorpool vehicles seed`` (a small fleet connected to one owner; the seeding rate is printed).
``motorpool serve --workers 1`` and ``--workers 2`` run side by side on it, idle but for the one
measured, and wrk drives each in alternating rounds: signal reads (1,000 vehicles of the owner, at
random) and client-credentials grants. The ratio 2 workers / 1 worker is printed per round and as
a median. wrk runs on the same two cores as the servers and PostgreSQL: this machine has no
spare core for the load generator, so 2 workers cannot reach 2x here; the ratio shows what a
second core buys when it is shared.

Then the large fleet is seeded (connected to a second owner) and reads of a random 1,000 of its
vehicles are measured beside reads of the small owner's, on one worker: the read ratio between
fleet sizes (the issue's target: within 10 %). The large size is bounded by what seeds in a few
minutes here; ``--large 1000000`` runs the full million where time allows."""

from __future__ import annotations

import _pathfix  # noqa: F401  (must come first: see _pathfix.py)

# isort: split
import argparse
import asyncio
import os
import random
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import asyncpg  # type: ignore[import-untyped]
import httpx
from harness import PYTHON, WrkResult, free_port, lua_string, run_wrk, wait_ready
from sqlalchemy.engine import make_url


@contextmanager
def fresh_database(url: str) -> Iterator[str]:
    base = make_url(url)
    name = f"{base.database}_bench_scale"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)

    async def run(*statements: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    asyncio.run(run(drop, f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(run(drop))


@contextmanager
def serve(workdir: Path, database_url: str, workers: int) -> Iterator[str]:
    """``motorpool serve --workers N`` on a free port (unpinned: the workers share both cores)."""
    port = free_port()
    env = {**os.environ, "MOTORPOOL_ENV_FILE": str(workdir / ".env"), "MOTORPOOL_PRINT_CREDENTIALS": "false",
           # One issuer, as behind a load balancer: a token of one server is valid on the other.
           "MOTORPOOL_PUBLIC_URL": "http://platform.motorpool.test"}  # fmt: skip
    argv = [PYTHON, "-m", "motorpool.cli", "serve", "--port", str(port), "--database-url", database_url,
            "--workers", str(workers), "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(argv, env=env, cwd=workdir)
    try:
        origin = f"http://127.0.0.1:{port}"
        wait_ready(origin + "/.well-known/jwks.json", timeout=120)
        yield origin
    finally:
        process.terminate()
        process.wait(timeout=60)


def env_of(workdir: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (workdir / ".env").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def seed(
    workdir: Path, database_url: str, application: str, count: int, owner: str
) -> tuple[str, float]:
    """Seed ``count`` vehicles connected to ``owner``; the user id and vehicles per second."""
    argv = [PYTHON, "-m", "motorpool.cli", "vehicles", "seed", "--count", str(count), "--application",
            application, "--connect", owner, "--seed", str(count), "--database-url", database_url]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=workdir, capture_output=True, text=True, check=True)
    took = time.perf_counter() - started
    user = re.search(r"connected to user (\S+)", done.stderr)
    assert user, done.stderr
    print(
        f"seeded {count:>9,} vehicles in {took:6.1f} s ({count / took:,.0f} a second, the command's whole run)"
    )
    return user.group(1), count / took


def vehicle_ids(origin: str, token: str, user_id: str, sample: int) -> list[str]:
    """A random ``sample`` of the user's vehicles (from the first pages of their connections)."""
    found: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=origin, timeout=60) as http:
        page = 1
        while len(found) < sample * 3:
            answer = http.get("/v3/connections", headers=headers,
                              params={"filter[userId]": user_id, "page[size]": 100, "page[number]": page})  # fmt: skip
            answer.raise_for_status()
            batch = [c["vehicleId"] for c in answer.json()["connections"]]
            found += batch
            if len(batch) < 100:
                break
            page += 1
    return random.Random(1).sample(found, min(sample, len(found)))


def prime(origin: str, ids: list[str], token: str, user_id: str) -> None:
    """Read each vehicle once (each must answer 200): caches warm, and a wrong setup shows here."""
    headers = {"Authorization": f"Bearer {token}", "sc-user-id": user_id}
    with httpx.Client(base_url=origin, timeout=60) as http:
        for vid in ids:
            answer = http.get(
                f"/v3/vehicles/{vid}/signals/odometer-traveleddistance", headers=headers
            )
            assert answer.status_code == 200, answer.text


def reads_script(ids: list[str], token: str, user_id: str) -> str:
    paths = ",".join(
        lua_string(f"/v3/vehicles/{vid}/signals/odometer-traveleddistance") for vid in ids
    )
    return (
        f"local paths = {{{paths}}}\n"
        f'wrk.headers["Authorization"] = {lua_string("Bearer " + token)}\n'
        f'wrk.headers["sc-user-id"] = {lua_string(user_id)}\n'
        "math.randomseed(7)\n"
        "request = function()\n  return wrk.format(nil, paths[math.random(#paths)])\nend\n"
    )


def grants_script(env: dict[str, str]) -> str:
    form = urlencode({"grant_type": "client_credentials", "client_id": env["SMARTCAR_CLIENT_ID"],
                      "client_secret": env["SMARTCAR_CLIENT_SECRET"]})  # fmt: skip
    return (f'wrk.method = "POST"\nwrk.body = {lua_string(form)}\n'
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n')  # fmt: skip


def token_of(origin: str, env: dict[str, str]) -> str:
    answer = httpx.post(origin + "/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": env["SMARTCAR_CLIENT_ID"],
        "client_secret": env["SMARTCAR_CLIENT_SECRET"]})  # fmt: skip
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def transactions(url: str) -> int:
    """Transactions PostgreSQL has counted in the database so far (its statistics, which every
    backend reports within a second or so)."""

    async def read() -> int:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn)
        try:
            value = await connection.fetchval(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
            )
            return int(value)
        finally:
            await connection.close()

    time.sleep(1.5)  # let the servers' backends report what they did
    return asyncio.run(read())


def per_request(url: str, origin: str, script: str, seconds: int, what: str) -> None:
    """PostgreSQL transactions per request of one wrk run (the capacity model's database cost)."""
    before = transactions(url)
    result = checked(run_wrk(origin, script=script, seconds=seconds, warmup=0), what)
    spent = transactions(url) - before - 1  # less the statistics read of ``before`` itself
    answered = result.requests_per_second * seconds
    print(
        f"  {what:<14} {answered:9,.0f} requests, {spent:7,} PostgreSQL transactions: {spent / answered:.4f} a request"
    )


def checked(result: WrkResult, what: str) -> WrkResult:
    assert result.non_2xx == 0 and result.errors == 0, f"{what}: {result}"
    return result


def show(label: str, one: WrkResult, two: WrkResult) -> float:
    ratio = two.requests_per_second / one.requests_per_second
    print(f"  {label:<14} 1 worker {one.requests_per_second:7.0f} req/s (p99 {one.p99_ms:6.1f} ms)"
          f"  |  2 workers {two.requests_per_second:7.0f} req/s (p99 {two.p99_ms:6.1f} ms)  |  ratio {ratio:.2f}")  # fmt: skip
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("MOTORPOOL_TEST_DATABASE_URL"))
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument(
        "--large", type=int, default=200_000, help="0 skips the fleet-size comparison"
    )
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgresql"):
        parser.error("give --database-url postgresql://… (several workers need PostgreSQL)")
    print(f"{os.cpu_count()} cores shared by wrk, the servers and PostgreSQL")

    with (
        tempfile.TemporaryDirectory(prefix="motorpool-bench-scale-") as folder,
        fresh_database(args.database_url) as url,
    ):
        workdir = Path(folder)
        with serve(workdir, url, 1):
            pass  # the first start: migrations, keys, the development application, .env
        env = env_of(workdir)
        small_user, _ = seed(
            workdir, url, env["MOTORPOOL_APPLICATION_ID"], args.small, "small@bench.motorpool.test"
        )

        read_ratios: list[float] = []
        grant_ratios: list[float] = []
        with serve(workdir, url, 1) as one, serve(workdir, url, 2) as two:
            token = token_of(one, env)
            ids = vehicle_ids(one, token, small_user, 1000)
            prime(one, ids, token, small_user)
            prime(two, ids, token, small_user)
            reads, grants = reads_script(ids, token, small_user), grants_script(env)
            for number in range(args.rounds):
                print(f"round {number + 1}")
                order = (one, two) if number % 2 == 0 else (two, one)
                got = {
                    o: checked(run_wrk(o + "/", script=reads, seconds=args.seconds), "reads")
                    for o in order
                }
                read_ratios.append(show("signal reads", got[one], got[two]))
                got = {o: checked(run_wrk(o + "/oauth2/token", script=grants, seconds=args.seconds), "grants")
                       for o in order}  # fmt: skip
                grant_ratios.append(show("token grants", got[one], got[two]))
            print("what a request costs PostgreSQL (1 worker, caches warm):")
            per_request(url, one + "/", reads, args.seconds, "signal reads")
            per_request(url, one + "/oauth2/token", grants, args.seconds, "token grants")
        print(
            f"2 workers / 1 worker (medians): signal reads {statistics.median(read_ratios):.2f}, "
            f"token grants {statistics.median(grant_ratios):.2f}"
        )

        if args.large:
            with serve(workdir, url, 1) as one:
                prime(one, ids, token, small_user)
                before = checked(run_wrk(one + "/", script=reads, seconds=args.seconds), "reads")
            large_user, _ = seed(
                workdir,
                url,
                env["MOTORPOOL_APPLICATION_ID"],
                args.large,
                "large@bench.motorpool.test",
            )
            with serve(workdir, url, 1) as one:
                token = token_of(one, env)
                large_ids = vehicle_ids(one, token, large_user, 1000)
                prime(one, ids, token, small_user)
                prime(one, large_ids, token, large_user)
                small_reads, large_reads = (
                    reads_script(ids, token, small_user),
                    reads_script(large_ids, token, large_user),
                )
                smalls, larges = [], []
                for number in range(args.rounds):
                    pair = [("small", small_reads), ("large", large_reads)]
                    for name, script in pair if number % 2 == 0 else pair[::-1]:
                        result = checked(
                            run_wrk(one + "/", script=script, seconds=args.seconds), name
                        )
                        (smalls if name == "small" else larges).append(result.requests_per_second)
            small_rps, large_rps = statistics.median(smalls), statistics.median(larges)
            print(f"fleet {args.small:,} alone: {before.requests_per_second:.0f} req/s; with {args.large:,} more "
                  f"in the database: {args.small:,}-fleet owner {small_rps:.0f} req/s, {args.large:,}-fleet owner "
                  f"{large_rps:.0f} req/s")  # fmt: skip
            print(
                f"read ratio large / small fleet: {large_rps / before.requests_per_second:.3f} "
                f"(against the small fleet alone), {large_rps / small_rps:.3f} (side by side)"
            )
    print("targets: a second worker adds throughput; fleet-size read ratio within 10 % (0.90–1.10)")


if __name__ == "__main__":
    main()
