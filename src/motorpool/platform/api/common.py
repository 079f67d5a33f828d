"""Glue shared by every surface: request ids, the error handlers, JSON responses, the platform of
a request."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from random import getrandbits
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import (
    ApiError,
    MethodNotAllowed,
    NotFound,
    OAuthError,
    ServerError,
    ValidationFailed,
)
from ..hostnames import link_origin
from ..services.access import VehicleRequest
from ..services.health import DATABASE_ERRORS, database_unavailable, unavailable_error
from ..services.runtime import Platform

log = logging.getLogger("motorpool")
REQUEST_ID = "motorpool.request_id"
JSON = "application/json"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

Handler = Callable[[Request, Any], Coroutine[Any, Any, Response]]

_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_request_id() -> str:
    """A random version-4 UUID, as ``str(uuid.uuid4())`` writes it. A request id is no secret,
    so it is drawn from ``random`` rather than the OS: a third of the cost, on every request."""
    digits = "%032x" % (getrandbits(128) & _UUID4_CLEAR | _UUID4_SET)
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


class RequestIdMiddleware:
    """Gives every request an id (``scope[REQUEST_ID]``) and every response its ``SC-Request-Id``
    header (pure ASGI: costs a microsecond or two)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope[REQUEST_ID] = request_id
        header = (b"sc-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, receive, send_with_id)


class TrailingSlashes:
    """Serves ``/path/`` as ``/path`` when only ``/path`` is routed, where Starlette would redirect.

    The official SDKs ask for ``/v2.0/vehicles/{id}/`` (a vehicle's attributes, with its slash),
    and an API client should not have to follow a redirect (a POST's body and an Authorization
    header may not survive one). Each route table is asked in turn — the hot routes, then the
    mounted app's, built on demand — and the first that routes the path with its slash, or
    without it, decides; a path routed with its slash keeps it. Only a path ending in ``/`` costs
    a look-up, so the hot reads pay one comparison."""

    def __init__(self, app: ASGIApp, *route_tables: Callable[[], Sequence[BaseRoute]]) -> None:
        self.app = app
        self.route_tables = route_tables

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path[-1] == "/":
                scope = self._routed(scope)
        await self.app(scope, receive, send)

    def _routed(self, scope: Scope) -> Scope:
        stripped = dict(scope)
        stripped["path"] = scope["path"].rstrip("/") or "/"
        raw_path = scope.get("raw_path")
        if isinstance(raw_path, bytes):
            stripped["raw_path"] = raw_path.rstrip(b"/") or b"/"
        for routes in self.route_tables:
            table = routes()
            if any(route.matches(scope)[0] is not Match.NONE for route in table):
                return scope
            if any(route.matches(stripped)[0] is not Match.NONE for route in table):
                return stripped
        return scope


class AsgiEndpoint:
    """A coroutine ``(scope, receive, send)`` as a route's endpoint. Starlette calls a plain
    function with a Request; the hottest reads skip building one."""

    def __init__(self, handler: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.handler(scope, receive, send)


def first_headers(scope: Scope, *names: bytes) -> list[str | None]:
    """The first value of each named header (lower case), as ``Request.headers.get`` would give
    it, read straight off the ASGI scope: the hot endpoints build no Request."""
    found: list[str | None] = [None] * len(names)
    for name, value in scope["headers"]:
        if name in names:
            index = names.index(name)
            if found[index] is None:
                found[index] = value.decode("latin-1")
    return found


async def read_body(receive: Receive) -> bytes:
    """The request body, as ``Request.body()`` reads it, without building a Request."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def request_id(request: Request) -> str:
    return str(request.scope.get(REQUEST_ID, ""))


def platform_of(request: Request) -> Platform:
    return request.app.state.platform  # type: ignore[no-any-return]


def vehicle_request(request: Request) -> VehicleRequest:
    """The credentials of a request under ``/v3/vehicles/{vehicle_id}``, and the origin of the
    links in its answer."""
    headers = request.headers
    return VehicleRequest(
        headers.get("authorization"), request.path_params["vehicle_id"], headers.get("sc-user-id"),
        request_origin(request),
    )  # fmt: skip


def request_origin(request: Request) -> str:
    """The origin of the links in the answer to ``request``: the Smartcar host it came on, else
    the public origin (:func:`..hostnames.link_origin`)."""
    return origin_of(request.scope, request.headers.get("host"))


def origin_of(scope: Scope, host: str | None) -> str:
    """:func:`request_origin` for a bare ASGI endpoint, given the request's ``Host``."""
    return link_origin(scope["scheme"], host, scope["app"].state.platform.settings.origin)


def scope_platform(scope: Scope) -> Platform:
    """The platform of a bare ASGI endpoint's request."""
    return scope["app"].state.platform  # type: ignore[no-any-return]


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type=JSON, headers=headers)


def error_response(request: Request, error: ApiError) -> Response:
    return json_response(error.body(request_id(request)), error.status, error.headers or None)


def oauth_error_response(error: OAuthError) -> Response:
    headers = dict(NO_STORE)
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="motorpool"'
    return json_response(error.body(), error.status, headers)


async def _on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(request, exc)


async def _on_oauth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)
    return oauth_error_response(exc)


