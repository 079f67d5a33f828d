"""Client-credentials grants per second against ``motorpool serve``, and start-up time.

    .venv/bin/python bench/token.py [--seconds 10] [--starts 5] [--startup-only]

Start-up is measured from launching ``motorpool serve`` to its first answer: on an empty database
(first start: migrations, keys and the development application) and again on the same database
(every later start). Grants are driven by wrk with 50 connections; in the same run wrk also
drives a bare ASGI app answering a body of the same size, for the ratio."""

from __future__ import annotations

import _pathfix  # noqa: F401  (must come first: see _pathfix.py)

# isort: split
import argparse
import shutil
import statistics
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import httpx
from harness import bare_asgi, lua_string, motorpool_serve, run_wrk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--starts", type=int, default=5, help="warm start-ups to time")
    parser.add_argument("--startup-only", action="store_true", help="time the start-ups, skip the grants")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="motorpool-bench-token-"))
    try:
        with motorpool_serve(workdir) as server:
            first_start = server.startup
        warm = []
        for _ in range(args.starts):
            with motorpool_serve(workdir) as server:
                warm.append(server.startup)
        if args.startup_only:
            _print_startup(first_start, warm)
            return
        with motorpool_serve(workdir) as server:
            env = server.env()
            form = urlencode({
                "grant_type": "client_credentials",
                "client_id": env["SMARTCAR_CLIENT_ID"],
                "client_secret": env["SMARTCAR_CLIENT_SECRET"],
            })
            answer = httpx.post(server.origin + "/oauth2/token", content=form,
                                headers={"content-type": "application/x-www-form-urlencoded"})
            assert answer.status_code == 200, answer.text
            size = len(answer.content)
            script = (
                'wrk.method = "POST"\n'
                f"wrk.body = {lua_string(form)}\n"
                'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
            )
            grants = run_wrk(server.origin + "/oauth2/token", script=script, seconds=args.seconds)
        with bare_asgi(size) as origin:
            bare = run_wrk(origin + "/", seconds=args.seconds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    _print_startup(first_start, warm)
    print(f"grants:    {grants.requests_per_second:9.0f} /s   p50 {grants.p50_ms:6.2f} ms   p99 {grants.p99_ms:6.2f} ms"
          f"   non-2xx {grants.non_2xx}  socket errors {grants.errors}")
    print(f"bare ASGI: {bare.requests_per_second:9.0f} /s   p50 {bare.p50_ms:6.2f} ms   p99 {bare.p99_ms:6.2f} ms"
          f"   ({size}-byte body)")
    print(f"ratio grants / bare ASGI: {grants.requests_per_second / bare.requests_per_second:.3f}")
    print("targets: >= 5,000 grants/s; start-up < 1 s")


def _print_startup(first_start: float, warm: list[float]) -> None:
    print(f"start-up, first start (empty database):  {first_start:.2f} s")
    print(f"start-up, later starts (median of {len(warm)}):   {statistics.median(warm):.2f} s "
          f"(min {min(warm):.2f}, max {max(warm):.2f})")


if __name__ == "__main__":
    main()
