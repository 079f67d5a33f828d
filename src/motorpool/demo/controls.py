"""The vehicle page's buttons: ``POST /vehicle/{id}/{action}`` sends lock, unlock, start or stop
charging through the Vehicle API for the signed-in user, and comes back to ``/vehicle`` saying
how it went (a refusal — an unplugged car, a missing permission — is the platform's own error
page, with what to do about it)."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from motorpool import CommandExecution, SmartcarError

from .pages import Page, platform_failure
from .routes import Api, CurrentSession, PageWriter

router = APIRouter()

#: The actions the page offers, and the permission each one needs on Connect.
ACTIONS = {
    "lock": "control_security",
    "unlock": "control_security",
    "start-charge": "control_charge",
    "stop-charge": "control_charge",
}


def _same_origin(request: Request) -> bool:
    """A form of this app, not of another site: the session cookie is ``SameSite=Lax`` already;
    a browser's ``Origin`` on a POST says the same again."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    here = urlsplit(str(request.url))
    return origin == f"{here.scheme}://{here.netloc}"


@router.post("/vehicle/{vehicle_id}/{action}", include_in_schema=False)
async def command(
    request: Request, vehicle_id: str, action: str, session: CurrentSession, api: Api, pages: PageWriter
) -> Response:
    if session is None or session.user_id is None:
        return RedirectResponse("/login", status_code=303)
    if action not in ACTIONS or not _same_origin(request):
        page = Page(
            heading="That is not something this page sends",
            text="Use the buttons on the vehicle page.",
            status=404 if action not in ACTIONS else 403,
            tone="warn",
            code="unknown_action" if action not in ACTIONS else "cross_site_form",
            actions=(("Your vehicles", "/vehicle", True),),
        )
        return pages.message(request, page, signed_in=True)
    commands = api.user(session.user_id).commands
    calls = {
        "lock": commands.lock,
        "unlock": commands.unlock,
        "start-charge": commands.start_charge,
        "stop-charge": commands.stop_charge,
    }
    try:
        execution: CommandExecution = await calls[action](vehicle_id)
    except SmartcarError as failure:
        return pages.message(request, platform_failure(failure), signed_in=True)
    status = execution.status or "SENT"
    query = urlencode({"sent": action, "status": status, "vehicle": vehicle_id, "execution": execution.id})
    return RedirectResponse(f"/vehicle?{query}", status_code=303)
