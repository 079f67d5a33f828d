"""Reading the signals of a fleet: tutorial-style code, the SDK's ``Client``, and its ``AsyncClient``
fleet read, side by side against one locally started platform.

    .venv/bin/python bench/sdk_fleet.py [--vehicles 1000] [--latency 0.05] [--in-flight 50]

Runs twice: on plain loopback, and with the platform answering every vehicle read
``--latency`` seconds late (``MOTORPOOL_VEHICLE_LATENCY``, as real vehicles are slow). Each run
starts ``motorpool serve`` (pinned to CPU 0) on a fresh SQLite database, seeds a fleet through the
admin API and connects one user to every vehicle. Then, each in a fresh process pinned to CPU 1,
three clients read every vehicle's signals and pull out its odometer:

- **tutorial**: the way the tutorial writes it — ``urllib.request`` with a new connection per
  request, one request at a time, ``json.loads`` and a scan for the signal;
- **Client**: ``client.user(user_id).signals.list(vehicle_id).odometer``, one at a time;
- **AsyncClient fleet**: ``client.user(user_id).signals.list_many(vehicle_ids, max_in_flight=N)``,
  timed alone (the fleet read keeps answers undecoded) and with every odometer pulled out (which
  decodes every answer).

For reference, a fourth client sends the same requests straight through aiohttp with nothing
around them: the floor the fleet read stands on, measured in the same round.

The three must agree on every odometer value. In the same run wrk (``--in-flight`` connections,
the same requests) measures the platform's own capacity. Before that and before each client, wrk
reads every vehicle for two seconds (so each starts on a platform whose recent readings are
cached) and then pauses three seconds (uvicorn answers slowly for a moment after a load generator
drops its connections). Loopback runs ``--rounds`` rounds (the slow run, one) and prints the
median wall time and requests/s of each client, the ratios to the tutorial code, and the median
of each round's ratio of the fleet read to the platform's capacity.

Targets: with latency the fleet read is at least 20x the tutorial code; on loopback it reaches
at least 0.8 of the platform's capacity.
"""

from __future__ import annotations

import _pathfix  # noqa: F401  (must come first: see _pathfix.py)
import os
import sys
import argparse
import asyncio
import json
import statistics
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

ODOMETER = "odometer-traveleddistance"


# --- the three clients, each run in its own process ------------------------------------------------


def tutorial_style(origin: str, client_id: str, client_secret: str, user_id: str, vehicles: list[str]) -> dict[str, float]:
    """What the tutorial's code does: a fresh HTTP connection per request, one after another."""
    form = f"grant_type=client_credentials&client_id={client_id}&client_secret={client_secret}".encode()
    with urllib.request.urlopen(urllib.request.Request(f"{origin}/oauth2/token", data=form)) as answer:
        token = json.loads(answer.read())["access_token"]
    odometers: dict[str, float] = {}
    for vehicle_id in vehicles:
        request = urllib.request.Request(
            f"{origin}/v3/vehicles/{vehicle_id}/signals",
            headers={"Authorization": f"Bearer {token}", "sc-user-id": user_id},
        )
        with urllib.request.urlopen(request) as answer:
            body = json.loads(answer.read())
        for signal in body["data"]:
            if signal["attributes"]["code"] == ODOMETER:
                odometers[vehicle_id] = signal["attributes"]["body"]["value"]
    return odometers


def sdk_sync(origin: str, client_id: str, client_secret: str, user_id: str, vehicles: list[str]) -> dict[str, float]:
    """The SDK's sync Client: one keep-alive connection, one request at a time."""
    import motorpool

    with motorpool.Client(client_id, client_secret, base_url=origin) as client:
        me = client.user(user_id)
        odometers: dict[str, float] = {}
        for vehicle_id in vehicles:
            odometer = me.signals.list(vehicle_id).odometer
            assert odometer is not None
            odometers[vehicle_id] = odometer.distance
        return odometers


