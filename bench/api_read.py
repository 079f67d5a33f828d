"""Authenticated ``GET /v3/vehicles/{id}/signals`` against ``motorpool serve`` at several fleet
sizes, side by side with each other and with a bare ASGI endpoint answering a JSON body of the
same size on the same server setup.

    .venv/bin/python bench/api_read.py [--seconds 8] [--rounds 5] [--fleets 1000,100000] [--no-prime]
        [--database-url postgresql+asyncpg://…/DB] [--keep]

Each fleet lives in a database of its own, all of its vehicles connected to one simulated user:
SQLite files in a temporary folder, or — with ``--database-url`` — the largest fleet in that
PostgreSQL database and each smaller one in a sibling database named after it (``DB_fleet1000``),
made for the run and dropped after it unless ``--keep``. A database that already holds the
fleet's user (from an earlier run, or from ``motorpool vehicles seed --seed 42 --connect
fleet-owner@example.com``) is reused and only grown to the size asked for, so a million vehicles
are seeded once (its signing keys are sealed with the key-encryption key of the folder it was
made in: run from there, or point ``MOTORPOOL_DATA_DIR`` at its ``.motorpool``); an empty one is
seeded with ``motorpool vehicles seed`` (which makes its first start too). A platform then starts on each database, all of them up for the whole run with an
admin token of the run's own and a client secret made for it, and wrk (50 connections) reads the
signals of vehicles drawn at random from a working set of 1,000 of each fleet (found on random
pages of the user's ``/v3/connections``), with a valid token and ``sc-user-id`` on every request.
Every check runs on every request; what is reused between reads is the rendering of a vehicle's
latest report (a vehicle reports every 10–60 s, so the measured runs still render fresh reports as
they come in).

The servers are measured in interleaved rounds — bare, fleet A, fleet B in one round, the other
way round in the next, and so on — each run with its own 2 s wrk warm-up, so a neighbour's load
drifting during the run hits every fleet alike. Before the first round every vehicle of each
working set is read once (the priming pass, ``--no-prime`` to skip it): the steady state of a
working set is warm caches. Printed per fleet: requests/s, p50, p99, the server's CPU time per
request (process CPU seconds over requests answered: less sensitive to neighbours than
throughput, as long as the server is not starved) and the ratio to the bare endpoint (target >=
0.25); then the largest fleet against the smallest, round by round: the median ratio of their
requests/s with its spread, and the ratio of their CPU per request (target: within 10 %); and each
server's resident memory after the reads (it should not grow with the fleet)."""

from __future__ import annotations

import _pathfix  # noqa: F401  (must come first: see _pathfix.py)

# isort: split
import argparse
import asyncio
import os
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
from harness import (
    WrkResult,
    bare_asgi,
    lua_string,
    motorpool_serve,
    run_wrk,
    seed_in_bulk,
    sqlite_url,
)
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

OWNER = "fleet-owner@example.com"
#: The run's own admin token, given to every server it starts (the database may be an earlier run's).
ADMIN_TOKEN = "adm_bench-api-read-" + os.urandom(8).hex()


def lua_for(paths: list[str], token: str, user_id: str) -> str:
    table = ",".join(lua_string(p) for p in paths)
    return (
        f"local paths = {{{table}}}\n"
        f'wrk.headers["Authorization"] = {lua_string("Bearer " + token)}\n'
        f'wrk.headers["sc-user-id"] = {lua_string(user_id)}\n'
        "math.randomseed(7)\n"
        "request = function()\n"
        "  return wrk.format(nil, paths[math.random(#paths)])\n"
        "end\n"
    )


def read_all(http: httpx.Client, paths: list[str], headers: dict[str, str]) -> tuple[list[int], float]:
    """Read every path once (each must answer 200); the body sizes and the seconds it took."""
    sizes: list[int] = []
    started = time.perf_counter()
    for path in paths:
        response = http.get(path, headers=headers)
        assert response.status_code == 200, response.text
        sizes.append(len(response.content))
    return sizes, time.perf_counter() - started


