"""``create_app(settings)``: the platform as one ASGI app. Nothing is built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from .api import admin, commands, common, connect, iam, vehicles
from .api.fastlane import PlatformApp
from .services.runtime import Platform, start_platform
from .settings import Settings

DESCRIPTION = """A self-hosted connected-car platform speaking Smartcar's v3 wire contract:
IAM (OAuth 2.0 client credentials), Connect, the Vehicle API v3, the Management API v3, and an
admin API to steer the simulated fleet."""


def create_app(settings: Settings | None = None) -> PlatformApp:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        platform: Platform = await start_platform(settings)
        app.state.platform = platform
        await platform.start_background()
        try:
            yield
        finally:
            await platform.close()

    app = PlatformApp(title="motorpool", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    common.install_error_handlers(app)
    iam.install(app)
    connect.install(app)
    vehicles.install(app)
    app.include_router(commands.router)
    app.include_router(admin.router)
    app.add_middleware(common.RequestIdMiddleware)
    return app
