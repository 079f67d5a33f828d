"""The dashboard (``/dashboard``): server-rendered pages over the admin services.

Glue only: each route checks the session (and, for a form, its CSRF token), calls one service
and renders a template. Every page is refused without a session (a redirect to sign-in; 403 for
a form), never framed, and escapes what it shows (Jinja's autoescape)."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from ..errors import ApiError
from ..services.clocks import clock_view
from ..services.dashboard import (
    CONNECT_PERMISSIONS,
    POWERTRAINS,
    STATUSES,
    DashboardSessions,
    DashboardViews,
    clock_rate_from_form,
    makes,
    rate_limit_from_form,
)
from ..services.webhooks import SubscriptionFilter, WebhookFilter
from .admin import duration_ms
from .common import platform_of
from .connect import TEMPLATES
from .dashboard_plots import plots
from .request_log import request_log_of

COOKIE = "motorpool_dashboard"
LOGIN_COOKIE = "motorpool_dashboard_sign_in"
PAGES = Jinja2Templates(env=Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
    trim_blocks=True, lstrip_blocks=True,
))
PAGES.env.filters["timestamp"] = lambda seconds: datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")

#: Sent with every dashboard response: never framed, scripts and styles from this origin only.
SECURITY_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'; default-src 'self'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}

router = APIRouter(prefix="/dashboard", include_in_schema=False)


class Refused(Exception):
    """No session (or a wrong CSRF token): answered by :func:`refused`."""

    def __init__(self, status: int) -> None:
        self.status = status


def _sessions(request: Request) -> DashboardSessions:
    platform = platform_of(request)
    found = getattr(request.app.state, "dashboard_sessions", None)
    if found is None:
        found = DashboardSessions(
            platform.form_signer.secret_key, platform.hasher, platform.admin_token_hash,
            platform.settings.dashboard_password, platform.sessions,
        )
        request.app.state.dashboard_sessions = found
    return found


def _views(request: Request) -> DashboardViews:
    platform = platform_of(request)
    return DashboardViews(platform.sessions, platform.clocks)


def _page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    nonce: str | None = getattr(request.state, "dashboard_nonce", None)
    csrf = _sessions(request).csrf_token(nonce) if nonce else ""
    context |= {"csrf": csrf, "signed_in": nonce is not None, "notice": request.query_params.get("notice")}
    response = PAGES.TemplateResponse(request, f"dashboard/{template}", context, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    return response


async def _signed_in(request: Request) -> str:
    """The session's nonce (kept on the request for the page's CSRF token); a redirect to sign-in
    without a live session."""
    nonce = await _sessions(request).nonce(request.cookies.get(COOKIE))
    if nonce is None:
        raise Refused(303)
    request.state.dashboard_nonce = nonce
    return nonce


async def _form(request: Request) -> FormData:
    """A posted form, once its session and CSRF token are checked (403 otherwise)."""
    nonce = await _sessions(request).nonce(request.cookies.get(COOKIE))
    form = await request.form()
    token = form.get("csrf")
    if nonce is None or not _sessions(request).csrf_valid(nonce, token if isinstance(token, str) else None):
        raise Refused(403)
    request.state.dashboard_nonce = nonce
    return form


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _back(path: str, notice: str | None = None) -> Response:
    target = path + ("?" + urlencode({"notice": notice}) if notice else "")
    response = RedirectResponse(target, status_code=303)
    response.headers.update(SECURITY_HEADERS)
    return response


def refused(request: Request, exc: Refused) -> Response:
    if exc.status == 303:
        return _back("/dashboard/sign-in")
    response = Response("Forbidden: sign in again and resend the form.", status_code=403, media_type="text/plain")
    response.headers.update(SECURITY_HEADERS)
    return response


# --- signing in and out ----------------------------------------------------------------------


@router.get("")
async def home(request: Request) -> Response:
    await _signed_in(request)
    return _back("/dashboard/applications")


def _sign_in_form(request: Request, status: int = 200, error: str | None = None) -> Response:
    """The sign-in form, with a CSRF token bound to a fresh random cookie of its own (a site
    cannot sign a visitor in to an account of its choosing)."""
    nonce = secrets.token_urlsafe(18)
    response = _page(request, "sign_in.html", status, error=error,
                     login_csrf=_sessions(request).csrf_token("sign-in:" + nonce))
    response.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="strict", path="/dashboard",
                        secure=_secure(request), max_age=3600)
    return response


def _secure(request: Request) -> bool:
    return platform_of(request).settings.origin.startswith("https://")


@router.get("/sign-in")
async def sign_in_page(request: Request) -> Response:
    return _sign_in_form(request)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await request.form()
    sessions = _sessions(request)
    token = form.get("csrf")
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not nonce or not sessions.csrf_valid("sign-in:" + nonce, token if isinstance(token, str) else None):
        raise Refused(403)
    try:
        cookie = await sessions.sign_in(_text(form, "secret"))
    except ApiError as error:
        return _sign_in_form(request, 400, error.detail)
    response = _back("/dashboard/applications")
    response.set_cookie(COOKIE, cookie, httponly=True, samesite="strict", secure=_secure(request), path="/dashboard")
    response.delete_cookie(LOGIN_COOKIE, path="/dashboard")
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    await _form(request)
    await _sessions(request).sign_out(request.state.dashboard_nonce)
    response = _back("/dashboard/sign-in")
    response.delete_cookie(COOKIE, path="/dashboard", httponly=True, samesite="strict")
    return response


# --- applications ----------------------------------------------------------------------------


@router.get("/applications")
async def applications(request: Request) -> Response:
    await _signed_in(request)
    apps = await platform_of(request).admin.list_applications()
    return _page(request, "applications.html", applications=apps)


@router.post("/applications")
async def create_application(request: Request) -> Response:
    form = await _form(request)
    try:
        app, issued = await platform_of(request).admin.create_application(_text(form, "name"), [])
    except ApiError as error:
        return _back("/dashboard/applications", error.detail)
    return await _application_page(request, app.id, shown_secret=issued.plaintext)


async def _application_page(
    request: Request,
    application_id: str,
    shown_secret: str | None = None,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    entered: dict[str, str] | None = None,
    ticked: list[str] | None = None,
) -> Response:
    """The application's page; ``errors`` (field name → message) are shown beside their fields,
    which keep what was ``entered`` (and the permission boxes what was ``ticked``)."""
    platform = platform_of(request)
    app = await platform.admin.application(application_id)
    clock = clock_view(await platform.clocks.clock(application_id))
    limit = await platform.limits.configured(application_id)
    return _page(request, "application.html", status, app=app, clock=clock, shown_secret=shown_secret,
                 show_token=request.query_params.get("token") == "show", permissions=CONNECT_PERMISSIONS,
                 limit=limit, errors=errors or {}, entered=entered or {},
                 ticked=app.connect_permissions if ticked is None else ticked)


def _field_of(error: ApiError, default: str) -> str:
    """The form field a validation error is about (its JSON pointer's last part)."""
    pointer = (error.source or {}).get("pointer", "")
    return pointer.rsplit("/", 1)[-1] or default


@router.get("/applications/{application_id}")
async def application(request: Request, application_id: str) -> Response:
    await _signed_in(request)
    return await _application_page(request, application_id)


@router.post("/applications/{application_id}/secrets")
async def create_secret(request: Request, application_id: str) -> Response:
    await _form(request)
    issued = await platform_of(request).admin.create_secret(application_id)
    return await _application_page(request, application_id, shown_secret=issued.plaintext)


@router.post("/applications/{application_id}/secrets/{secret_id}/revoke")
async def revoke_secret(request: Request, application_id: str, secret_id: str) -> Response:
    await _form(request)
    await platform_of(request).admin.revoke_secret(application_id, secret_id)
    return _back(f"/dashboard/applications/{application_id}", "Secret revoked.")


@router.post("/applications/{application_id}/management-token")
async def rotate_management_token(request: Request, application_id: str) -> Response:
    await _form(request)
    await platform_of(request).admin.rotate_management_token(application_id)
    return _back(f"/dashboard/applications/{application_id}", "Management token rotated.")


@router.post("/applications/{application_id}/redirect-uris")
async def redirect_uris(request: Request, application_id: str) -> Response:
    form = await _form(request)
    admin = platform_of(request).admin
    uri = _text(form, "uri")
    try:
        if _text(form, "remove"):
            await admin.remove_redirect_uri(application_id, uri)
        else:
            await admin.add_redirect_uri(application_id, uri)
    except ApiError as error:
        return _back(f"/dashboard/applications/{application_id}", error.detail)
    return _back(f"/dashboard/applications/{application_id}")


@router.post("/applications/{application_id}/connect-permissions")
async def connect_permissions(request: Request, application_id: str) -> Response:
    """What Connect asks for without a ``scope``: the ticked permissions, or every one again."""
    form = await _form(request)
    chosen = [value for value in form.getlist("permission") if isinstance(value, str)]
    try:
        await platform_of(request).admin.set_connect_permissions(
            application_id, None if _text(form, "every") else chosen
        )
    except ApiError as error:
        return await _application_page(request, application_id, status=400, ticked=chosen,
                                       errors={"permission": error.detail})
    return _back(f"/dashboard/applications/{application_id}", "Connect permissions saved.")


@router.post("/applications/{application_id}/rate-limit")
async def rate_limit(request: Request, application_id: str) -> Response:
    """Set the application's rate limits from the form, or lift them all."""
    form = await _form(request)
    fields = ("requests", "refillPerMinute", "vehicleRequestsPerMinute")
    entered = {name: _text(form, name) for name in fields}
    limits = platform_of(request).limits
    try:
        if _text(form, "lift"):
            await limits.change(application_id, None)
            return _back(f"/dashboard/applications/{application_id}", "Rate limits lifted.")
        limit = rate_limit_from_form(entered["requests"], entered["refillPerMinute"],
                                     entered["vehicleRequestsPerMinute"], _text(form, "preset"))
        await limits.change(application_id, limit)
    except ApiError as error:
        if error.status != 400:
            raise
        return await _application_page(request, application_id, status=400, entered=entered,
                                       errors={_field_of(error, "requests"): error.detail})
    return _back(f"/dashboard/applications/{application_id}", "Rate limits saved.")


@router.post("/applications/{application_id}/clock")
async def clock(request: Request, application_id: str) -> Response:
    form = await _form(request)
    clocks = platform_of(request).clocks
    action = _text(form, "action")
    try:
        if action == "freeze":
            await clocks.change(application_id, rate=0)
        elif action == "real":
            await clocks.change(application_id, rate=1)
        elif action == "rate":
            try:
                await clocks.change(application_id, rate=clock_rate_from_form(_text(form, "rate")))
            except ApiError as error:
                if error.status != 400:
                    raise
                return await _application_page(request, application_id, status=400,
                                               errors={"rate": error.detail}, entered={"rate": _text(form, "rate")})
        elif action == "step":
            await clocks.change(application_id, advance_ms=duration_ms(_text(form, "by")))
        else:
            return _back(f"/dashboard/applications/{application_id}", f"Unknown clock action '{action}'.")
    except ApiError as error:
        return _back(f"/dashboard/applications/{application_id}", error.detail)
    return _back(_text(form, "next") if _text(form, "next").startswith("/dashboard/")
                 else f"/dashboard/applications/{application_id}")


@router.get("/applications/{application_id}/requests")
async def requests(request: Request, application_id: str) -> Response:
    await _signed_in(request)
    app = await platform_of(request).admin.application(application_id)
    query = request.query_params
    filters = {name: query.get(name, "") for name in ("method", "path", "status", "vehicle", "user")}
    log = request_log_of(request.app.state)
    entries = log.entries(
        application_id, method=filters["method"] or None, path=filters["path"] or None,
        status=filters["status"] or None, vehicle_id=filters["vehicle"] or None,
        user_id=filters["user"] or None, limit=200,
    ) if log else []
    return _page(request, "requests.html", app=app, entries=entries, filters=filters)


# --- webhooks --------------------------------------------------------------------------------


@router.get("/applications/{application_id}/webhooks")
async def webhooks(request: Request, application_id: str) -> Response:
    await _signed_in(request)
    platform = platform_of(request)
    app = await platform.admin.application(application_id)
    page = await platform.webhooks.list_webhooks(application_id, WebhookFilter(), 0, 100)
    return _page(request, "webhooks.html", app=app, webhooks=page.items)


@router.get("/applications/{application_id}/webhooks/{webhook_id}")
async def webhook(request: Request, application_id: str, webhook_id: str) -> Response:
    await _signed_in(request)
    hooks = platform_of(request).webhooks
    hook = await hooks.get(application_id, webhook_id)
    subscriptions = await hooks.list_subscriptions(
        application_id, SubscriptionFilter(webhook_id=webhook_id), 0, 100
    )
    deliveries = await hooks.deliveries(application_id, webhook_id, None, 100)
    return _page(request, "webhook.html", hook=hook, subscriptions=subscriptions.items,
                 deliveries=sorted(deliveries, key=lambda d: d.created_at, reverse=True))


@router.post("/applications/{application_id}/webhooks/{webhook_id}/actions")
async def webhook_action(request: Request, application_id: str, webhook_id: str) -> Response:
    form = await _form(request)
    hooks = platform_of(request).webhooks
    page = f"/dashboard/applications/{application_id}/webhooks/{webhook_id}"
    action = _text(form, "action")
    try:
        if action == "verify":
            hook = await hooks.verify(application_id, webhook_id)
            notice = "Verified." if hook.verified_at and not hook.verify_error else f"Not verified: {hook.verify_error}"
        elif action == "test":
            notice = f"Test event {await hooks.send_test(application_id, webhook_id)} queued."
        elif action == "redeliver":
            await hooks.redeliver(application_id, _text(form, "event"))
            notice = "Queued for redelivery."
        else:
            notice = f"Unknown action '{action}'."
    except ApiError as error:
        notice = error.detail
    return _back(page, notice)


# --- the fleet -------------------------------------------------------------------------------


@router.get("/applications/{application_id}/fleet")
async def fleet(request: Request, application_id: str) -> Response:
    await _signed_in(request)
    query = request.query_params
    filters = {name: query.get(name, "") for name in ("search", "make", "powertrain", "status")}
    app = await platform_of(request).admin.application(application_id)
    try:
        page = await _views(request).fleet(
            application_id, after=query.get("after") or None, before=query.get("before") or None,
            last=query.get("last") == "1", search=filters["search"], make=filters["make"],
            powertrain=filters["powertrain"], status=filters["status"],
        )
    except ApiError as error:
        return _page(request, "fleet.html", 400, app=app, page=None, filters=filters, error=error.detail,
                     makes=makes(), powertrains=POWERTRAINS, statuses=STATUSES, links={})
    kept = {k: v for k, v in filters.items() if v}
    links: dict[str, str] = {}
    if page.previous_before:
        links["first"] = "?" + urlencode(kept) if kept else "?"
        links["previous"] = "?" + urlencode({**kept, "before": page.previous_before})
    if page.next_after:
        links["next"] = "?" + urlencode({**kept, "after": page.next_after})
        links["last"] = "?" + urlencode({**kept, "last": "1"})
    return _page(request, "fleet.html", app=app, page=page, filters=filters, makes=makes(),
                 powertrains=POWERTRAINS, statuses=STATUSES, links=links)


@router.post("/applications/{application_id}/vehicles")
async def add_vehicle(request: Request, application_id: str) -> Response:
    form = await _form(request)
    admin = platform_of(request).admin
    try:
        count = int(_text(form, "count") or "1")
    except ValueError:
        return _back(f"/dashboard/applications/{application_id}/fleet", "count must be a whole number.")
    try:
        if count > 1:
            created = await admin.create_fleet(application_id, count, _text(form, "powertrain") or None)
            return _back(f"/dashboard/applications/{application_id}/fleet", f"Added {created} vehicles.")
        vehicle = await admin.create_vehicle(
            application_id=application_id, make=_text(form, "make") or None,
            powertrain=_text(form, "powertrain") or None, nickname=_text(form, "nickname") or None,
        )
    except ApiError as error:
        return _back(f"/dashboard/applications/{application_id}/fleet", error.detail)
    return _back(f"/dashboard/vehicles/{vehicle.id}")


# --- a vehicle -------------------------------------------------------------------------------


@router.get("/vehicles/{vehicle_id}")
async def vehicle(request: Request, vehicle_id: str) -> Response:
    await _signed_in(request)
    detail = await _views(request).vehicle(vehicle_id)
    connections = []
    if detail.vehicle.application_id:
        connections = await platform_of(request).connections.of_application(
            detail.vehicle.application_id, user_id=None, vehicle_id=vehicle_id, limit=50
        )
    history = await _views(request).history(vehicle_id)
    return _page(request, "vehicle.html", detail=detail, connections=connections, plots=plots(history))


@router.get("/vehicles/{vehicle_id}/signals")
async def vehicle_signals(request: Request, vehicle_id: str) -> Response:
    """The signal table alone, which the vehicle page polls where server-sent events fail."""
    await _signed_in(request)
    return _page(request, "_signals.html", detail=await _views(request).vehicle(vehicle_id))


#: How often the vehicle page's event stream looks for a change, how long one stream lasts (the
#: browser then reconnects, which checks the session again), and how often it pings a quiet line.
LIVE_INTERVAL_S = 2.0
LIVE_STREAM_S = 300.0
LIVE_PING_S = 15


@router.get("/vehicles/{vehicle_id}/events")
async def vehicle_events(request: Request, vehicle_id: str) -> Response:
    """The vehicle's state and signal table as server-sent events, sent whenever they change;
    the page falls back to polling ``/signals`` where a stream cannot be held."""
    await _signed_in(request)
    views, sessions, cookie = _views(request), _sessions(request), request.cookies.get(COOKIE)
    await views.vehicle(vehicle_id)  # an unknown vehicle is a 404 before any stream starts
    table = PAGES.env.get_template("dashboard/_signals.html")

    async def changes() -> AsyncIterator[ServerSentEvent]:
        shown = None
        deadline = time.monotonic() + LIVE_STREAM_S
        while time.monotonic() < deadline:
            # Signing out (anywhere) ends the stream, as it ends every page.
            if await sessions.nonce(cookie) is None:
                yield ServerSentEvent("Signed out.", event="signed-out")
                return
            try:
                detail = await views.vehicle(vehicle_id)
            except ApiError as error:
                yield ServerSentEvent(error.detail, event="gone")
                return
            html = table.render(detail=detail)
            if html != shown:
                shown = html
                yield ServerSentEvent(json.dumps({"status": detail.status, "signals": html}),
                                      event="vehicle", retry=3000)
            await asyncio.sleep(LIVE_INTERVAL_S)

    return EventSourceResponse(changes(), ping=LIVE_PING_S, headers=SECURITY_HEADERS)


#: The vehicle page's buttons → the steering call each makes.
ACTIONS = ("plug", "charge", "start-charging", "stop-charging", "unplug", "sleep", "wake", "offline", "online",
           "lock", "unlock", "open-door", "close-door", "drive")


@router.post("/vehicles/{vehicle_id}/actions")
async def vehicle_action(request: Request, vehicle_id: str) -> Response:
    form = await _form(request)
    steering = platform_of(request).steering
    action = _text(form, "action")
    page = f"/dashboard/vehicles/{vehicle_id}"
    try:
        if action == "plug":
            await steering.plug(vehicle_id, plugged=True, start=False, kw=None)
        elif action == "charge":
            await steering.plug(vehicle_id, plugged=True, start=True, kw=None)
        elif action in ("start-charging", "stop-charging"):
            await steering.set_charging(vehicle_id, action == "start-charging")
        elif action in ("lock", "unlock"):
            await steering.set_locked(vehicle_id, action == "lock")
        elif action == "unplug":
            await steering.plug(vehicle_id, plugged=False, start=False, kw=None)
        elif action == "sleep":
            await steering.sleep(vehicle_id)
        elif action == "wake":
            await steering.wake(vehicle_id)
        elif action in ("offline", "online"):
            await steering.set_online(vehicle_id, action == "online")
        elif action in ("open-door", "close-door"):
            await steering.set_open(vehicle_id, "door-1-1", action == "open-door")
        elif action == "drive":
            latitude, longitude = float(_text(form, "latitude")), float(_text(form, "longitude"))
            await steering.drive(vehicle_id, latitude=latitude, longitude=longitude, speed_kph=None)
        else:
            return _back(page, f"Unknown action '{action}'.")
    except ApiError as error:
        return _back(page, error.detail)
    except ValueError:
        return _back(page, "Latitude and longitude must be numbers.")
    return _back(page)


@router.post("/vehicles/{vehicle_id}/pin")
async def pin_signal(request: Request, vehicle_id: str) -> Response:
    form = await _form(request)
    page = f"/dashboard/vehicles/{vehicle_id}"
    text = _text(form, "body")
    try:
        body = json.loads(text) if text else None
    except ValueError:
        return _back(page, "The pinned value must be a JSON object such as {\"value\": 80}.")
    if body is not None and not isinstance(body, dict):
        return _back(page, "The pinned value must be a JSON object such as {\"value\": 80}.")
    try:
        await platform_of(request).steering.pin_signal(vehicle_id, _text(form, "code"), body)
    except ApiError as error:
        return _back(page, error.detail)
    return _back(page)
