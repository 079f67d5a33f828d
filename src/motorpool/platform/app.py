"""``create_app(settings)``: the platform as one ASGI app. Nothing is built at import time.

Plain Starlette composition: the hot routes first — IAM's token, introspection, revocation,
JWKS and metadata endpoints (:mod:`.api.iam`) and the signal reads (:mod:`.api.signals`) — then
every other route through a FastAPI app mounted at the root (Connect, the Vehicle API's
connections, vehicles and commands, the admin API, and the OpenAPI document). The request-id
middleware, the trailing-slash middleware (``/path/`` served as ``/path``, never redirected) and
the error handlers wrap both; the lifespan starts and stops the platform's services
(:mod:`.services.runtime`).

FastAPI and the modules behind its routes (pydantic models, Jinja2, Connect's rules) are a large
share of the start-up time and the hot routes need none of them, so the mounted app is built by
the first request that reaches it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import TYPE_CHECKING, Any, cast

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from .api import common, health, iam, request_log, signals
from .services.runtime import start_platform
from .settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

DESCRIPTION = """A self-hosted connected-car platform speaking Smartcar's v3 wire contract:
IAM (OAuth 2.0 client credentials and user tokens), Connect, the Vehicle API v3 with commands,
the Vehicle API v2.0 over the same state, and an admin API to steer the simulated fleet."""

#: The API's sections in reading order, whatever order their routes were included in.
TAGS = [
    {"name": name}
    for name in (
        "IAM", "Connect", "Vehicle API", "Vehicle API: commands", "Vehicle API v2.0",
        "Management API v2", "Management API v3", "Compatibility", "Admin",
    )
]  # fmt: skip


class BuiltOnFirstUse:
    """An ASGI app built by the first request that reaches it. Building is synchronous, so
    concurrent first requests cannot see it half-built."""

    def __init__(self, build: Callable[[], ASGIApp]) -> None:
        self._build = build
        self._app: ASGIApp | None = None

    @property
    def built(self) -> bool:
        return self._app is not None

    @property
    def app(self) -> ASGIApp:
        if self._app is None:
            self._app = self._build()
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        platform = await start_platform(settings)
        app.state.platform = platform
        await platform.start_background()
        try:
            yield
        finally:
            await platform.close()

    rest = BuiltOnFirstUse(lambda: build_rest_api(app))
    hot = [*signals.ROUTES, *iam.ROUTES]
    hot += health.ROUTES
    app = Starlette(
        routes=[*hot, Mount("/", app=rest)],
        middleware=[
            Middleware(common.RequestIdMiddleware),
            Middleware(request_log.RequestLogMiddleware),
            # A trailing slash is served, not redirected, on every surface (v3, v2, admin…).
            Middleware(common.TrailingSlashes, lambda: hot, lambda: cast(Starlette, rest.app).routes),
        ],
        exception_handlers=common.ERROR_HANDLERS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    # Where a 405 finds every method of a path (api/common.allowed_methods).
    app.state.route_tables = (lambda: hot, lambda: cast(Starlette, rest.app).routes)
    return app


def build_rest_api(platform_app: Starlette) -> FastAPI:
    """Every route but the hot ones, with the same error handlers and the same ``state`` as
    ``platform_app`` (so routes find the platform whichever app served them)."""
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError

    from .api import (
        admin,
        admin_connections,
        admin_failures,
        admin_requests,
        admin_state,
        admin_vehicle,
        admin_webhooks,
        catalogue,
        commands,
        compatibility,
        connect,
        dashboard,
        dashboard_failures,
        docs,
        iam_docs,
        management,
        v2,
        vehicles,
        webhooks_v3,
    )
    from .api.admin_keys import router as signing_keys_router
    from .api.openapi_types import type_parameters, unrouted_is_404

    api = FastAPI(
        title="motorpool",
        # The one version, motorpool.__version__, as the installed distribution states it.
        version=version("motorpool"),
        description=DESCRIPTION,
        openapi_tags=TAGS,
        # Served by api/docs.py from packaged assets: FastAPI's own pages load them from a CDN.
        docs_url=None,
        redoc_url=None,
        exception_handlers={
            **common.ERROR_HANDLERS,
            RequestValidationError: common.validation_error,
        },
    )
    api.state = platform_app.state
    api.include_router(iam_docs.router)
    connect.install(api)
    api.include_router(vehicles.router)
    api.include_router(commands.router)
    api.include_router(v2.router)
    api.include_router(management.router)
    api.include_router(compatibility.v2_router)
    api.include_router(compatibility.v3_router)
    api.include_router(admin.router)
    api.include_router(admin_webhooks.router)
    api.include_router(webhooks_v3.router)
    api.include_router(webhooks_v3.v2_router)
    api.include_router(signing_keys_router)
    api.include_router(admin_state.router)
    api.include_router(docs.router)
    api.include_router(catalogue.router)
    api.include_router(admin_connections.router)
    api.include_router(admin_vehicle.router)
    api.include_router(admin_failures.router)
    api.include_router(dashboard.router)
    api.include_router(dashboard_failures.router)
    api.include_router(admin_requests.router)
    api.add_exception_handler(dashboard.Refused, dashboard.refused)  # type: ignore[arg-type]
    generate = api.openapi

    def openapi() -> dict[str, Any]:
        first = api.openapi_schema is None
        document = generate()  # built once, then kept by FastAPI
        if first:
            _bad_input_is_400(document)
            type_parameters(document)
            unrouted_is_404(document)
        return document

    # Replacing the method is FastAPI's documented way to extend the document.
    api.openapi = openapi  # type: ignore[method-assign]
    return api


def _bad_input_is_400(document: dict[str, Any]) -> None:
    """Bad input is answered 400 in the documented error shape, never FastAPI's 422: say so in
    the document (edited in place, the copy FastAPI keeps and serves)."""
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if responses.pop("422", None) is None or "400" in responses or path.startswith("/oauth/"):
                continue
            schema = "OAuthErrorBody" if path.startswith("/oauth2/") else "ErrorBody"
            responses["400"] = {
                "description": "VALIDATION: a parameter or the body is malformed (one error per field)",
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
            }
    schemas = document.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
