"""``/healthz`` (the process is alive) and ``/readyz`` (it can serve: the database and Redis
answer), for load balancers. Bare routes ahead of the FastAPI app: they must answer before, and
without, anything else being built."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .common import json_response, platform_of

_NO_STORE = {"cache-control": "no-store"}


async def healthz(_request: Request) -> Response:
    return json_response({"status": "ok"}, headers=_NO_STORE)


async def readyz(request: Request) -> Response:
    ready, checks = await platform_of(request).health.readiness()
    return json_response(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        200 if ready else 503,
        {**_NO_STORE, **({} if ready else {"Retry-After": "1"})},
    )


ROUTES = [
    Route("/healthz", healthz, methods=["GET", "HEAD"]),
    Route("/readyz", readyz, methods=["GET", "HEAD"]),
]
