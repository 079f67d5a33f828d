"""``create_app(settings)``: the tutorial's application server, built only on the motorpool SDK.

``/login`` sends the browser to Connect with a ``state`` bound to its session, ``/exchange``
takes Connect's answer back, and ``/vehicle`` lists the signed-in user's vehicles read through
one long-lived :class:`motorpool.AsyncClient` (whose application token is cached across
requests). Sessions live in the demo's own database; nothing about a user is kept in a global.
The routes are in :mod:`.routes`; this module builds what they share when the app starts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from motorpool import AsyncClient, AuthClient

from . import controls, reauthenticate, webhooks
from .pages import Pages
from .routes import SESSION_COOKIE, DemoState, router
from .sessions import SessionStore
from .settings import DemoSettings
from .templating import templates

__all__ = ["SESSION_COOKIE", "DemoConfigurationError", "create_app"]

STATIC = Path(__file__).parent / "static"


class DemoConfigurationError(ValueError):
    """The demo cannot start: credentials are missing or a setting is wrong."""


def _check(settings: DemoSettings) -> None:
    missing = [
        name
        for name, value in (
            ("SMARTCAR_CLIENT_ID", settings.client_id),
            ("SMARTCAR_CLIENT_SECRET", settings.client_secret),
        )
        if not value
    ]
    if missing:
        raise DemoConfigurationError(
            f"set {' and '.join(missing)} (and SMARTCAR_REDIRECT_URI) to the application's "
            "credentials; `motorpool up` does this for you."
        )


@asynccontextmanager
async def running(
    settings: DemoSettings, transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[DemoState]:
    """The session store and the SDK's clients, open for as long as the app runs."""
    async with AsyncExitStack() as stack:
        sessions = SessionStore(settings.database_url, timedelta(seconds=settings.session_ttl))
        await sessions.open()
        stack.push_async_callback(sessions.close)
        api = AsyncClient(
            settings.client_id,
            settings.client_secret,
            base_url=settings.base_url,
            timeout=settings.timeout,
            transport=transport,
        )
        stack.push_async_callback(api.aclose)
        auth = AuthClient(
            settings.client_id,
            settings.client_secret,
            settings.redirect_uri,
            mode=settings.mode,
            base_url=settings.base_url,
            async_transport=transport,
            timeout=settings.timeout,
        )
        pages = Pages(templates(), settings.mode, api.origins.vehicle_api)
        yield DemoState(settings=settings, sessions=sessions, auth=auth, api=api, pages=pages)


def create_app(
    settings: DemoSettings | None = None, *, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """The demo as an ASGI app. ``transport`` sends the SDK's requests somewhere other than the
    network (tests pass ``httpx.ASGITransport(app=platform_app)``)."""
    settings = settings or DemoSettings()
    _check(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(settings, transport) as state:
            app.state.demo = state
            yield

    app = FastAPI(
        title="motorpool demo",
        description="The tutorial's application: /login, /exchange, /vehicle.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.include_router(router)
    app.include_router(webhooks.router)
    app.include_router(controls.router)
    app.include_router(reauthenticate.router)
    return app
