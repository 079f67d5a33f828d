"""Authenticated ``GET /v3/vehicles/{id}/signals`` against ``motorpool serve``, side by side with a
bare ASGI endpoint answering a JSON body of the same size on the same server setup.

    .venv/bin/python bench/api_read.py [--seconds 10] [--fleets 1000,100000]

For each fleet size the platform starts fresh, the fleet is seeded through the admin API, one
user is connected to every vehicle, and wrk (50 connections) reads the signals of vehicles drawn
at random from a working set of 1,000 of them, with a valid token and ``sc-user-id`` on every
request. Every check runs on every request; what is reused between reads is the rendering of a
vehicle's latest report. Prints requests/s, p50 and p99 for both and the ratio (target >= 0.25,
falling by no more than 10 % from the small fleet to the large one)."""

from __future__ import annotations

import _pathfix  # noqa: F401  (must come first: see _pathfix.py)
import argparse
import random

import httpx

from harness import bare_asgi, lua_string, motorpool_serve, run_wrk


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


def measure(fleet: int, seconds: int) -> dict[str, float]:
    with motorpool_serve() as server:
        env = server.env()
        admin = {"Authorization": f"Bearer {env['MOTORPOOL_ADMIN_TOKEN']}"}
        app_id = env["MOTORPOOL_APPLICATION_ID"]
        with httpx.Client(base_url=server.origin, timeout=600) as http:
            extra = fleet - 3  # the development fleet already has three vehicles
            if extra > 0:
                http.post(f"/admin/applications/{app_id}/fleet", json={"count": extra, "seed": 42}, headers=admin).raise_for_status()
            vehicles = http.get(f"/admin/applications/{app_id}/vehicles", headers=admin).json()["data"]
            assert len(vehicles) == fleet, len(vehicles)
            grant = http.post(
                f"/admin/applications/{app_id}/connections",
                json={"email": "fleet-owner@example.com", "mode": "simulated"},
                headers=admin,
            )
            grant.raise_for_status()
            user_id = grant.json()["data"]["userId"]
            token = http.post("/oauth2/token", data={
                "grant_type": "client_credentials",
                "client_id": env["SMARTCAR_CLIENT_ID"],
                "client_secret": env["SMARTCAR_CLIENT_SECRET"],
            }).json()["access_token"]
            working_set = random.Random(1).sample([v["id"] for v in vehicles], min(1000, fleet))
            paths = [f"/v3/vehicles/{vid}/signals" for vid in working_set]
            probe = http.get(paths[0], headers={"Authorization": f"Bearer {token}", "sc-user-id": user_id})
            assert probe.status_code == 200, probe.text
            size = len(probe.content)
        api = run_wrk(server.origin + paths[0], script=lua_for(paths, token, user_id), seconds=seconds)
    with bare_asgi(size) as origin:
        bare = run_wrk(origin + "/", seconds=seconds)
    ratio = api.requests_per_second / bare.requests_per_second
    print(f"fleet {fleet:>7,}: signals {api.requests_per_second:8.0f} req/s  p50 {api.p50_ms:6.2f} ms  p99 {api.p99_ms:6.2f} ms"
          f"  (non-2xx {api.non_2xx}, errors {api.errors}, body {size:,} B)")
    print(f"{'':15}bare    {bare.requests_per_second:8.0f} req/s  p50 {bare.p50_ms:6.2f} ms  p99 {bare.p99_ms:6.2f} ms")
    print(f"{'':15}ratio   {ratio:.3f}")
    return {"ratio": ratio, "rps": api.requests_per_second}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--fleets", default="1000,100000")
    args = parser.parse_args()
    fleets = [int(f) for f in args.fleets.split(",")]
    results = {fleet: measure(fleet, args.seconds) for fleet in fleets}
    if len(fleets) > 1:
        small, large = results[fleets[0]]["ratio"], results[fleets[-1]]["ratio"]
        print(f"ratio change from {fleets[0]:,} to {fleets[-1]:,} vehicles: {100 * (large - small) / small:+.1f} %")
    print("targets: ratio >= 0.25; change no worse than -10 %")


if __name__ == "__main__":
    main()