def sdk_fleet(
    origin: str, client_id: str, client_secret: str, user_id: str, vehicles: list[str], in_flight: int
) -> dict[str, float]:
    """The SDK's AsyncClient fleet read, ``in_flight`` requests at a time."""
    import motorpool

    async def read() -> dict[str, float]:
        async with motorpool.AsyncClient(client_id, client_secret, base_url=origin) as client:
            me = client.user(user_id)
            await me.access_token()  # the token request is not part of a fleet read
            started, cpu = time.perf_counter(), time.process_time()
            results = await me.signals.list_many(vehicles, max_in_flight=in_flight)
            TIMES["read"] = time.perf_counter() - started
            TIMES["read_cpu"] = time.process_time() - cpu
        odometers: dict[str, float] = {}
        for result in results:
            if result.error is not None:
                raise result.error
            signals = result.signals  # decoded here, and kept while this name holds it
            assert signals is not None and signals.odometer is not None
            odometers[result.vehicle_id] = signals.odometer.distance
        return odometers

    return asyncio.run(read())


#: Phases a client times itself (the fleet read alone, without decoding).
TIMES: dict[str, float] = {}


def bare_aiohttp(origin: str, client_id: str, client_secret: str, user_id: str, vehicles: list[str], in_flight: int) -> dict[str, float]:
    """The floor under the fleet read: the same requests straight through aiohttp, answers kept,
    nothing checked or decoded until the read is over (a reference, not a way to write a client)."""
    import aiohttp

    async def read() -> dict[str, float]:
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:
            async with session.post(f"{origin}/oauth2/token", data=form) as answer:
                token = (await answer.json())["access_token"]
            headers = {"Authorization": f"Bearer {token}", "sc-user-id": user_id}
            bodies: dict[str, bytes] = {}
            pending = iter(vehicles)

            async def worker() -> None:
                for vehicle_id in pending:
                    async with session.get(f"{origin}/v3/vehicles/{vehicle_id}/signals", headers=headers) as answer:
                        bodies[vehicle_id] = await answer.read()

            started, cpu = time.perf_counter(), time.process_time()
            await asyncio.gather(*(worker() for _ in range(in_flight)))
            TIMES["read"] = time.perf_counter() - started
            TIMES["read_cpu"] = time.process_time() - cpu
        odometers: dict[str, float] = {}
        for vehicle_id, body in bodies.items():
            for signal in json.loads(body)["data"]:
                if signal["attributes"]["code"] == ODOMETER:
                    odometers[vehicle_id] = signal["attributes"]["body"]["value"]
        return odometers

    return asyncio.run(read())


def client_main(args: argparse.Namespace) -> None:
    spec = json.loads(sys.stdin.read())
    if args.client != "tutorial":
        import motorpool  # imports are not part of what is timed

        motorpool.Client  # noqa: B018 - the SDK's modules load on first use
    started = time.perf_counter()
    if args.client == "tutorial":
        odometers = tutorial_style(spec["origin"], spec["client_id"], spec["client_secret"], spec["user_id"], spec["vehicles"])
    elif args.client == "sync":
        odometers = sdk_sync(spec["origin"], spec["client_id"], spec["client_secret"], spec["user_id"], spec["vehicles"])
    elif args.client == "fleet":
        odometers = sdk_fleet(
            spec["origin"], spec["client_id"], spec["client_secret"], spec["user_id"], spec["vehicles"], args.in_flight
        )
    else:
        odometers = bare_aiohttp(
            spec["origin"], spec["client_id"], spec["client_secret"], spec["user_id"], spec["vehicles"], args.in_flight
        )
    wall = time.perf_counter() - started
    print(json.dumps({"wall": wall, "read": TIMES.get("read", wall), "read_cpu": TIMES.get("read_cpu", 0.0),
                      "odometers": odometers}))


# --- the run ----------------------------------------------------------------------------------------


def run_client(mode: str, spec: dict[str, object], in_flight: int) -> tuple[float, float, float, dict[str, float]]:
    from harness import PYTHON, pinned

    argv = pinned(1, [PYTHON, os.path.abspath(__file__), "--client", mode, "--in-flight", str(in_flight)])
    done = subprocess.run(argv, input=json.dumps(spec), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"client {mode} failed:\n{done.stderr}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    odometers = {k: float(v) for k, v in answer["odometers"].items()}
    return float(answer["wall"]), float(answer["read"]), float(answer["read_cpu"]), odometers


def wrk_script(paths: list[str], token: str, user_id: str) -> str:
    from harness import lua_string

    table = ",".join(lua_string(p) for p in paths)
    return (
        f"local paths = {{{table}}}\n"
        f'wrk.headers["Authorization"] = {lua_string("Bearer " + token)}\n'
        f'wrk.headers["sc-user-id"] = {lua_string(user_id)}\n'
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #paths + 1\n"
        "  return wrk.format(nil, paths[i])\n"
        "end\n"
    )


@dataclass
class Round:
    """One round's figures: each client's wall time, the fleet read alone, and wrk's rate."""

    walls: dict[str, float]
    fleet_read: float
    fleet_cpu: float
    bare_read: float
    capacity: float
    capacity_p99_ms: float


def prepare_platform(server: Any, vehicle_count: int) -> tuple[dict[str, Any], str, int]:
    """Seed the fleet, connect one user to it; answers the clients' spec, a token, the body size."""
    import httpx

    env = server.env()
    admin = {"Authorization": f"Bearer {env['MOTORPOOL_ADMIN_TOKEN']}"}
    app_id = env["MOTORPOOL_APPLICATION_ID"]
    with httpx.Client(base_url=server.origin, timeout=600) as http:
        existing = http.get(f"/admin/applications/{app_id}/vehicles", headers=admin).json()["data"]
        if vehicle_count > len(existing):
            http.post(
                f"/admin/applications/{app_id}/fleet",
                json={"count": vehicle_count - len(existing), "seed": 42},
                headers=admin,
            ).raise_for_status()
        grant = http.post(
            f"/admin/applications/{app_id}/connections",
            json={"email": "fleet-owner@example.com", "mode": "simulated"},
            headers=admin,
        )
        grant.raise_for_status()
        user_id = grant.json()["data"]["userId"]
        vehicles = list(grant.json()["data"]["vehicleIds"])[:vehicle_count]
        assert len(vehicles) == vehicle_count, len(vehicles)
        token = http.post(
            "/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": env["SMARTCAR_CLIENT_ID"],
                "client_secret": env["SMARTCAR_CLIENT_SECRET"],
            },
        ).json()["access_token"]
        probe = http.get(
            f"/v3/vehicles/{vehicles[0]}/signals",
            headers={"Authorization": f"Bearer {token}", "sc-user-id": user_id},
        )
        assert probe.status_code == 200, probe.text
    spec = {
        "origin": server.origin,
        "client_id": env["SMARTCAR_CLIENT_ID"],
        "client_secret": env["SMARTCAR_CLIENT_SECRET"],
        "user_id": user_id,
        "vehicles": vehicles,
    }
    return spec, token, len(probe.content)


CLIENTS = (("tutorial", "tutorial"), ("Client", "sync"), ("AsyncClient fleet", "fleet"), ("bare aiohttp", "aiohttp"))


