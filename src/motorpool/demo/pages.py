"""What the demo tells the reader: its pages, and a message page (or JSON error) for each thing
that can go wrong on the way from ``/login`` to ``/vehicle``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from motorpool import ApiError, OAuthError, RateLimitError, SmartcarError, TransportError

log = logging.getLogger("motorpool.demo")

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


def wants_json(request: Request) -> bool:
    """True when the client asked for JSON rather than a page (``Accept: application/json``)."""
    accept = request.headers.get("accept", "").lower()
    return "application/json" in accept and "text/html" not in accept


@dataclass(frozen=True)
class Pages:
    """Renders the demo's templates, each with the mode and the platform's origin in its header."""

    templates: Jinja2Templates
    mode: str
    api_origin: str

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any],
        status: int = 200,
        signed_in: bool = False,
    ) -> HTMLResponse:
        base = {"mode": self.mode, "api_origin": self.api_origin, "signed_in": signed_in}
        response = self.templates.TemplateResponse(request, name, base | context, status_code=status)
        response.headers["cache-control"] = "no-store"
        return response

    def message(self, request: Request, page: Page, signed_in: bool = False) -> Response:
        """The page as HTML, or as ``{"error": …}`` for a client that asked for JSON."""
        response: Response
        if wants_json(request):
            error: dict[str, Any] = {"code": page.code, "title": page.heading, "message": page.text}
            if page.detail:
                error["detail"] = page.detail
            error["facts"] = dict(page.facts)
            response = JSONResponse({"error": error}, status_code=page.status)
            response.headers["cache-control"] = "no-store"
        else:
            context = {
                "heading": page.heading,
                "text": page.text,
                "tone": page.tone,
                "detail": page.detail,
                "facts": page.facts,
                "actions": page.actions,
            }
            response = self.render(request, "message.html", context, page.status, signed_in)
        if page.retry_after is not None:
            response.headers["retry-after"] = str(max(1, round(page.retry_after)))
        return response


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
