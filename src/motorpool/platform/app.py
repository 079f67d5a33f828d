"""``create_app(settings)``: the platform as one ASGI app. Nothing is built at import time.

Start-up imports only what the first answers need: IAM's fast routes (the token endpoint, JWKS,
the server metadata). FastAPI is built by the first request they do not answer, and every other
route is a lazy group (see :mod:`.api.fastlane`): the first request under its paths imports and
installs it, and so does the OpenAPI document."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from .api import common, iam
from .api.fastlane import LazyRoutes, PlatformApp
from .services.runtime import Platform, start_platform
from .settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

DESCRIPTION = """A self-hosted connected-car platform speaking Smartcar's v3 wire contract:
IAM (OAuth 2.0 client credentials), Connect, the Vehicle API v3 with commands, and an admin API
to steer the simulated fleet."""

#: The API's sections in reading order, whatever order their routes were installed in.
TAGS = [{"name": name} for name in ("IAM", "Connect", "Vehicle API", "Vehicle API: commands", "Admin")]


def _install_vehicles(app: PlatformApp) -> None:
    from .api import vehicles

    vehicles.install(app)  # type: ignore[arg-type]  # it uses include_router and fast_routes


def _install_connect(app: PlatformApp) -> None:
    from .api import connect

    connect.install(app)


def _install_commands(app: PlatformApp) -> None:
    from .api import commands

    app.include_router(commands.router)


def _install_admin(app: PlatformApp) -> None:
    from .api import admin

    app.include_router(admin.router)


#: Every path a lazy group answers starts with one of its prefixes (tests/platform/test_startup.py).
LAZY_ROUTES = (
    LazyRoutes(("/oauth2/", "/.well-known/"), iam.install_docs),
    LazyRoutes(("/oauth/", "/static"), _install_connect),
    LazyRoutes(("/v3/",), _install_vehicles),
    LazyRoutes(("/v3/vehicles/",), _install_commands),
    LazyRoutes(("/admin/",), _install_admin),
)


def create_app(settings: Settings | None = None) -> PlatformApp:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: PlatformApp) -> AsyncIterator[None]:
        platform: Platform = await start_platform(settings)
        app.state.platform = platform
        await platform.start_background()
        try:
            yield
        finally:
            await platform.close()

    app = PlatformApp(_build_api, lifespan=lifespan)
    app.state.settings = settings
    iam.install(app)
    app.lazy_routes.extend(LAZY_ROUTES)
    return app


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


def _build_api(app: PlatformApp) -> FastAPI:
    """The FastAPI app behind ``app``'s fast lane, with the error handlers; its routes come in
    lazy groups."""
    from fastapi import FastAPI

    api = FastAPI(title="motorpool", version="0.1.0", description=DESCRIPTION, openapi_tags=TAGS)
    api.state = app.state  # one state: handlers find the platform whichever app served them
    common.install_error_handlers(api)
    api.add_middleware(common.RequestIdMiddleware)
    generate = api.openapi

    def openapi() -> dict[str, Any]:
        app.install_lazy_routes()  # the document describes every route, lazy ones included
        first = api.openapi_schema is None
        document = generate()  # built once, then kept by FastAPI
        if first:
            _bad_input_is_400(document)
        return document

    # Replacing the method is FastAPI's documented way to extend the document.
    api.openapi = openapi  # type: ignore[method-assign]
    return api