def listening_pid(origin: str) -> int | None:
    """The process listening on ``origin``'s port (None when ``ss`` cannot tell)."""
    try:
        out = subprocess.run(["ss", "-ltnpH", f"sport = :{origin.rsplit(':', 1)[1]}"],
                             check=False, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"pid=(\d+)", out)
    return int(found.group(1)) if found else None


def resident_mib(pid: int | None) -> float:
    """The resident memory of ``pid`` in MiB (NaN when unknown)."""
    if pid is None:
        return float("nan")
    with open(f"/proc/{pid}/status") as handle:
        for entry in handle:
            if entry.startswith("VmRSS:"):
                return int(entry.split()[1]) / 1024
    return float("nan")


def working_set(http: httpx.Client, user_id: str, token: str, fleet: int, size: int = 1000) -> list[str]:
    """``size`` vehicles of the user's connections, from random pages across the whole fleet."""
    headers = {"Authorization": f"Bearer {token}", "sc-user-id": user_id}
    per_page = 100
    pages = list(range(1, -(-fleet // per_page) + 1))
    random.Random(1).shuffle(pages)
    found: list[str] = []
    for number in pages:
        if len(found) >= size:
            break
        listed = http.get("/v3/connections", headers=headers,
                          params={"filter[userId]": user_id, "page[size]": per_page, "page[number]": number})
        assert listed.status_code == 200, listed.text
        found += [c["vehicleId"] for c in listed.json()["connections"]]
    return found[:size]


def app_token(http: httpx.Client, application_id: str) -> tuple[str, str]:
    """A token of the application's, from a client secret made for this run, and that secret's id
    (revoke it after the run: an application holds at most three)."""
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    client_id = http.get(f"/admin/applications/{application_id}", headers=admin).json()["data"]["clientId"]
    made = http.post(f"/admin/applications/{application_id}/secrets", headers=admin)
    assert made.status_code == 201, made.text
    granted = http.post("/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": made.json()["data"]["secret"],
    })
    assert granted.status_code == 200, granted.text
    return str(granted.json()["access_token"]), str(made.json()["data"]["id"])


def revoke_secret(origin: str, application_id: str, secret_id: str) -> None:
    with httpx.Client(base_url=origin, timeout=60) as http:
        http.delete(f"/admin/applications/{application_id}/secrets/{secret_id}",
                    headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).raise_for_status()


async def _fleet_owner(database_url: str) -> tuple[str, str, int] | None:
    """The fleet's user in ``database_url`` — (application id, user id, vehicles connected) — or
    None when it holds none (an empty database included)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            try:
                row = (await connection.execute(text(
                    "SELECT u.application_id, u.id, count(c.id) FROM users u JOIN connections c ON c.user_id = u.id"
                    " WHERE u.subject = :subject GROUP BY u.application_id, u.id"
                ), {"subject": f"simulated:{OWNER}"})).first()
            except Exception:  # noqa: BLE001  (no tables yet: an empty database)
                return None
    finally:
        await engine.dispose()
    return (str(row[0]), str(row[1]), int(row[2])) if row else None


def fleet_owner(database_url: str) -> tuple[str, str, int] | None:
    return asyncio.run(_fleet_owner(database_url))


async def _create_database(database_url: str, name: str, drop: bool) -> None:
    engine = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            exists = await connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
            if drop and exists:
                await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            elif not drop and not exists:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


def fleet_databases(fleets: list[int], database_url: str | None, workdir: Path) -> dict[int, str]:
    """Each fleet's database: the largest in ``database_url``, the others in siblings of it (made
    when missing); SQLite files in ``workdir`` without one."""
    if database_url is None:
        urls = {}
        for fleet in fleets:
            (workdir / str(fleet)).mkdir()
            urls[fleet] = sqlite_url(workdir / str(fleet))
        return urls
    url = make_url(database_url)
    urls = {fleets[-1]: database_url}
    for fleet in fleets[:-1]:
        name = f"{url.database}_fleet{fleet}"
        asyncio.run(_create_database(database_url, name, drop=False))
        urls[fleet] = url.set(database=name).render_as_string(hide_password=False)
    return urls


def drop_siblings(fleets: list[int], database_url: str) -> None:
    url = make_url(database_url)
    for fleet in fleets[:-1]:
        asyncio.run(_create_database(database_url, f"{url.database}_fleet{fleet}", drop=True))


def prepared(fleet: int, database_url: str, workdir: Path) -> tuple[str, str, int]:
    """The fleet's (application id, user id, size) in ``database_url``, seeded up to ``fleet``
    vehicles if it holds fewer."""
    found = fleet_owner(database_url)
    have = found[2] if found else 0
    if have < fleet:
        seed_in_bulk(workdir, database_url, fleet - have, seed=42 + have, email=OWNER)
        found = fleet_owner(database_url)
    else:
        print(f"fleet {fleet:>9,}: reusing the {have:,} vehicles already in its database")
    assert found is not None
    return found


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of ``pid`` so far (0 when unknown)."""
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    wrk: WrkResult
    #: The server's CPU time per answered request, and how busy it was during the measured run:
    #: below ~90 % the load generator (or a neighbour on its CPU) set the pace, not the server.
    cpu_us: float
    busy: float


def measured(url: str, pid: int | None, script: str | None, seconds: int) -> Run:
    run_wrk(url, script=script, seconds=2, warmup=0)  # warm-up
    cpu = cpu_seconds(pid)
    result = run_wrk(url, script=script, seconds=seconds, warmup=0)
    cpu = cpu_seconds(pid) - cpu
    answered = result.requests_per_second * seconds
    return Run(result, 1e6 * cpu / answered if pid and answered else float("nan"), cpu / seconds if pid else float("nan"))


def line(name: str, run: Run) -> str:
    result = run.wrk
    return (f"{name:<8}{result.requests_per_second:7.0f} req/s  p50 {result.p50_ms:5.2f} ms"
            f"  p99 {result.p99_ms:7.2f} ms  cpu {run.cpu_us:5.1f} us/req ({100 * run.busy:3.0f} % busy)")


@dataclass
class Fleet:
    size: int
    origin: str
    pid: int | None
    paths: list[str]
    script: str
    body_size: int
    runs: list[Run]
    application_id: str
    secret_id: str


def prepare_reads(size: int, origin: str, application_id: str, user_id: str, prime: bool) -> Fleet:
    with httpx.Client(base_url=origin, timeout=600) as http:
        token, secret_id = app_token(http, application_id)
        chosen = working_set(http, user_id, token, size)
        paths = [f"/v3/vehicles/{vid}/signals" for vid in chosen]
        headers = {"Authorization": f"Bearer {token}", "sc-user-id": user_id}
        if prime:
            sizes, took = read_all(http, paths, headers)
            print(f"fleet {size:>9,}: priming pass, {len(paths)} cold reads in {took:.2f} s")
        else:
            sizes, _ = read_all(http, paths[:25], headers)
    return Fleet(size, origin, listening_pid(origin), paths, lua_for(paths, token, user_id),
                 int(statistics.median(sizes)), [], application_id, secret_id)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} (median of {len(values)}; {min(values):.3f}–{max(values):.3f})"


