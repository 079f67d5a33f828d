"""Reading the signals of a fleet: tutorial-style code, the SDK's ``Client``, and its ``AsyncClient``
fleet read, side by side against one locally started platform.

    .venv/bin/python bench/sdk_fleet.py [--vehicles 1000] [--latency 0.05] [--in-flight N]
        [--only loopback|slow] [--before OTHER_CHECKOUT/src] [--rate-limit 500,30000|off]

Runs twice: on plain loopback, and with the platform answering every vehicle read
``--latency`` seconds late (``MOTORPOOL_VEHICLE_LATENCY``, as real vehicles are slow). Each run
starts ``motorpool serve`` (pinned to CPU 0) on a fresh SQLite database, seeds a fleet through the
admin API and connects one user to every vehicle. Then, each in a fresh process pinned to CPU 1,
three clients read every vehicle's signals and pull out its odometer:

- **tutorial**: the way the tutorial writes it — ``urllib.request`` with a new connection per
  request, one request at a time, ``json.loads`` and a scan for the signal;
- **Client**: ``client.user(user_id).signals.list(vehicle_id).odometer``, one at a time;
- **AsyncClient fleet**: ``client.user(user_id).signals.list_many(vehicle_ids)`` with the SDK's
  default bound on requests in flight (``--in-flight`` sets another), timed whole (token, read,
  every odometer pulled out, which decodes every answer) and the read alone (the fleet read keeps
  answers undecoded).

Each client is timed from its own start (after its imports) and as a whole process: from the
moment this script launches the interpreter to every odometer in hand, imports included.

For reference, a fourth client sends the same requests straight through aiohttp with nothing
around them, measured in the same round. ``--before`` adds the fleet read of the SDK in another
checkout's ``src`` (its own defaults), so a change is measured before and after in one run.

The slow run adds a **rate-limited** fleet read: the application's bucket is set through the admin
API (``--rate-limit``: its size and refill per minute; 200 and 12,000 by default, so that a
1,000-vehicle read meets 429s however fast the machine), the SDK's retries (eight, as an
application expecting 429s would allow) take it to the end, and the platform's request log shows,
vehicle by vehicle, every refused read asked again no sooner than its ``retry-after``.

The clients must agree on every odometer value. wrk (as many connections as the fleet read keeps
requests in flight, the same requests, the same server) measures the platform's own capacity right
before and right after the fleet read, and the fleet read is compared with the mean of the two: the
platform's speed drifts on a shared machine, and a figure taken half a minute earlier is not the
one the fleet read met. Before each wrk run and each client, wrk reads every vehicle for two seconds
(so each starts on a platform whose recent readings are cached) and then pauses three seconds
(uvicorn answers slowly for a moment after a load generator drops its connections).

wrk measures a steady state: its connections already open, each vehicle read dozens of times. A
first fleet read is not one: it opens its connections, meets readings the platform has not
rendered since the warm-up, and at ~10,000 reads/s is over in a tenth of a second. So after its
first read (the one timed whole) the fleet client reads the fleet ``--repeats`` more times on the
same client, each read timed alone and its results dropped before the next (as a service reading
its fleet periodically would); the median of those is the steady-state fleet read compared with
wrk's figure, and the first read's ratio is printed beside it. The same holds for the
aiohttp reference. Loopback runs ``--rounds`` rounds (the slow run, one) and prints the median
wall time and requests/s of each client, the ratios to the tutorial code, each round's ratio of
the fleet read to the platform's capacity, the client CPU per read, and the machine's CPU
pressure (other processes competing for the two cores) at the fleet read. On a shared machine it
waits, before each measurement, up to ``--quiet-wait`` seconds for that pressure to fall below 5 %.

A fifth client is the same fleet read with ``http_backend="httpx"`` (httpx's ``AsyncClient``
instead of aiohttp), so the two transports the async client offers are compared in one run;
``--latency 0.5`` measures the fleet read against vehicles 500 ms late.

Targets: with latency the fleet read is at least 40x the tutorial code, as whole processes; on
loopback it reaches at least 0.5 of the platform's capacity (client CPU is the limit there).
"""

from __future__ import annotations

import _pathfix  # noqa: F401  (must come first: see _pathfix.py)

# isort: split
import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
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
    origin: str, client_id: str, client_secret: str, user_id: str, vehicles: list[str], in_flight: int | None,
    repeats: int, backend: str = "aiohttp", max_retries: int | None = None,
) -> dict[str, float]:
    """The SDK's AsyncClient fleet read over ``backend``, ``in_flight`` requests at a time (None:
    the SDK's default); then ``repeats`` more."""
    import motorpool

    bound = {} if in_flight is None else {"max_in_flight": in_flight}
    retries = {} if max_retries is None else {"max_retries": max_retries}

    async def read() -> dict[str, float]:
        async with motorpool.AsyncClient(
            client_id, client_secret, base_url=origin, http_backend=backend, **retries
        ) as client:
            me = client.user(user_id)
            await me.access_token()  # the token request is not part of a fleet read
            started, cpu = time.perf_counter(), time.process_time()
            results = await me.signals.list_many(vehicles, **bound)
            TIMES["read"] = time.perf_counter() - started
            TIMES["read_cpu"] = time.process_time() - cpu
            odometers: dict[str, float] = {}
            for result in results:
                if result.error is not None:
                    raise result.error
                signals = result.signals  # decoded here, and kept while this name holds it
                assert signals is not None and signals.odometer is not None
                odometers[result.vehicle_id] = signals.odometer.distance
            TIMES["wall"] = time.perf_counter() - STARTED
            TIMES["done_at"] = time.time()
            del results, signals
            for _ in range(repeats):
                started, cpu = time.perf_counter(), time.process_time()
                again = await me.signals.list_many(vehicles, **bound)
                REPEATS.append((time.perf_counter() - started, time.process_time() - cpu))
                assert len(again) == len(vehicles) and all(r.ok for r in again)
                del again
        return odometers

    return asyncio.run(read())


#: Phases a client times itself (the fleet read alone, without decoding), and its repeated reads.
TIMES: dict[str, float] = {}
REPEATS: list[tuple[float, float]] = []
STARTED = 0.0


def bare_aiohttp(
    origin: str, client_id: str, client_secret: str, user_id: str, vehicles: list[str], in_flight: int, repeats: int
) -> dict[str, float]:
    """The same requests straight through aiohttp, answers kept, nothing checked or decoded until
    the read is over (a reference, not a way to write a client); then ``repeats`` more reads."""
    import aiohttp

    async def read() -> dict[str, float]:
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:
            async with session.post(f"{origin}/oauth2/token", data=form) as answer:
                token = (await answer.json())["access_token"]
            headers = {"Authorization": f"Bearer {token}", "sc-user-id": user_id}

            async def read_all() -> dict[str, bytes]:
                bodies: dict[str, bytes] = {}
                pending = iter(vehicles)

                async def worker() -> None:
                    for vehicle_id in pending:
                        async with session.get(f"{origin}/v3/vehicles/{vehicle_id}/signals", headers=headers) as answer:
                            bodies[vehicle_id] = await answer.read()

                await asyncio.gather(*(worker() for _ in range(in_flight)))
                return bodies

            started, cpu = time.perf_counter(), time.process_time()
            bodies = await read_all()
            TIMES["read"] = time.perf_counter() - started
            TIMES["read_cpu"] = time.process_time() - cpu
            odometers: dict[str, float] = {}
            for vehicle_id, body in bodies.items():
                for signal in json.loads(body)["data"]:
                    if signal["attributes"]["code"] == ODOMETER:
                        odometers[vehicle_id] = signal["attributes"]["body"]["value"]
            TIMES["wall"] = time.perf_counter() - STARTED
            TIMES["done_at"] = time.time()
            del bodies
            for _ in range(repeats):
                started, cpu = time.perf_counter(), time.process_time()
                again = await read_all()
                REPEATS.append((time.perf_counter() - started, time.process_time() - cpu))
                assert len(again) == len(vehicles)
                del again
        return odometers

    return asyncio.run(read())


def client_main(args: argparse.Namespace) -> None:
    global STARTED
    spec = json.loads(sys.stdin.read())
    if args.client != "tutorial":
        import motorpool  # imports are not part of what is timed

        motorpool.Client  # noqa: B018 - the SDK's modules load on first use
    if args.client == "aiohttp":
        import aiohttp  # noqa: F401
    common = (spec["origin"], spec["client_id"], spec["client_secret"], spec["user_id"], spec["vehicles"])
    STARTED = time.perf_counter()
    if args.client == "tutorial":
        odometers = tutorial_style(*common)
    elif args.client == "sync":
        odometers = sdk_sync(*common)
    elif args.client in ("fleet", "fleet-before"):
        odometers = sdk_fleet(*common, args.in_flight, args.repeats)
    elif args.client == "fleet-limited":
        odometers = sdk_fleet(*common, args.in_flight, args.repeats, max_retries=LIMITED_RETRIES)
    elif args.client == "fleet-httpx":
        odometers = sdk_fleet(*common, args.in_flight, args.repeats, backend="httpx")
    else:
        odometers = bare_aiohttp(*common, args.in_flight, args.repeats)
    wall = TIMES.get("wall", time.perf_counter() - STARTED)
    # From the parent's launch of this process to every odometer in hand (repeats excluded).
    process = TIMES.get("done_at", time.time()) - float(os.environ["SDK_FLEET_LAUNCHED_AT"])
    print(json.dumps({"wall": wall, "process": process, "read": TIMES.get("read", wall), "read_cpu": TIMES.get("read_cpu", 0.0),
                      "repeats": REPEATS, "odometers": odometers}))


# --- the run ----------------------------------------------------------------------------------------


@dataclass
class ClientRun:
    """What a client process reports: its wall time, its first read, and its repeated reads."""

    wall: float
    read: float
    read_cpu: float
    repeats: list[tuple[float, float]]
    odometers: dict[str, float]
    #: From the parent starting the process to every odometer in hand (interpreter, imports and all).
    process: float = 0.0


def run_client(
    mode: str, spec: dict[str, object], in_flight: int | None, repeats: int, source: str | None = None
) -> ClientRun:
    """Run one client in a fresh process pinned to CPU 1; ``source`` puts another tree's ``src``
    first on its import path (the SDK as it was, for a before/after in one run)."""
    from harness import PYTHON, pinned

    bound = [] if in_flight is None else ["--in-flight", str(in_flight)]
    argv = pinned(1, [PYTHON, os.path.abspath(__file__), "--client", mode, *bound, "--repeats", str(repeats)])
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH")) if p)
    env["SDK_FLEET_LAUNCHED_AT"] = repr(time.time())
    done = subprocess.run(argv, input=json.dumps(spec), capture_output=True, text=True, check=False, timeout=900,
                          env=env)
    if done.returncode != 0:
        raise RuntimeError(f"client {mode} failed:\n{done.stderr}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    odometers = {k: float(v) for k, v in answer["odometers"].items()}
    return ClientRun(float(answer["wall"]), float(answer["read"]), float(answer["read_cpu"]),
                     [(float(w), float(c)) for w, c in answer["repeats"]], odometers, float(answer["process"]))


def cpu_pressure() -> float | None:
    """Linux's share of time some task waited for a CPU over the last ten seconds (PSI), or None."""
    try:
        with open("/proc/pressure/cpu") as handle:
            return float(handle.readline().split()[1].split("=")[1]) / 100
    except (OSError, IndexError, ValueError):
        return None


def wait_for_quiet(limit: float, threshold: float = 0.05) -> None:
    """Wait, at most ``limit`` seconds, until other processes leave the cores alone (PSI)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        pressure = cpu_pressure()
        if pressure is None or pressure <= threshold:
            return
        time.sleep(1)


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
    """One round: each client's run, and wrk's rate right before and right after the fleet read."""

    runs: dict[str, ClientRun]
    capacities: list[float]
    capacity_p99_ms: float
    pressure: float | None = None
    steady: dict[str, float] = field(default_factory=dict)

    @property
    def capacity(self) -> float:
        return statistics.fmean(self.capacities)

    @property
    def unsteady(self) -> bool:
        """The platform's speed moved by over 25 % across the fleet read, or others took the CPU."""
        return max(self.capacities) > 1.25 * min(self.capacities) or (self.pressure or 0.0) > 0.10


def prepare_platform(server: Any, vehicle_count: int) -> tuple[dict[str, Any], str, int]:
    """Seed the fleet, connect one user to it; answers the clients' spec, a token, the body size."""
    import httpx
    from harness import seed_fleet

    env = server.env()
    fleet = seed_fleet(server, vehicle_count)
    user_id, token, vehicles = fleet.user_id, fleet.token, fleet.vehicle_ids[:vehicle_count]
    probe = httpx.get(
        f"{server.origin}/v3/vehicles/{vehicles[0]}/signals",
        headers={"Authorization": f"Bearer {token}", "sc-user-id": user_id},
        timeout=60,
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


CLIENTS = (("tutorial", "tutorial"), ("Client", "sync"), ("AsyncClient fleet", "fleet"),
           ("AsyncClient fleet on httpx", "fleet-httpx"), ("bare aiohttp", "aiohttp"),
           ("fleet, SDK before", "fleet-before"), ("fleet, rate-limited", "fleet-limited"))
#: The clients that read the fleet again after their first read.
REPEATING = ("fleet", "fleet-before", "fleet-httpx", "aiohttp")


def order(before: bool, limited: bool) -> list[str]:
    """The steps of a round: the fleet read between two capacity measurements, then the rest."""
    steps = ["capacity", "fleet", "capacity"]
    steps += ["fleet-before"] if before else []
    steps += ["fleet-httpx", "aiohttp"]
    steps += ["fleet-limited"] if limited else []
    return [*steps, "tutorial", "sync"]


#: Retries of the rate-limited fleet read: an application that expects 429s allows more than the
#: default two, each waiting what ``retry-after`` says.
LIMITED_RETRIES = 8


@dataclass
class Limited:
    """What the rate limiter did to a fleet read: its 429s, and how long each refused vehicle
    waited before it was asked again, against the ``retry-after`` it was given."""

    refusals: int
    retried: int
    early: int
    shortest_wait_ms: float
    unfinished: int

    @property
    def respected(self) -> bool:
        """Every refused vehicle was asked again, none sooner than its ``retry-after`` said, and
        every vehicle ended with an answer."""
        return self.retried == self.refusals and self.early == 0 and self.unfinished == 0


def rate_limited_read(
    server: Any, spec: dict[str, Any], limit: tuple[int, float], in_flight: int | None
) -> tuple[ClientRun, Limited]:
    """Set the application's bucket to ``limit`` (requests, refill per minute) through the admin
    API, read the fleet, lift the limit, and check in the platform's request log, vehicle by
    vehicle, that each refused read was asked again only after its ``retry-after``."""
    import httpx

    env = server.env()
    admin = {"Authorization": f"Bearer {env['MOTORPOOL_ADMIN_TOKEN']}"}
    app = f"/admin/applications/{env['MOTORPOOL_APPLICATION_ID']}"
    with httpx.Client(base_url=server.origin, headers=admin, timeout=60) as http:
        http.put(f"{app}/rate-limit", json={"requests": limit[0], "refillPerMinute": limit[1]}).raise_for_status()
        since = int(time.time() * 1000)
        try:
            run = run_client("fleet-limited", spec, in_flight, 0)
        finally:
            http.put(f"{app}/rate-limit", json={}).raise_for_status()
        refusals = retried = early = unfinished = 0
        waits: list[int] = []
        for vehicle_id in spec["vehicles"]:
            entries = http.get(f"{app}/requests", params={"vehicleId": vehicle_id, "limit": 1000}).json()["data"]
            # The log keeps milliseconds and the limiter rounds up to whole seconds: no slack needed.
            ordered = sorted((e for e in entries if e["at"] >= since), key=lambda e: e["at"])
            if not ordered or ordered[-1]["status"] != 200:
                unfinished += 1
            for entry, following in zip(ordered, [*ordered[1:], None], strict=True):
                if entry["status"] != 429:
                    continue
                refusals += 1
                seconds = re.search(r"Retry after (\d+) s", entry["error"] or "")
                if following is None or seconds is None:
                    continue
                retried += 1
                waits.append(following["at"] - entry["at"])
                early += following["at"] - entry["at"] < int(seconds.group(1)) * 1000
    return run, Limited(refusals, retried, early, min(waits, default=0), unfinished)


def measure(
    label: str, latency: float, vehicle_count: int, in_flight: int | None, seconds: int, rounds: int, repeats: int,
    quiet_wait: float, before: str | None = None, limit: tuple[int, float] | None = None,
) -> dict[str, float]:
    from harness import motorpool_serve, run_wrk

    from motorpool.sdk._client import DEFAULT_FLEET_IN_FLIGHT

    # wrk and the bare aiohttp reference keep as many requests in flight as the fleet read.
    connections = in_flight or DEFAULT_FLEET_IN_FLIGHT
    # A request log long enough to hold every request of a rate-limited fleet read.
    extra = {"MOTORPOOL_REQUEST_LOG_SIZE": str(4 * vehicle_count)}
    if latency:
        extra["MOTORPOOL_VEHICLE_LATENCY"] = str(latency)
    names = {mode: name for name, mode in CLIENTS}
    limited: list[Limited] = []
    with motorpool_serve(extra_env=extra) as server:
        spec, token, body_size = prepare_platform(server, vehicle_count)
        vehicles: list[str] = spec["vehicles"]
        paths = [f"/v3/vehicles/{vid}/signals" for vid in vehicles]
        script = wrk_script(paths, token, spec["user_id"])

        def warm_up() -> None:
            # Reads every vehicle (so recent readings are cached), then pauses: uvicorn answers
            # slowly for a moment after a load generator drops its connections at once.
            run_wrk(server.origin + paths[0], script=script, seconds=2, connections=connections, warmup=0)
            time.sleep(3)

        measured: list[Round] = []
        for _ in range(rounds):
            runs: dict[str, ClientRun] = {}
            capacities: list[float] = []
            p99: list[float] = []
            pressure = None
            for step in order(before is not None, limit is not None):
                wait_for_quiet(quiet_wait)
                warm_up()
                if step == "capacity":
                    result = run_wrk(server.origin + paths[0], script=script, seconds=seconds,
                                     connections=connections, warmup=0)
                    capacities.append(result.requests_per_second)
                    p99.append(result.p99_ms)
                    continue
                if step == "fleet-limited":
                    assert limit is not None
                    runs[names[step]], outcome = rate_limited_read(server, spec, limit, in_flight)
                    limited.append(outcome)
                    continue
                bound = connections if step == "aiohttp" else in_flight
                runs[names[step]] = run_client(step, spec, bound, repeats if step in REPEATING else 0,
                                               before if step == "fleet-before" else None)
                if step == "fleet":
                    pressure = cpu_pressure()
            reference = runs["tutorial"].odometers
            for name, run in runs.items():
                # Readings move only when a vehicle reports again, and slowly; compare loosely.
                differing = [v for v in vehicles if abs(run.odometers.get(v, -1.0) - reference[v]) > 50.0]
                assert not differing, f"{name} disagrees with the tutorial code on {len(differing)} vehicles"
            measured.append(Round(runs, capacities, statistics.fmean(p99), pressure))

    def median(values: list[float]) -> float:
        return statistics.median(values)

    def steady(run: ClientRun) -> float:
        """The median of the repeated reads (the first read when there are none)."""
        return median([wall for wall, _ in run.repeats]) if run.repeats else run.read

    def cpu_per_read(run: ClientRun, repeated: bool) -> float:
        if repeated and run.repeats:
            return median([cpu for _, cpu in run.repeats]) / count * 1e6
        return run.read_cpu / count * 1e6

    count = len(vehicles)
    fleet, bare, on_httpx = names["fleet"], names["aiohttp"], names["fleet-httpx"]
    shown_bound = f"{in_flight}" if in_flight else f"the SDK's default of {connections}"
    print(f"\n== {label}: {count:,} vehicles, vehicle latency {latency * 1000:.0f} ms, "
          f"signals body {body_size:,} B, {shown_bound} in flight, median of {rounds} round(s) ==")
    print("  (each client reads every vehicle's signals and pulls out its odometer; the fleet and aiohttp")
    print(f"   clients then read the fleet {repeats} more times on the same connections)")
    tutorial = median([r.runs["tutorial"].wall for r in measured])
    present = [(name, mode) for name, mode in CLIENTS if name in measured[0].runs]
    rows = [(name, median([r.runs[name].wall for r in measured]))
            for name, mode in present if mode not in ("aiohttp", "fleet-httpx")]
    rows.append(("  its first read", median([r.runs[fleet].read for r in measured])))
    rows.append(("  its repeated reads", median([steady(r.runs[fleet]) for r in measured])))
    rows.append(("fleet read on httpx", median([r.runs[on_httpx].read for r in measured])))
    rows.append(("  its repeated reads", median([steady(r.runs[on_httpx]) for r in measured])))
    rows.append(("bare aiohttp read", median([r.runs[bare].read for r in measured])))
    rows.append(("  its repeated reads", median([steady(r.runs[bare]) for r in measured])))
    for name, wall in rows:
        print(f"  {name:20} {wall:8.2f} s  {count / wall:8.0f} req/s  {tutorial / wall:6.1f}x the tutorial code")
    print("  whole process, from starting the interpreter to every odometer in hand (imports included):")
    tutorial_process = median([r.runs["tutorial"].process for r in measured])
    for name, mode in present:
        if mode in ("tutorial", "fleet", "fleet-before", "fleet-limited"):
            wall = median([r.runs[name].process for r in measured])
            print(f"  {name:20} {wall:8.2f} s  {'':8}        {tutorial_process / wall:6.1f}x the tutorial code")
    for outcome in limited:
        print(f"  rate limiter: {outcome.refusals} reads refused (429), {outcome.retried} asked again, "
              f"{outcome.early} of them sooner than retry-after said (the shortest wait {outcome.shortest_wait_ms:.0f} ms), "
              f"{outcome.unfinished} vehicles left unread: "
              f"{'retry-after respected' if outcome.respected else 'retry-after NOT respected'}")
    capacity = median([r.capacity for r in measured])
    print(f"  {'platform (wrk)':20} {'':8}    {capacity:8.0f} req/s  "
          f"(p99 {median([r.capacity_p99_ms for r in measured]):.0f} ms; before/after the fleet read "
          f"{[[round(c) for c in r.capacities] for r in measured]})")

    def ratios(read: Any) -> list[float]:
        return [count / read(r) / r.capacity for r in measured]

    def shown(values: list[float]) -> str:
        marked = [f"{value:.2f}{'*' if r.unsteady else ''}" for value, r in zip(values, measured, strict=True)]
        return "[" + ", ".join(marked) + "]"

    steady_ratios = ratios(lambda r: steady(r.runs[fleet]))
    first_ratios = ratios(lambda r: r.runs[fleet].read)
    decoded_ratios = ratios(lambda r: r.runs[fleet].wall)
    bare_ratios = ratios(lambda r: steady(r.runs[bare]))
    vs_tutorial = median([r.runs["tutorial"].wall / r.runs[fleet].wall for r in measured])
    print(f"  fleet read / platform capacity: {median(steady_ratios):.2f} per round "
          f"{shown(steady_ratios)}; its first read {median(first_ratios):.2f} "
          f"{shown(first_ratios)}; first read with every answer decoded "
          f"{median(decoded_ratios):.2f}")
    print(f"  bare aiohttp read / platform capacity: {median(bare_ratios):.2f} {shown(bare_ratios)}")
    print(f"  client CPU per vehicle read: fleet {median([cpu_per_read(r.runs[fleet], True) for r in measured]):.0f} µs "
          f"(first read {median([cpu_per_read(r.runs[fleet], False) for r in measured]):.0f} µs), "
          f"fleet on httpx {median([cpu_per_read(r.runs[on_httpx], True) for r in measured]):.0f} µs, "
          f"bare aiohttp {median([cpu_per_read(r.runs[bare], True) for r in measured]):.0f} µs "
          f"(first read {median([cpu_per_read(r.runs[bare], False) for r in measured]):.0f} µs)")
    pressures = [r.pressure for r in measured if r.pressure is not None]
    if pressures:
        print(f"  CPU pressure (PSI some avg10) at each fleet read: {[f'{p:.0%}' for p in pressures]} "
              "(anything well above 0 means other processes competed for the cores)")
    if any(r.unsteady for r in measured):
        print("  * an unsteady round: wrk's figures before and after the fleet read differ by over 25 %,")
        print("    or other processes held the CPUs; its ratios say more about the machine than the SDK")
    figures = {"fleet_vs_tutorial": vs_tutorial, "fleet_vs_capacity": median(steady_ratios),
               "first_vs_capacity": median(first_ratios),
               "process_vs_tutorial": median([r.runs["tutorial"].process / r.runs[fleet].process for r in measured])}
    for mode, key in (("fleet-before", "before"), ("fleet-limited", "limited")):
        if names[mode] in measured[0].runs:
            figures[f"{key}_vs_tutorial"] = median([r.runs["tutorial"].wall / r.runs[names[mode]].wall for r in measured])
            figures[f"{key}_process_vs_tutorial"] = median(
                [r.runs["tutorial"].process / r.runs[names[mode]].process for r in measured])
    if limited:
        figures["limit_respected"] = float(all(outcome.respected for outcome in limited))
        figures["refusals"] = float(sum(outcome.refusals for outcome in limited))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vehicles", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds, for the second run")
    parser.add_argument("--in-flight", type=int, default=None,
                        help="requests a fleet read keeps in flight (default: the SDK's own default)")
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration")
    parser.add_argument("--rounds", type=int, default=3, help="rounds on loopback (the slow run has one)")
    parser.add_argument("--repeats", type=int, default=4, help="fleet reads after the first, per client")
    parser.add_argument("--quiet-wait", type=float, default=30.0,
                        help="seconds to wait, before each measurement, for other processes to leave the cores")
    parser.add_argument("--only", choices=["loopback", "slow"], help="run one of the two runs")
    parser.add_argument("--before", metavar="SRC",
                        help="another checkout's src folder: its SDK reads the fleet too, side by side (before/after)")
    parser.add_argument("--rate-limit", default="200,12000", metavar="REQUESTS,PER_MINUTE",
                        help="the application's bucket for the rate-limited fleet read of the slow run "
                             "(its size and refill per minute; 'off' to skip it)")
    parser.add_argument("--client", choices=[mode for _, mode in CLIENTS], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main(args)
        return
    limit = None
    if args.rate_limit != "off":
        size, refill = args.rate_limit.split(",")
        limit = (int(size), float(refill))
    before = os.path.abspath(args.before) if args.before else None
    loopback = slow = None
    if args.only != "slow":
        loopback = measure("loopback", 0.0, args.vehicles, args.in_flight, args.seconds, args.rounds, args.repeats,
                           args.quiet_wait, before)
    if args.only != "loopback":
        slow = measure("slow vehicles", args.latency, args.vehicles, args.in_flight, args.seconds, 1, args.repeats,
                       args.quiet_wait, before, limit)
    print("\n== targets ==")
    if loopback is not None:
        print(f"  loopback: fleet read / platform capacity = {loopback['fleet_vs_capacity']:.2f} (target >= 0.5; "
              f"first read {loopback['first_vs_capacity']:.2f})")
    if slow is not None:
        ms = f"{args.latency * 1000:.0f} ms latency"
        print(f"  {ms}: fleet read / tutorial code = {slow['fleet_vs_tutorial']:.1f}x from the client's start, "
              f"{slow['process_vs_tutorial']:.1f}x as whole processes (target >= 40x)")
        if "before_vs_tutorial" in slow:
            print(f"  {ms}, the SDK before: {slow['before_vs_tutorial']:.1f}x from the client's start, "
                  f"{slow['before_process_vs_tutorial']:.1f}x as whole processes")
        if "limited_vs_tutorial" in slow:
            print(f"  {ms}, rate-limited ({args.rate_limit} per minute): {slow['limited_vs_tutorial']:.1f}x from the "
                  f"client's start, {slow['limited_process_vs_tutorial']:.1f}x as whole processes; "
                  f"{slow['refusals']:.0f} refusals, retry-after "
                  f"{'respected' if slow['limit_respected'] else 'NOT respected'}")


if __name__ == "__main__":
    main()
