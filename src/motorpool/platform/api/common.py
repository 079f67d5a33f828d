"""Glue shared by every surface: request ids, the one error writer, fast JSON responses."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

import orjson
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import ApiError, NotFound, OAuthError, ServerError, ValidationFailed
from ..services.runtime import Platform

if TYPE_CHECKING:  # FastAPI is imported with the first request that needs it (see .fastlane)
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError

log = logging.getLogger("motorpool")
REQUEST_ID = "motorpool.request_id"
JSON = "application/json"


class RequestIdMiddleware:
    """Gives every response an ``SC-Request-Id`` header (pure ASGI: costs microseconds)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        _, send_with_id = tag_request(scope, send)
        await self.app(scope, receive, send_with_id)


def tag_request(scope: Scope, send: Send) -> tuple[str, Send]:
    """Give a request its id and a ``send`` that adds the ``SC-Request-Id`` header."""
    request_id = str(uuid.uuid4())
    scope[REQUEST_ID] = request_id
    header = (b"sc-request-id", request_id.encode())

    async def send_with_id(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), header]
        await send(message)

    return request_id, send_with_id


def request_id(request: Request) -> str:
    return str(request.scope.get(REQUEST_ID, ""))


def platform_of(request: Request) -> Platform:
    return request.app.state.platform  # type: ignore[no-any-return]


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type=JSON, headers=headers)


def error_response(request: Request, error: ApiError) -> Response:
    return json_response(error.body(request_id(request)), error.status, error.headers or None)


def oauth_error_response(error: OAuthError) -> Response:
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="motorpool"'
    return json_response(error.body(), error.status, headers)


def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    problems: list[ValidationFailed] = []
    for problem in exc.errors():
        location = [str(part) for part in problem.get("loc", ()) if part not in ("body",)]
        field = ".".join(location[1:] if location and location[0] in ("query", "path", "header") else location)
        missing = problem.get("type") == "missing"
        problems.append(
            ValidationFailed(
                f"{field or 'request'}: {problem.get('msg', 'invalid value')}",
                code="MISSING_PARAMETER" if missing else "INVALID_INPUT_FORMAT",
                source={"parameter": field} if field else None,
            )
        )
    if not problems:
        problems.append(ValidationFailed("The request is not valid."))
    first, rest = problems[0], problems[1:]
    first.extra_errors = rest
    return error_response(request, first)


def install_error_handlers(app: FastAPI) -> None:
    from fastapi.exceptions import RequestValidationError

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(request, exc)

    async def on_oauth_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, OAuthError)
        return oauth_error_response(exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return _validation_error(request, exc)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            error: ApiError = NotFound(f"The path '{request.url.path}' does not exist.")
        elif exc.status_code == 405:
            error = NotFound(
                f"The method {request.method} is not allowed on '{request.url.path}'.", status=405
            )
        else:
            error = ApiError(str(exc.detail), status=exc.status_code, code=None)
        return error_response(request, error)

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        # This handler runs outside the request-id middleware, so it sets the header itself.
        error = ServerError(
            "An unexpected error occurred on the server.",
            headers={"SC-Request-Id": request_id(request)},
        )
        return error_response(request, error)

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(OAuthError, on_oauth_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)