def measure_all(fleets: list[Fleet], seconds: int, rounds: int) -> None:
    bare_runs: list[Run] = []
    body = int(statistics.median(f.body_size for f in fleets))
    with bare_asgi(body) as bare_origin:
        bare_pid = listening_pid(bare_origin)
        for number in range(rounds):
            order: list[Fleet | None] = [None, *fleets]
            if number % 2:
                order.reverse()
            for which in order:
                if which is None:
                    bare_runs.append(measured(bare_origin + "/", bare_pid, None, seconds))
                else:
                    which.runs.append(measured(which.origin + which.paths[0], which.pid, which.script, seconds))
                    assert which.runs[-1].wrk.non_2xx == 0 and which.runs[-1].wrk.errors == 0, \
                        "the signal reads must all succeed"
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            print(f"round {number + 1} (load average {load}):  {line('bare', bare_runs[-1])}")
            for fleet in fleets:
                run = fleet.runs[-1]
                print(f"  fleet {fleet.size:>9,}: {line('signals', run)}"
                      f"  |  ratio {run.wrk.requests_per_second / bare_runs[-1].wrk.requests_per_second:.3f}")

    def med(runs: list[Run], name: str) -> float:
        return float(statistics.median(getattr(r.wrk, name) for r in runs))

    print(f"medians over {rounds} rounds (body {body:,} B):")
    for name, runs in (("bare", bare_runs), *((f"fleet {f.size:,}", f.runs) for f in fleets)):
        print(f"  {name:<17}{med(runs, 'requests_per_second'):7.0f} req/s  p50 {med(runs, 'p50_ms'):5.2f} ms"
              f"  p99 {med(runs, 'p99_ms'):7.2f} ms  cpu {statistics.median(r.cpu_us for r in runs):5.1f} us/req")
    for fleet in fleets:
        ratios = [a.wrk.requests_per_second / b.wrk.requests_per_second for a, b in zip(fleet.runs, bare_runs)]
        print(f"  fleet {fleet.size:>9,} / bare: {spread(ratios)}; server memory after the reads"
              f" {resident_mib(fleet.pid):.0f} MiB")
    if len(fleets) > 1:
        small, large = fleets[0], fleets[-1]
        throughput = [b.wrk.requests_per_second / a.wrk.requests_per_second for a, b in zip(small.runs, large.runs)]
        # Above 1: a read of the large fleet costs the server less CPU than one of the small.
        cpu = [a.cpu_us / b.cpu_us for a, b in zip(small.runs, large.runs)]
        print(f"{large.size:,} vehicles against {small.size:,}, round by round:")
        print(f"  requests/s ratio       {spread(throughput)}")
        print(f"  CPU per request ratio  {spread(cpu)}  (small's µs / large's µs)")
    print("targets: ratio to bare >= 0.25; the large fleet within 10 % of the small one")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (bare and every fleet in each)")
    parser.add_argument("--fleets", default="1000,100000")
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL for the largest fleet, beside which the others get databases of their own"
                             " (default: SQLite files in a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the smaller fleets' databases after the run")
    parser.add_argument("--no-prime", dest="prime", action="store_false",
                        help="skip the pass that reads the working set once before measuring")
    args = parser.parse_args()
    fleets = sorted({int(f) for f in args.fleets.split(",")})
    if not fleets or fleets[0] < 1:
        parser.error("--fleets are sizes of 1 or more")
    workdir = Path(tempfile.mkdtemp(prefix="motorpool-bench-"))
    try:
        urls = fleet_databases(fleets, args.database_url, workdir)
        owners = {}
        for size in fleets:
            (workdir / f"serve{size}").mkdir()
            owners[size] = prepared(size, urls[size], workdir / f"serve{size}")
        with ExitStack() as servers:
            measured_fleets = []
            for size in fleets:
                application_id, user_id, have = owners[size]
                server = servers.enter_context(motorpool_serve(
                    workdir / f"serve{size}", extra_env={"MOTORPOOL_ADMIN_TOKEN": ADMIN_TOKEN},
                    database_url=urls[size]))
                fleet = prepare_reads(have, server.origin, application_id, user_id, args.prime)
                servers.callback(revoke_secret, fleet.origin, fleet.application_id, fleet.secret_id)
                measured_fleets.append(fleet)
            measure_all(measured_fleets, args.seconds, args.rounds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if args.database_url and not args.keep:
            drop_siblings(fleets, args.database_url)


if __name__ == "__main__":
    main()
