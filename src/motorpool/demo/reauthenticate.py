"""``GET /vehicle/{id}/reauthenticate``: the link the vehicle page shows when a vehicle's
connected-services account needs its owner to sign in again.

The Vehicle API's error carries Smartcar's re-authentication link, partial as Smartcar sends it;
this route asks for it afresh (so the page never hands the browser a link it was given earlier),
completes it with the demo's redirect URI and a fresh ``state`` bound to this browser, and sends
the owner to Connect. Connect comes back to ``/exchange`` with ``vehicle_id`` and that state."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from motorpool import ConnectedServicesAccountError, SmartcarError

from .pages import Page, platform_failure
from .routes import (
    Api,
    CurrentSession,
    PageWriter,
    SessionId,
    Sessions,
    Settings,
    _set_session_cookie,
)

router = APIRouter()


@router.get("/vehicle/{vehicle_id}/reauthenticate", include_in_schema=False)
async def reauthenticate(
    request: Request, vehicle_id: str, session: CurrentSession, sessions: Sessions, settings: Settings,
    api: Api, pages: PageWriter, session_id: SessionId = None,
) -> Response:  # fmt: skip
    if session is None or session.user_id is None:
        return RedirectResponse("/login", status_code=303)
    try:
        await api.user(session.user_id).signals.list(vehicle_id)
    except ConnectedServicesAccountError as needed:
        if not needed.needs_reauthentication or needed.reauthentication_url is None:
            return pages.message(request, platform_failure(needed), signed_in=True)
        browser, state = await sessions.begin_login(session_id)
        link = needed.reauthentication_link(settings.redirect_uri, state=state)
        assert link is not None  # reauthentication_url is set
        response = RedirectResponse(link, status_code=302)
        response.headers["cache-control"] = "no-store"
        _set_session_cookie(response, browser, settings)
        return response
    except SmartcarError as failure:
        return pages.message(request, platform_failure(failure), signed_in=True)
    page = Page(
        heading="This vehicle's account works",
        text="The vehicle can be read: there is nothing to re-authenticate.",
        status=200,
        tone="info",
        code="account_works",
        actions=(("Your vehicles", "/vehicle", True),),
    )
    return pages.message(request, page, signed_in=True)
