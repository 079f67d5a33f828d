"""Connect's HTTP glue: the consent pages at ``/oauth/authorize`` and ``/oauth/reauthenticate``.

Each route reads the request, calls one method of :class:`~..services.connect.Connect` and renders
what it answers: a page, a redirect to the application, or an error page."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from ..services.connect import CSRF_COOKIE, Connect, new_csrf_cookie
from ..services.connect_outcomes import ErrorPage, Outcome, Redirect
from .common import platform_of
from .connect_pages import template_of

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"
PAGES = Jinja2Templates(env=Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(), trim_blocks=True, lstrip_blocks=True
))

#: Sent with every Connect response: never framed (clickjacking), never cached, no referrer
#: leaking the flow to the application, and only this origin's stylesheet.
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'; default-src 'self'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
}


def _html(description: str) -> dict[str, object]:
    return {"description": description, "content": {"text/html": {}}}


#: What a Connect page can answer besides itself: an error page (400), and for a submitted form a
#: failed security check (403) or a form already submitted (409).
_START_ANSWERS: dict[int | str, dict[str, object]] = {
    302: {"description": "Back to the application's redirect URI, with the outcome in its query"},
    400: _html("An error page: an unknown client, an unregistered redirect URI, a malformed link"),
}
_SUBMIT_ANSWERS: dict[int | str, dict[str, object]] = {
    **_START_ANSWERS,
    400: _html("The page again with what to correct, or an error page"),
    403: _html("The security check failed (the form's CSRF token or signed state)"),
    409: _html("The form was submitted already"),
}

_QUERY_DOC = {
    "parameters": [
        {
            "name": name,
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": text,
        }
        for name, text in (
            ("response_type", "`code` (required)."),
            ("client_id", "The application's client id (or give `application_id`)."),
            ("application_id", "The application's UUID (or give `client_id`)."),
            (
                "redirect_uri",
                "A registered redirect URI, matched exactly; default: the first registered.",
            ),
            (
                "scope",
                "Space-separated permissions; prefix `required:` for ones that cannot be unchecked.",
            ),
            ("state", "Echoed back exactly."),
            ("approval_prompt", "`auto` (default) or `force`."),
            ("mode", "`live` (default), `simulated` or `test`."),
            ("make", "Skip the brand page; only that brand's vehicles are offered."),
            ("single_select", "`true`: the owner may choose one vehicle only."),
            ("single_select_vin", "Only this VIN (needs `single_select=true`)."),
            ("flags", "Space-separated `flag:value` pairs."),
            ("user", "Your own identifier for the owner."),
            ("external_id", "Stored on the connections and echoed back; `null` clears it."),
            ("code_challenge", "PKCE challenge (RFC 7636)."),
            ("code_challenge_method", "`S256` (the only method)."),
        )
    ]
}

router = APIRouter(tags=["Connect"])


def _connect(request: Request) -> Connect:
    # Cheap to build: it only holds the platform's session factory, form signer and clocks.
    platform = platform_of(request)
    return Connect(platform.sessions, platform.form_signer, platform.clocks)


def _csrf_cookie(request: Request) -> tuple[str, bool]:
    """The browser's CSRF cookie, or a new one (and True: it must be set)."""
    token = request.cookies.get(CSRF_COOKIE)
    if token and 20 <= len(token) <= 100:
        return token, False
    return new_csrf_cookie(), True


def _render(request: Request, outcome: Outcome, new_cookie: str | None = None) -> Response:
    response: Response
    if isinstance(outcome, Redirect):
        # 302, as Smartcar's Connect answers: browsers follow a 302 after a POST with a GET.
        response = RedirectResponse(outcome.location, status_code=302)
    else:
        template, context = template_of(outcome)
        response = PAGES.TemplateResponse(request, template, context, status_code=outcome.status)
    response.headers.update(SECURITY_HEADERS)
    if new_cookie is not None:
        response.set_cookie(
            CSRF_COOKIE,
            new_cookie,
            httponly=True,
            samesite="lax",
            secure=platform_of(request).settings.origin.startswith("https://"),
            path="/oauth",
        )
    return response


@router.get(
    "/oauth/authorize",
    response_class=HTMLResponse,
    openapi_extra=_QUERY_DOC,
    summary="Connect: start",
    responses=_START_ANSWERS,
)
async def authorize(request: Request) -> Response:
    """The consent flow's first page. Success redirects to the registered redirect URI with
    `user_id`, `code`, `state` (and `external_id`); failures with `error`, `error_description`,
    `state`. An unknown client or an unregistered redirect URI gets an error page instead."""
    cookie, fresh = _csrf_cookie(request)
    outcome = await _connect(request).authorize(request.query_params.multi_items(), cookie)
    return _render(request, outcome, cookie if fresh else None)


@router.get(
    "/oauth/reauthenticate", response_class=HTMLResponse, summary="Connect: re-authenticate",
    responses=_START_ANSWERS,
)
async def reauthenticate(request: Request) -> Response:
    """`response_type=vehicle_id|none`, `client_id|application_id`, `vehicle_id`, `redirect_uri`,
    `state`, `external_id`: the owner signs in again and re-approves one vehicle."""
    cookie, fresh = _csrf_cookie(request)
    outcome = await _connect(request).reauthenticate(request.query_params.multi_items(), cookie)
    return _render(request, outcome, cookie if fresh else None)


@router.post(
    "/oauth/connect/{step}", response_class=HTMLResponse, summary="Connect: submit a page",
    responses=_SUBMIT_ANSWERS,
)
async def submit(request: Request, step: str) -> Response:
    """A Connect page's form (CSRF-checked, signed flow state)."""
    try:
        form = await request.form()
    except (MultiPartException, HTTPException, ValueError):
        return _render(request, ErrorPage("Something went wrong", "The form could not be read."))
    fields: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if not isinstance(value, UploadFile):
            fields.setdefault(name, []).append(value)
    outcome = await _connect(request).submit(step, fields, request.cookies.get(CSRF_COOKIE))
    return _render(request, outcome)


@router.get(
    "/oauth/connect/{step}", response_class=HTMLResponse, summary="Connect: a page reloaded",
    responses={400: _html("The page explaining that Connect pages only work in order")},
)
async def submit_by_get(request: Request, step: str) -> Response:
    """Reached by reloading or bookmarking a page that was the answer to a form: an error page
    (documented, since `Allow` names this method for the path)."""
    return _render(
        request,
        ErrorPage(
            "This page cannot be reloaded",
            "Connect pages only work in order. Go back to the application and start connecting again.",
        ),
    )


def install(app: FastAPI) -> None:
    """Add the Connect routes and the static files to ``app``."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
