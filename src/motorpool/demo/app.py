"""``create_app(settings)``: the tutorial's application server, built only on the motorpool SDK.

``/login`` sends the browser to Connect with a ``state`` bound to its session, ``/exchange``
takes Connect's answer back, and ``/vehicle`` lists the signed-in user's vehicles read through
one long-lived :class:`motorpool.AsyncClient` (whose application token is cached across
requests). Sessions live in the demo's own database; nothing about a user is kept in a global.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from motorpool import (
    ApiError,
    AsyncClient,
    AuthClient,
    AuthenticationError,
    OAuthError,
    RateLimitError,
    SmartcarError,
    TransportError,
    create_pkce_pair,
)

from .sessions import BrowserSession, SessionStore
from .settings import DemoSettings
from .templating import templates as pages
from .vehicles import VehicleView, failed_view, vehicle_view, vehicles_json

log = logging.getLogger("motorpool.demo")

STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "motorpool_demo_session"
#: Vehicles read at once for one page; a user rarely has more, and the platform is shared.
VEHICLES_IN_FLIGHT = 8

#: What the owner is told for each error Connect can send back.
CONNECT_ERRORS: dict[str, tuple[str, str]] = {
    "access_denied": (
        "No vehicle was connected",
        (
            "You chose not to share your vehicle with this app, so it cannot show anything. "
            "Nothing was shared. You can connect whenever you like."
        ),
    ),
    "no_vehicles": (
        "No vehicles found",
        "The account you signed in with has no vehicles this app can use.",
    ),
    "vehicle_incompatible": (
        "This vehicle is not compatible",
        "The vehicle you chose cannot share what this app needs.",
    ),
    "invalid_request": (
        "Connect could not start",
        "Connect refused the request this app sent. The details below say why.",
    ),
}


class DemoConfigurationError(ValueError):
    """The demo cannot start: credentials are missing or a setting is wrong."""


@dataclass
class Demo:
    """What the routes share: settings, the session store and the SDK clients."""

    settings: DemoSettings
    sessions: SessionStore
    auth: AuthClient
    api: AsyncClient


@dataclass(frozen=True)
class Page:
    """A message page: what happened and what the reader can do next."""

    heading: str
    text: str
    status: int
    tone: str = "info"
    detail: str | None = None
    facts: Sequence[tuple[str, str]] = ()
    actions: Sequence[tuple[str, str, bool]] = (("Try again", "/login", True), ("Home", "/", False))
    code: str | None = None
    #: Seconds to send as ``Retry-After`` (a rate-limited platform says when to come back).
    retry_after: float | None = None


def _wants_json(request: Request) -> bool:
    """True when the client asked for JSON rather than a page (``Accept: application/json``)."""
    accept = request.headers.get("accept", "").lower()
    return "application/json" in accept and "text/html" not in accept


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


def create_app(
    settings: DemoSettings | None = None, *, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """The demo as an ASGI app. ``transport`` sends the SDK's requests somewhere other than the
    network (tests pass ``httpx.ASGITransport(app=platform_app)``)."""
    settings = settings or DemoSettings()
    _check(settings)
    templates = pages()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sessions = SessionStore(settings.database_url, timedelta(seconds=settings.session_ttl))
        await sessions.open()
        # One client for the life of the app: its token cache and connection pool are shared
        # by every request, so the application token is fetched once an hour, not per page.
        api = AsyncClient(
            settings.client_id,
            settings.client_secret,
            base_url=settings.base_url,
            timeout=settings.timeout,
            transport=transport,
        )
        auth = AuthClient(
            settings.client_id,
            settings.client_secret,
            settings.redirect_uri,
            mode=settings.mode,
            base_url=settings.base_url,
            async_transport=transport,
            timeout=settings.timeout,
        )
        app.state.demo = Demo(settings=settings, sessions=sessions, auth=auth, api=api)
        try:
            yield
        finally:
            await api.aclose()
            await sessions.close()

    app = FastAPI(
        title="motorpool demo",
        description="The tutorial's application: /login, /exchange, /vehicle.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    def demo_of(request: Request) -> Demo:
        demo: Demo = request.app.state.demo
        return demo

    def render(
        request: Request, name: str, context: dict[str, Any], status: int = 200, signed_in: bool = False
    ) -> HTMLResponse:
        demo = demo_of(request)
        base = {
            "mode": demo.settings.mode,
            "api_origin": demo.api.origins.vehicle_api,
            "signed_in": signed_in,
        }
        response = templates.TemplateResponse(request, name, base | context, status_code=status)
        response.headers["cache-control"] = "no-store"
        return response

    def message(request: Request, page: Page, signed_in: bool = False) -> Response:
        response: Response
        if _wants_json(request):
            error: dict[str, Any] = {"code": page.code, "title": page.heading, "message": page.text}
            if page.detail:
                error["detail"] = page.detail
            error["facts"] = dict(page.facts)
            response = JSONResponse({"error": error}, status_code=page.status)
            response.headers["cache-control"] = "no-store"
        else:
            response = render(request, "message.html", message_context(page), page.status, signed_in)
        if page.retry_after is not None:
            response.headers["retry-after"] = str(max(1, round(page.retry_after)))
        return response

    def message_context(page: Page) -> dict[str, Any]:
        return {
            "heading": page.heading,
            "text": page.text,
            "tone": page.tone,
            "detail": page.detail,
            "facts": page.facts,
            "actions": page.actions,
        }

    def set_session_cookie(response: Response, session: BrowserSession) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            session.id,
            max_age=settings.session_ttl,
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
            path="/",
        )

    async def current_session(request: Request) -> BrowserSession | None:
        return await demo_of(request).sessions.get(request.cookies.get(SESSION_COOKIE))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def home(request: Request) -> Response:
        session = await current_session(request)
        return render(request, "home.html", {}, signed_in=bool(session and session.user_id))

    @app.get("/login")
    async def login(request: Request) -> Response:
        """Send the browser to Connect with a fresh ``state`` bound to its session."""
        demo = demo_of(request)
        pkce = create_pkce_pair() if demo.settings.verify_code else None
        session, state = await demo.sessions.begin_login(
            request.cookies.get(SESSION_COOKIE), pkce.verifier if pkce else None
        )
        options: dict[str, Any] = {"state": state}
        if pkce:
            options |= {"code_challenge": pkce.challenge, "code_challenge_method": pkce.method}
        url = demo.auth.get_auth_url(list(demo.settings.scope), options)
        response = RedirectResponse(url, status_code=302)
        response.headers["cache-control"] = "no-store"
        set_session_cookie(response, session)
        return response

    @app.get("/exchange")
    async def exchange(request: Request) -> Response:
        """Connect's answer: check the state, then remember who signed in."""
        demo = demo_of(request)
        query = request.query_params
        session_id = request.cookies.get(SESSION_COOKIE)
        pending = await demo.sessions.take_state(session_id, query.get("state"))
        if pending is None or session_id is None:
            # Checked before anything else, errors included: an answer that does not belong
            # to a sign-in started in this browser is refused whatever it says.
            return message(
                request,
                Page(
                    heading="This sign-in was refused",
                    text="The answer from Connect does not match a sign-in started in this "
                    "browser (its state is missing or wrong), so it may be forged or out of "
                    "date. Nothing was stored. Start again from this app.",
                    status=400,
                    tone="danger",
                    code="state_mismatch",
                    actions=(("Connect a vehicle", "/login", True), ("Home", "/", False)),
                ),
            )
        error = query.get("error")
        if error:
            heading, text = CONNECT_ERRORS.get(
                error, ("Connect could not finish", "Connect reported a problem and no vehicle was connected.")
            )
            facts = [("Error", error)]
            for extra in ("vin", "make", "model", "year"):
                if query.get(extra):
                    facts.append((extra.upper() if extra == "vin" else extra.capitalize(), query[extra]))
            return message(
                request,
                Page(
                    heading=heading,
                    text=text,
                    status=200 if error == "access_denied" else 400,
                    tone="info" if error == "access_denied" else "warn",
                    detail=query.get("error_description"),
                    facts=facts,
                    code=error,
                    actions=(("Connect a vehicle", "/login", True), ("Home", "/", False)),
                ),
            )
        user_id = query.get("user_id")
        if not user_id:
            return message(
                request,
                Page(
                    heading="Connect's answer is incomplete",
                    text="Connect sent the browser back without a user id, so there is nothing to show.",
                    status=400,
                    tone="danger",
                    code="missing_user_id",
                ),
            )
        if demo.settings.verify_code:
            refusal = await verify_code(request, user_id, query.get("code"), pending.code_verifier)
            if refusal is not None:
                return refusal
        session = await demo.sessions.sign_in(session_id, user_id)
        response = RedirectResponse("/vehicle", status_code=303)
        set_session_cookie(response, session)
        return response

    async def verify_code(
        request: Request, user_id: str, code: str | None, verifier: str | None
    ) -> Response | None:
        """Redeem Connect's code and check it names the same user: proof the redirect came
        from Connect, not from someone typing a user id into the address bar."""
        refused = Page(
            heading="This sign-in was refused",
            text="The answer from Connect could not be verified, so nothing was stored. "
            "Start again from this app.",
            status=400,
            tone="danger",
            code="unverified_redirect",
            actions=(("Connect a vehicle", "/login", True), ("Home", "/", False)),
        )
        if not code:
            return message(request, refused)
        try:
            grant = await demo_of(request).auth.exchange_code_async(code, code_verifier=verifier)
        except OAuthError as failure:
            return message(request, replace(refused, detail=str(failure)))
        except SmartcarError as failure:
            return message(request, platform_failure(failure))
        if grant.user_id != user_id:
            return message(request, refused)
        return None

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        await demo_of(request).sessions.sign_out(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/vehicle")
    async def vehicle(request: Request) -> Response:
        """The signed-in user's vehicles: a table, or JSON for ``Accept: application/json``."""
        session = await current_session(request)
        if session is None or session.user_id is None:
            return RedirectResponse("/login", status_code=303)
        try:
            views = await read_vehicles(demo_of(request).api.user(session.user_id))
        except SmartcarError as failure:
            return message(request, platform_failure(failure), signed_in=True)
        if _wants_json(request):
            return JSONResponse(vehicles_json(views), headers={"cache-control": "no-store"})
        return render(request, "vehicles.html", {"vehicles": views, "active": "vehicle"}, signed_in=True)

    return app


async def read_vehicles(user: AsyncClient) -> list[VehicleView]:
    """Every vehicle the user connected, with its signals, read a few at a time.

    A vehicle whose own read fails (disconnected meanwhile, asleep, …) becomes a row that says
    so; a failure of the platform itself (unreachable, credentials refused) is raised."""
    vehicle_ids: list[str] = []
    async for connection in user.connections.list():
        if connection.vehicle_id not in vehicle_ids:
            vehicle_ids.append(connection.vehicle_id)
    limit = asyncio.Semaphore(VEHICLES_IN_FLIGHT)

    async def read_one(vehicle_id: str) -> VehicleView:
        async with limit:
            details, signals = await asyncio.gather(
                user.vehicles.get(vehicle_id), user.signals.list(vehicle_id), return_exceptions=True
            )
        for outcome in (details, signals):
            if isinstance(outcome, BaseException) and not _vehicle_specific(outcome):
                raise outcome
        if isinstance(details, BaseException):
            return failed_view(vehicle_id, _describe(details))
        if isinstance(signals, BaseException):
            return failed_view(vehicle_id, _describe(signals), details)
        return vehicle_view(details, signals)

    return list(await asyncio.gather(*(read_one(vehicle_id) for vehicle_id in vehicle_ids)))


def _vehicle_specific(failure: BaseException) -> bool:
    """True for an error about one vehicle, false for one about the platform or the app."""
    if not isinstance(failure, ApiError):
        return False
    if isinstance(failure, (AuthenticationError, RateLimitError)):
        return False
    return failure.status_code is None or failure.status_code < 500


def _describe(failure: BaseException) -> str:
    if isinstance(failure, ApiError):
        return failure.suggested_user_message or failure.description or str(failure)
    return str(failure)


def platform_failure(failure: SmartcarError) -> Page:
    """A readable page for an error of the platform, the network or the app's credentials."""
    actions = (("Try again", "/vehicle", True), ("Home", "/", False))
    if isinstance(failure, TransportError):
        return Page(
            heading="The vehicle platform cannot be reached",
            text="This app could not get an answer from the vehicle platform. Check that it is "
            "running and try again in a moment.",
            status=502,
            tone="danger",
            detail=str(failure),
            actions=actions,
            code="platform_unreachable",
        )
    if isinstance(failure, OAuthError):
        return Page(
            heading="The platform refused this app's credentials",
            text="The vehicle platform did not accept the app's client id and secret "
            "(SMARTCAR_CLIENT_ID and SMARTCAR_CLIENT_SECRET).",
            status=502,
            tone="danger",
            detail=str(failure),
            facts=[("Error", failure.error)] + ([("Request id", failure.request_id)] if failure.request_id else []),
            actions=actions,
            code=failure.error,
        )
    if isinstance(failure, ApiError):
        facts = [("Error", f"{failure.type or 'ERROR'}" + (f":{failure.code}" if failure.code else ""))]
        if failure.request_id:
            facts.append(("Request id", failure.request_id))
        limited = isinstance(failure, RateLimitError)
        return Page(
            heading="The vehicle platform answered with an error",
            text=failure.suggested_user_message or "The vehicle data could not be read just now.",
            status=429 if limited else 502,
            tone="danger",
            detail=failure.description,
            facts=facts,
            actions=actions,
            code=failure.type,
            retry_after=failure.retry_after if isinstance(failure, RateLimitError) else None,
        )
    log.warning("vehicle read failed: %r", failure)
    return Page(
        heading="The vehicle data could not be read",
        text="The vehicle platform's answer could not be understood.",
        status=502,
        tone="danger",
        detail=str(failure),
        actions=actions,
        code="unexpected_response",
    )
