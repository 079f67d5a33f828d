"""Pages for people: the landing page at ``/`` and the API reference at ``/docs`` (Swagger UI)
and ``/redoc`` (ReDoc), both served from assets packaged in ``static/docs`` — no CDN, so they
work with the network off."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from starlette.responses import HTMLResponse, Response

from .common import platform_of
from .connect import PAGES

router = APIRouter(include_in_schema=False)

ASSETS = "/static/docs"
FAVICON = f"{ASSETS}/swagger-ui/favicon-32x32.png"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
#: The reference pages load nothing from elsewhere — ReDoc's footer names an image on its
#: vendor's CDN, which this keeps the browser from fetching (its alt text shows instead).
#: Inline scripts and styles: Swagger UI's start-up script and both tools' generated styles.
OFFLINE = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'none'",
}


def _offline(page: HTMLResponse) -> HTMLResponse:
    page.headers.update(OFFLINE)
    return page


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return _offline(get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="motorpool — API reference",
        swagger_js_url=f"{ASSETS}/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui/swagger-ui.css",
        swagger_favicon_url=FAVICON,
        oauth2_redirect_url=OAUTH2_REDIRECT,
    ))


@router.get(OAUTH2_REDIRECT)
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    return _offline(get_redoc_html(
        openapi_url="/openapi.json",
        title="motorpool — API reference",
        redoc_js_url=f"{ASSETS}/redoc/redoc.standalone.js",
        redoc_favicon_url=FAVICON,
        with_google_fonts=False,
    ))


@router.get("/")
async def landing(request: Request) -> Response:
    """What the platform is, where its docs are, and a Connect link in test mode for each
    application (to its first redirect URI)."""
    platform = platform_of(request)
    applications = []
    for app in await platform.admin.list_applications():
        connect_url = None
        if app.redirect_uris:
            query = {"response_type": "code", "client_id": app.client_id,
                     "redirect_uri": app.redirect_uris[0], "mode": "test", "state": "landing-page"}  # fmt: skip
            connect_url = "/oauth/authorize?" + urlencode(query)
        applications.append({"name": app.name, "client_id": app.client_id, "connect_url": connect_url})
    return PAGES.TemplateResponse(
        request,
        "landing/index.html",
        {"origin": platform.settings.origin, "applications": applications},
    )