#: The methods a route can declare, in the order Allow lists them.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method the request's path answers, over every route table of the platform (the
    hot routes and the mounted app's): Starlette's own 405 names only the first matching
    route's, and a path split between the two tables would be answered 404. Each method is
    asked of the routes as a request would be (FastAPI's included routers keep their routes
    to themselves), which only a request already refused pays for."""
    tables: Sequence[Callable[[], Sequence[BaseRoute]]] = getattr(request.app.state, "route_tables", ())
    path = request.scope["path"]
    allowed: list[str] = []
    for method in METHODS:
        probe: Scope = {"type": "http", "path": path, "root_path": "", "method": method}
        if any(route.matches(probe)[0] is Match.FULL for routes in tables for route in routes()):
            allowed.append(method)
    return allowed


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    allowed = allowed_methods(request) if exc.status_code in (404, 405) else []
    if allowed and request.method not in allowed:
        # The path exists, not with this method: 405 naming every method it answers in Allow
        # (RFC 9110 §15.5.6), whichever route table answered.
        error: ApiError = MethodNotAllowed(
            f"The method {request.method} is not allowed on '{request.url.path}'.",
            headers={"Allow": ", ".join(allowed)},
        )
    elif exc.status_code == 404:
        error = NotFound(f"The path '{request.url.path}' does not exist.")
    elif exc.status_code == 405:
        error = MethodNotAllowed(
            f"The method {request.method} is not allowed on '{request.url.path}'.",
            headers=dict(exc.headers or {}),
        )
    else:
        error = ApiError(str(exc.detail), status=exc.status_code, code=None)
    return error_response(request, error)


async def _on_database_error(request: Request, exc: Exception) -> Response:
    """The database is restarting or unreachable: 503, for the client to retry (an error of a
    database that answers is a crash like any other)."""
    if not database_unavailable(exc):
        return await _on_crash(request, exc)
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return error_response(request, unavailable_error())


async def _on_crash(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    # Starlette answers a crash outside every middleware, so the header is set here.
    error = ServerError(
        "An unexpected error occurred on the server.",
        headers={"SC-Request-Id": request_id(request)},
    )
    return error_response(request, error)


#: The one table of error handlers, given to the platform's app and to the FastAPI app mounted in
#: it (each app answers the errors raised below it). ``Exception`` is the last resort: a 500 in
#: the documented shape, never a stack trace.
ERROR_HANDLERS: dict[int | type[Exception], Handler] = {
    ApiError: _on_api_error,
    OAuthError: _on_oauth_error,
    StarletteHTTPException: _on_http_error,
    **dict.fromkeys(DATABASE_ERRORS, _on_database_error),
    Exception: _on_crash,
}


async def validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's validation failures as the documented 400 (one error per field), never 422."""
    from fastapi.exceptions import RequestValidationError

    assert isinstance(exc, RequestValidationError)
    problems: list[ApiError] = []
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


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON schema with its ``$defs`` written in place, for an OpenAPI request body that
    embeds it (where ``#/$defs/…`` would not resolve)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved
