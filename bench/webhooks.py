"""Webhook deliveries of ``motorpool serve``: latency from a state change to the signed delivery
received, and deliveries per second, with 1,000 subscribed vehicles.

    .venv/bin/python bench/webhooks.py [--vehicles 1000] [--changes 200] [--rounds 3]
        [--before OTHER_CHECKOUT/src]

The platform runs on core 0 (SQLite, its in-process worker); this script runs the receiver — an
aiohttp server that answers at once — on core 1. Latency: a trigger signal pinned through the
admin API, timed until its VEHICLE_STATE arrives. Throughput: the webhook disabled and enabled
again, which owes every subscribed vehicle a FIRST_DELIVERY, timed until all have arrived. For
the ratio, the same receiver is driven in the same run by a bare aiohttp client posting signed
bodies of the same size with the same concurrency (what the worker's client could do with no
outbox, monitor or database around it). ``--before`` measures another checkout's platform (its
``src`` first on the server's import path) in the same run, before this one, and prints the
ratios of the two; the load average is printed with each, since the machine may be shared."""

from __future__ import annotations

import _pathfix  # noqa: F401  (must come first: see _pathfix.py)

# isort: split
import argparse
import asyncio
import hashlib
import hmac
import json
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from aiohttp import web
from harness import motorpool_serve

ODOMETER = "odometer-traveleddistance"


class Receiver:
    def __init__(self) -> None:
        self.count = 0
        self.bodies = 0
        self.changed = asyncio.Event()
        self.size = 0

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.size = len(raw)
        event = json.loads(raw)
        if event["eventType"] != "VERIFY":
            self.last = raw
        if event["eventType"] == "VERIFY":
            challenge = event["data"]["challenge"]
            answer = hmac.new(self.token.encode(), challenge.encode(), hashlib.sha256).hexdigest()
            return web.json_response({"challenge": answer})
        self.count += 1
        self.changed.set()
        return web.Response(status=204)

    async def wait_for(self, count: int, timeout: float = 120) -> None:
        deadline = time.perf_counter() + timeout
        while self.count < count:
            self.changed.clear()
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError(f"{self.count} of {count} deliveries arrived")
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                pass

    token = ""
    last = b""


async def start_receiver(receiver: Receiver) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, shutdown_timeout=1.0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/hook"


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds a process has used so far (Linux: /proc), or NaN elsewhere:
    the platform's CPU per delivery depends far less on other work on the machine than its
    rate does."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def bare_client(url: str, token: str, body: bytes, count: int, concurrency: int) -> float:
    """Signed POSTs of ``body`` by a bare aiohttp client; deliveries per second."""
    signature = hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "SC-Signature": signature}
    connector = aiohttp.TCPConnector(limit_per_host=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        semaphore = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with semaphore, session.post(url, data=body, headers=headers) as response:
                await response.read()

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(count)))
        return count / (time.perf_counter() - started)


@dataclass
class Figures:
    """What one platform measured."""

    p50_ms: float
    p99_ms: float
    rate: float
    rates: list[float]
    cpu_per_delivery_s: float
    bare_rate: float
    load_average: tuple[float, float, float]


async def measure(args: argparse.Namespace, source: str | None) -> Figures:
    """One platform's figures: this checkout's, or the one whose ``src`` is ``source``."""
    extra_env = None
    if source is not None:
        extra_env = {"PYTHONPATH": os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH")) if p)}
    with motorpool_serve(extra_env=extra_env) as server:
        env = server.env()
        admin = {"Authorization": f"Bearer {env['MOTORPOOL_ADMIN_TOKEN']}"}
        application = env["MOTORPOOL_APPLICATION_ID"]
        receiver = Receiver()
        receiver.token = env["APPLICATION_MANAGEMENT_TOKEN"]
        runner, url = await start_receiver(receiver)
        async with httpx.AsyncClient(base_url=server.origin, timeout=60) as http:

            async def call(method: str, path: str, **kwargs: Any) -> Any:
                response = await http.request(method, path, headers=admin, **kwargs)
                assert response.status_code < 300, response.text
                return response.json().get("data") if response.content else None

            async def fleet_ids() -> list[str]:
                ids: list[str] = []
                cursor: str | None = None
                while True:
                    params = {"cursor": cursor} if cursor else {}
                    response = await http.get(f"/admin/applications/{application}/vehicles", params=params, headers=admin)
                    assert response.status_code == 200, response.text
                    ids += [v["id"] for v in response.json()["data"]]
                    cursor = response.json()["meta"]["nextCursor"]
                    if cursor is None:
                        return ids

            before = set(await fleet_ids())
            await call("POST", f"/admin/applications/{application}/fleet", json={"count": args.vehicles, "seed": 5})
            fleet = [vehicle_id for vehicle_id in await fleet_ids() if vehicle_id not in before]
            connection = await call("POST", f"/admin/applications/{application}/connections",
                                    json={"email": "bench@example.com", "mode": "simulated", "vehicleIds": fleet})
            user_id = connection["userId"]
            webhook = await call("POST", f"/admin/applications/{application}/webhooks",
                                 json={"name": "bench", "callbackUri": url, "triggers": [ODOMETER], "data": [ODOMETER]})
            assert webhook["meta"]["verified"], webhook
            token_answer = await http.post("/oauth2/token", data={
                "grant_type": "client_credentials", "client_id": env["SMARTCAR_CLIENT_ID"],
                "client_secret": env["SMARTCAR_CLIENT_SECRET"]})  # fmt: skip
            bearer = {"Authorization": f"Bearer {token_answer.json()['access_token']}"}
            semaphore = asyncio.Semaphore(16)

            async def subscribe(vehicle_id: str) -> None:
                async with semaphore:
                    answer = await http.post("/v3/subscriptions", headers=bearer, json={"data": {"attributes": {
                        "webhookId": webhook["id"], "userId": user_id, "vehicleId": vehicle_id}}})  # fmt: skip
                    assert answer.status_code == 202, answer.text

            await asyncio.gather(*(subscribe(v) for v in fleet))
            await receiver.wait_for(len(fleet))
            print(f"{len(fleet)} vehicles subscribed; every FIRST_DELIVERY received ({receiver.size} B each)")

            rates = []
            cpu_before = cpu_seconds(server.process.pid)
            for _ in range(args.rounds):
                await call("PATCH", f"/admin/webhooks/{webhook['id']}", json={"isEnabled": False})
                target = receiver.count + len(fleet)
                started = time.perf_counter()
                await call("PATCH", f"/admin/webhooks/{webhook['id']}", json={"isEnabled": True})
                await receiver.wait_for(target)
                rates.append(len(fleet) / (time.perf_counter() - started))
            cpu_per_delivery = (cpu_seconds(server.process.pid) - cpu_before) / (len(fleet) * args.rounds)

            latencies = []
            for index in range(args.changes):
                vehicle_id = fleet[index % len(fleet)]
                target = receiver.count + 1
                started = time.perf_counter()
                await call("PUT", f"/admin/vehicles/{vehicle_id}/signals/{ODOMETER}",
                           json={"body": {"unit": "km", "value": 10_000.0 + index}})
                await receiver.wait_for(target, timeout=30)
                latencies.append((time.perf_counter() - started) * 1000)

        body = receiver.last
        bare = await bare_client(url, receiver.token, body, len(fleet) * args.rounds, 64)
        await runner.cleanup()

    latencies.sort()
    return Figures(
        p50_ms=statistics.median(latencies),
        p99_ms=latencies[min(len(latencies) - 1, round(len(latencies) * 0.99) - 1)],
        rate=statistics.median(rates),
        rates=rates,
        cpu_per_delivery_s=cpu_per_delivery,
        bare_rate=bare,
        load_average=os.getloadavg(),
    )


def report(label: str, args: argparse.Namespace, figures: Figures) -> None:
    print(f"[{label}] load average {', '.join(f'{x:.1f}' for x in figures.load_average)}")
    print(f"  state change → signed delivery received ({args.changes} changes, one at a time, "
          f"through the admin API): p50 {figures.p50_ms:.1f} ms, p99 {figures.p99_ms:.1f} ms  (target p99 < 50 ms)")
    print(f"  deliveries/s, {args.vehicles} FIRST_DELIVERY per round, median of {args.rounds}: {figures.rate:,.0f}/s "
          f"(rounds: {', '.join(f'{r:,.0f}' for r in figures.rates)})  (target ≥ 2,000/s)")
    cpu = figures.cpu_per_delivery_s
    print(f"  platform CPU per delivery in those rounds (monitor, outbox, worker, HTTP): "
          f"{cpu * 1e6:,.0f} µs, so at most {1 / cpu:,.0f}/s on one free core")
    print(f"  bare aiohttp client → same receiver, same body size, 64 at once: {figures.bare_rate:,.0f}/s; "
          f"ratio {figures.rate / figures.bare_rate:.2f}")


async def run(args: argparse.Namespace) -> None:
    before = await measure(args, os.path.abspath(args.before)) if args.before else None
    now = await measure(args, None)
    if before is not None:
        report(f"before: {args.before}", args, before)
    report("this checkout", args, now)
    if before is not None:
        print("this checkout / before (same run): "
              f"deliveries/s {now.rate / before.rate:.2f}, "
              f"CPU per delivery {now.cpu_per_delivery_s / before.cpu_per_delivery_s:.2f}, "
              f"p50 {now.p50_ms / before.p50_ms:.2f}, p99 {now.p99_ms / before.p99_ms:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vehicles", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", metavar="SRC",
                        help="another checkout's src folder: its platform is measured too, in the same run")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
