"""Authenticated ``GET /v3/vehicles/{id}/signals`` against ``motorpool serve``, side by side with a
bare ASGI endpoint answering a JSON body of the same size on the same server setup.

    .venv/bin/python bench/api_read.py [--seconds 10] [--rounds 3] [--fleets 1000,100000] [--no-prime]
        [--database-url postgresql+asyncpg://…/an_empty_database]

The fleet lives in one database for the whole run (SQLite in a temporary folder, or the empty
database given by ``--database-url``) and grows from one size to the next: ``motorpool vehicles
seed`` adds the vehicles in bulk, all connected to one simulated user (on the empty database it
makes the first start too). For each size a platform starts fresh on it, and wrk (50 connections)
reads the signals of vehicles drawn at random from a working set of 1,000 of them (found on
random pages of the user's ``/v3/connections``), with a valid token and ``sc-user-id`` on every
request. Every check runs on every request; what is reused between reads is the rendering of a
vehicle's latest report (a vehicle reports every 10–60 s, so the measured runs still render fresh
reports as they come in).

Both servers stay up for the whole fleet and are measured in alternating rounds (signals, bare,
bare, signals, …), each with its own 2 s wrk warm-up, so a neighbour's load drifting during the
run hits both sides alike; the ratio printed is the median of the rounds' ratios. Before the
first round every vehicle of the working set is read once (the priming pass, ``--no-prime`` to
skip it): the steady state of a working set is warm caches, and without the pass the first
rounds measure part of a cold start instead. The bare body is the median size of the working
set's bodies. Prints requests/s, p50 and p99 for both and the ratio (target >= 0.25, falling by
no more than 10 % from the small fleet to the large one), and the server process's resident
memory after the reads (it should not grow with the fleet)."""

from __future__ import annotations

import _pathfix  # noqa: F401  (must come first: see _pathfix.py)

# isort: split
import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import time
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


def app_token(http: httpx.Client, env: dict[str, str]) -> str:
    return str(http.post("/oauth2/token", data={
        "grant_type": "client_credentials",
        "client_id": env["SMARTCAR_CLIENT_ID"],
        "client_secret": env["SMARTCAR_CLIENT_SECRET"],
    }).json()["access_token"])


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


def measure(fleet: int, workdir: Path, database_url: str, user_id: str, seconds: int, rounds: int,
            prime: bool) -> dict[str, float]:
    with motorpool_serve(workdir, database_url=database_url) as server:
        with httpx.Client(base_url=server.origin, timeout=600) as http:
            token = app_token(http, server.env())
            chosen = working_set(http, user_id, token, fleet)
            paths = [f"/v3/vehicles/{vid}/signals" for vid in chosen]
            headers = {"Authorization": f"Bearer {token}", "sc-user-id": user_id}
            if prime:
                sizes, took = read_all(http, paths, headers)
                print(f"fleet {fleet:>7,}: priming pass, {len(paths)} cold reads in {took:.2f} s")
            else:
                sizes, _ = read_all(http, paths[:25], headers)
        size = int(statistics.median(sizes))
        script = lua_for(paths, token, user_id)
        api_pid = listening_pid(server.origin)
        api_runs: list[Run] = []
        bare_runs: list[Run] = []
        with bare_asgi(size) as bare_origin:
            bare_pid = listening_pid(bare_origin)
            for number in range(rounds):
                api_first = number % 2 == 0
                for which in ("api", "bare") if api_first else ("bare", "api"):
                    if which == "api":
                        api_runs.append(measured(server.origin + paths[0], api_pid, script, seconds))
                    else:
                        bare_runs.append(measured(bare_origin + "/", bare_pid, None, seconds))
                api, bare = api_runs[-1], bare_runs[-1]
                print(f"fleet {fleet:>7,} round {number + 1}: {line('signals', api)}  |  {line('bare', bare)}"
                      f"  |  ratio {api.wrk.requests_per_second / bare.wrk.requests_per_second:.3f}")
                assert api.wrk.non_2xx == 0 and api.wrk.errors == 0, "the signal reads must all succeed"
            memory = resident_mib(api_pid)
    ratios = [a.wrk.requests_per_second / b.wrk.requests_per_second for a, b in zip(api_runs, bare_runs)]
    cpu_ratios = [b.cpu_us / a.cpu_us for a, b in zip(api_runs, bare_runs)]
    ratio = statistics.median(ratios)

    def med(runs: list[Run], field: str) -> float:
        return statistics.median(getattr(r.wrk, field) for r in runs)

    for name, runs in (("signals", api_runs), ("bare", bare_runs)):
        label = f"fleet {fleet:>7,}:" if name == "signals" else ""
        print(f"{label:<15}{name:<8}{med(runs, 'requests_per_second'):7.0f} req/s  p50 {med(runs, 'p50_ms'):5.2f} ms"
              f"  p99 {med(runs, 'p99_ms'):7.2f} ms  cpu {statistics.median(r.cpu_us for r in runs):5.1f} us/req"
              f"  (medians; body {size:,} B)")
    print(f"{'':15}ratio   {ratio:.3f}  (median of {len(ratios)}; rounds {min(ratios):.3f}–{max(ratios):.3f});"
          f" by server CPU per request {statistics.median(cpu_ratios):.3f}")
    print(f"{'':15}server resident memory after the reads: {memory:.0f} MiB")
    return {"ratio": ratio, "rps": med(api_runs, "requests_per_second"), "memory": memory}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="alternating signals/bare rounds per fleet")
    parser.add_argument("--fleets", default="1000,100000")
    parser.add_argument("--database-url", default=None,
                        help="an empty database for the fleet (default: SQLite in a temporary folder)")
    parser.add_argument("--no-prime", dest="prime", action="store_false",
                        help="skip the pass that reads the working set once before measuring")
    args = parser.parse_args()
    fleets = sorted(int(f) for f in args.fleets.split(","))
    workdir = Path(tempfile.mkdtemp(prefix="motorpool-bench-"))
    database_url = args.database_url or sqlite_url(workdir)
    results: dict[int, dict[str, float]] = {}
    try:
        seeded, user_id = 0, ""
        for fleet in fleets:
            # The fleet grows in place: each size adds what the one before lacked.
            user_id = seed_in_bulk(workdir, database_url, fleet - seeded, seed=42 + seeded,
                                   email="fleet-owner@example.com")
            seeded = fleet
            results[fleet] = measure(fleet, workdir, database_url, user_id, args.seconds, args.rounds, args.prime)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if len(fleets) > 1:
        small, large = results[fleets[0]], results[fleets[-1]]
        change = 100 * (large["ratio"] - small["ratio"]) / small["ratio"]
        print(f"ratio change from {fleets[0]:,} to {fleets[-1]:,} vehicles: {change:+.1f} %;"
              f" server memory {small['memory']:.0f} -> {large['memory']:.0f} MiB")
    print("targets: ratio >= 0.25; change no worse than -10 %")


if __name__ == "__main__":
    main()