def measure(
    label: str, latency: float, vehicle_count: int, in_flight: int, seconds: int, rounds: int
) -> dict[str, float]:
    from harness import motorpool_serve, run_wrk

    extra = {"MOTORPOOL_VEHICLE_LATENCY": str(latency)} if latency else {}
    with motorpool_serve(extra_env=extra) as server:
        spec, token, body_size = prepare_platform(server, vehicle_count)
        vehicles: list[str] = spec["vehicles"]
        paths = [f"/v3/vehicles/{vid}/signals" for vid in vehicles]
        script = wrk_script(paths, token, spec["user_id"])

        def warm_up() -> None:
            # Reads every vehicle (so recent readings are cached), then pauses: uvicorn answers
            # slowly for a moment after a load generator drops its connections at once.
            run_wrk(server.origin + paths[0], script=script, seconds=2, connections=in_flight, warmup=0)
            time.sleep(3)

        measured: list[Round] = []
        for _ in range(rounds):
            warm_up()
            capacity = run_wrk(server.origin + paths[0], script=script, seconds=seconds, connections=in_flight, warmup=0)
            walls: dict[str, float] = {}
            answers: dict[str, dict[str, float]] = {}
            fleet_read = fleet_cpu = bare_read = 0.0
            for name, mode in CLIENTS:
                warm_up()
                wall, read, cpu, odometers = run_client(mode, spec, in_flight)
                walls[name] = wall
                answers[name] = odometers
                if mode == "fleet":
                    fleet_read, fleet_cpu = read, cpu
                if mode == "aiohttp":
                    bare_read = read
            reference = answers["tutorial"]
            for name, odometers in answers.items():
                # Readings move only when a vehicle reports again, and slowly; compare loosely.
                differing = [v for v in vehicles if abs(odometers.get(v, -1.0) - reference[v]) > 50.0]
                assert not differing, f"{name} disagrees with the tutorial code on {len(differing)} vehicles"
            measured.append(Round(walls, fleet_read, fleet_cpu, bare_read, capacity.requests_per_second, capacity.p99_ms))

    def median(values: list[float]) -> float:
        return statistics.median(values)

    count = len(vehicles)
    print(f"\n== {label}: {count:,} vehicles, vehicle latency {latency * 1000:.0f} ms, "
          f"signals body {body_size:,} B, {in_flight} in flight, median of {rounds} round(s) ==")
    print("  (each client reads every vehicle's signals and pulls out its odometer)")
    tutorial = median([r.walls["tutorial"] for r in measured])
    rows = [(name, median([r.walls[name] for r in measured])) for name, mode in CLIENTS if mode != "aiohttp"]
    rows.append(("  of which the read", median([r.fleet_read for r in measured])))
    rows.append(("bare aiohttp read", median([r.bare_read for r in measured])))
    for name, wall in rows:
        print(f"  {name:20} {wall:8.2f} s  {count / wall:8.0f} req/s  {tutorial / wall:6.1f}x the tutorial code")
    capacity = median([r.capacity for r in measured])
    print(f"  {'platform (wrk)':20} {'':8}    {capacity:8.0f} req/s  "
          f"(p99 {median([r.capacity_p99_ms for r in measured]):.0f} ms)")
    read_ratio = median([count / r.fleet_read / r.capacity for r in measured])
    decoded_ratio = median([count / r.walls["AsyncClient fleet"] / r.capacity for r in measured])
    vs_tutorial = median([r.walls["tutorial"] / r.walls["AsyncClient fleet"] for r in measured])
    cpu = median([r.fleet_cpu / r.fleet_read for r in measured])
    print(f"  fleet read / platform capacity: {read_ratio:.2f} per round "
          f"{[round(count / r.fleet_read / r.capacity, 2) for r in measured]}; "
          f"with every answer decoded {decoded_ratio:.2f}; client on CPU {cpu:.0%} of the read")
    print(f"  bare aiohttp read / platform capacity: "
          f"{median([count / r.bare_read / r.capacity for r in measured]):.2f}; "
          f"fleet read / bare aiohttp read: {median([r.bare_read / r.fleet_read for r in measured]):.2f}")
    return {"fleet_vs_tutorial": vs_tutorial, "fleet_vs_capacity": read_ratio}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vehicles", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds, for the second run")
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration")
    parser.add_argument("--rounds", type=int, default=3, help="rounds on loopback (the slow run has one)")
    parser.add_argument("--client", choices=["tutorial", "sync", "fleet", "aiohttp"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main(args)
        return
    loopback = measure("loopback", 0.0, args.vehicles, args.in_flight, args.seconds, args.rounds)
    slow = measure("slow vehicles", args.latency, args.vehicles, args.in_flight, args.seconds, 1)
    print("\n== targets ==")
    print(f"  loopback: fleet read / platform capacity = {loopback['fleet_vs_capacity']:.2f} (target >= 0.8)")
    print(f"  {args.latency * 1000:.0f} ms latency: fleet read / tutorial code = "
          f"{slow['fleet_vs_tutorial']:.1f}x (target >= 20x)")


if __name__ == "__main__":
    main()
