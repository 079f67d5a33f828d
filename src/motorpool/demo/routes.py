"""The demo's routes: ``/``, ``/login``, ``/exchange``, ``/logout`` and ``/vehicle``.

Each handler is handed what it needs through typed dependencies on the :class:`DemoState` that
the app's lifespan builds: the settings, the session store, the SDK's clients, the pages, and
the browser's current session.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from motorpool import AsyncClient, AuthClient, OAuthError, SmartcarError, create_pkce_pair

from .pages import CONNECT_ERRORS, Page, Pages, platform_failure, wants_json
from .sessions import BrowserSession, SessionStore
from .settings import DemoSettings
from .vehicles import read_vehicles, vehicles_json
from .webhooks import event_log

SESSION_COOKIE = "motorpool_demo_session"


@dataclass
class DemoState:
    """What the routes share for the life of the app."""

    settings: DemoSettings
    sessions: SessionStore
    auth: AuthClient
    #: One client for every request: its token cache and connection pool are shared, so the
    #: application token is fetched once an hour, not per page.
    api: AsyncClient
    pages: Pages


# --- dependencies -------------------------------------------------------------------------------


def demo_state(request: Request) -> DemoState:
    state: DemoState = request.app.state.demo
    return state


State = Annotated[DemoState, Depends(demo_state)]


def _settings(state: State) -> DemoSettings:
    return state.settings


def _sessions(state: State) -> SessionStore:
    return state.sessions


def _auth(state: State) -> AuthClient:
    return state.auth


def _api(state: State) -> AsyncClient:
    return state.api


def _pages(state: State) -> Pages:
    return state.pages


Settings = Annotated[DemoSettings, Depends(_settings)]
Sessions = Annotated[SessionStore, Depends(_sessions)]
Auth = Annotated[AuthClient, Depends(_auth)]
Api = Annotated[AsyncClient, Depends(_api)]
PageWriter = Annotated[Pages, Depends(_pages)]
#: The browser's session id, as its cookie holds it.
SessionId = Annotated[str | None, Cookie(alias=SESSION_COOKIE)]


async def _current_session(sessions: Sessions, session_id: SessionId = None) -> BrowserSession | None:
    return await sessions.get(session_id)


CurrentSession = Annotated[BrowserSession | None, Depends(_current_session)]


def _set_session_cookie(response: Response, session: BrowserSession, settings: DemoSettings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session.id,
        max_age=settings.session_ttl,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


# --- routes -------------------------------------------------------------------------------------

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request, session: CurrentSession, pages: PageWriter) -> Response:
    return pages.render(request, "home.html", {}, signed_in=bool(session and session.user_id))


@router.get("/login")
async def login(
    settings: Settings, sessions: Sessions, auth: Auth, session_id: SessionId = None
) -> Response:
    """Send the browser to Connect with a fresh ``state`` bound to its session."""
    pkce = create_pkce_pair() if settings.verify_code else None
    session, state = await sessions.begin_login(session_id, pkce.verifier if pkce else None)
    options: dict[str, Any] = {"state": state}
    if pkce:
        options |= {"code_challenge": pkce.challenge, "code_challenge_method": pkce.method}
    url = auth.get_auth_url(list(settings.scope), options)
    response = RedirectResponse(url, status_code=302)
    response.headers["cache-control"] = "no-store"
    _set_session_cookie(response, session, settings)
    return response


@router.get("/exchange")
async def exchange(
    request: Request,
    settings: Settings,
    sessions: Sessions,
    auth: Auth,
    pages: PageWriter,
    session_id: SessionId = None,
) -> Response:
    """Connect's answer: check the state, then remember who signed in."""
    query = request.query_params
    pending = await sessions.take_state(session_id, query.get("state"))
    if pending is None or session_id is None:
        # Checked before anything else, errors included: an answer that does not belong
        # to a sign-in started in this browser is refused whatever it says.
        return pages.message(
            request,
            Page(
                heading="This sign-in was refused",
                text="The answer from Connect does not match a sign-in started in this "
                "browser (its state is missing or wrong), so it may be forged or out of "
                "date. Nothing was stored. Start again from this app.",
                status=400,
                tone="danger",
                code="state_mismatch",
                # Connect's own error, when its answer carries one, is what went wrong first:
                # shown as it came (the page escapes it), never acted upon.
                detail=query.get("error_description") if query.get("error") else None,
                facts=[("Connect's error", query["error"])] if query.get("error") else [],
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
        return pages.message(
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
    if not user_id and query.get("vehicle_id") and not query.get("code"):
        # Back from re-authentication (``/vehicle/{id}/reauthenticate``): the owner signed in
        # to the vehicle's account again; the signed-in user is unchanged.
        return RedirectResponse("/vehicle", status_code=303)
    if not user_id:
        return pages.message(
            request,
            Page(
                heading="Connect's answer is incomplete",
                text="Connect sent the browser back without a user id, so there is nothing to show.",
                status=400,
                tone="danger",
                code="missing_user_id",
            ),
        )
    if settings.verify_code:
        refusal = await _verify_code(auth, user_id, query.get("code"), pending.code_verifier)
        if refusal is not None:
            return pages.message(request, refusal)
    session = await sessions.sign_in(session_id, user_id)
    response = RedirectResponse("/vehicle", status_code=303)
    _set_session_cookie(response, session, settings)
    return response


async def _verify_code(
    auth: AuthClient, user_id: str, code: str | None, verifier: str | None
) -> Page | None:
    """Redeem Connect's code and check it names the same user: proof the redirect came
    from Connect, not from someone typing a user id into the address bar. The page to show
    when it does not."""
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
        return refused
    try:
        grant = await auth.exchange_code_async(code, code_verifier=verifier)
    except OAuthError as failure:
        return replace(refused, detail=str(failure))
    except SmartcarError as failure:
        return platform_failure(failure)
    if grant.user_id != user_id:
        return refused
    return None


@router.post("/logout")
async def logout(sessions: Sessions, session_id: SessionId = None) -> Response:
    await sessions.sign_out(session_id)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/vehicle")
async def vehicle(request: Request, session: CurrentSession, api: Api, pages: PageWriter) -> Response:
    """The signed-in user's vehicles: a table, or JSON for ``Accept: application/json`` (and
    for ``?format=json``, the page's link to its raw data)."""
    if session is None or session.user_id is None:
        return RedirectResponse("/login", status_code=303)
    try:
        views = await read_vehicles(api.user(session.user_id))
    except SmartcarError as failure:
        return pages.message(request, platform_failure(failure), signed_in=True)
    if wants_json(request) or request.query_params.get("format") == "json":
        return JSONResponse(vehicles_json(views), headers={"cache-control": "no-store"})
    events = event_log(request)
    query = request.query_params
    # What a button just sent (controls.py comes back here with it): shown, never acted upon.
    sent = {key: query[key] for key in ("sent", "status", "vehicle", "execution") if query.get(key)}
    context = {
        "vehicles": views, "active": "vehicle", "events": {v.id: events.latest(v.id) for v in views},
        "user_id": session.user_id, "sent": sent if "sent" in sent else None,
    }  # fmt: skip
    return pages.render(request, "vehicles.html", context, signed_in=True)
