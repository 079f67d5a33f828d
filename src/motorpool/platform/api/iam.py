"""IAM: the token, introspection and revocation endpoints, JWKS and server metadata.

Plain Starlette routes ahead of the FastAPI app (see ``..app``): the token endpoint is the hottest
write path, and JWKS and the metadata are what a client asks first, so none of them waits for
FastAPI to be built. The three OAuth endpoints are bare ASGI endpoints (no Request or Response
object: a tenth of a grant's cost). Their OpenAPI declarations live in :mod:`.iam_docs`. An OAuth
failure is raised as ``OAuthError`` and answered by the error handlers of :mod:`.common`."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..services.oauth import TokenRequest, parse_token_request
from .common import (
    AsgiEndpoint,
    first_headers,
    json_response,
    platform_of,
    read_body,
    request_origin,
    scope_platform,
)

#: The grants' answers are never cached (RFC 6749 §5.1).
_NO_STORE_JSON = (
    (b"content-type", b"application/json"),
    (b"cache-control", b"no-store"),
    (b"pragma", b"no-cache"),
)


async def _token_request(scope: Scope, receive: Receive) -> TokenRequest:
    """The parameters and client credentials, from a form, a JSON body or HTTP Basic."""
    content_type, authorization = first_headers(scope, b"content-type", b"authorization")
    return parse_token_request(content_type or "", await read_body(receive), authorization)


async def _answer(send: Send, body: bytes) -> None:
    headers = [*_NO_STORE_JSON, (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def token(scope: Scope, receive: Receive, send: Send) -> None:
    answer = await scope_platform(scope).oauth.token(await _token_request(scope, receive))
    await _answer(send, orjson.dumps(answer))


async def introspect(scope: Scope, receive: Receive, send: Send) -> None:
    answer = await scope_platform(scope).oauth.introspect(await _token_request(scope, receive))
    await _answer(send, orjson.dumps(answer))


async def revoke(scope: Scope, receive: Receive, send: Send) -> None:
    await scope_platform(scope).oauth.revoke(await _token_request(scope, receive))
    await _answer(send, b"")


async def jwks(request: Request) -> Response:
    return json_response(platform_of(request).tokens.jwks, headers={"Cache-Control": "max-age=300"})


async def metadata(request: Request) -> Response:
    return json_response(platform_of(request).oauth.server_metadata(request_origin(request)))


ROUTES = [
    Route("/oauth2/token", AsgiEndpoint(token), methods=["POST"]),
    # Where Smartcar's v2 token endpoint lives (auth.smartcar.com/oauth/token): the official SDKs
    # post their code exchanges and refreshes there.
    Route("/oauth/token", AsgiEndpoint(token), methods=["POST"]),
    Route("/oauth2/introspect", AsgiEndpoint(introspect), methods=["POST"]),
    Route("/oauth2/revoke", AsgiEndpoint(revoke), methods=["POST"]),
    Route("/.well-known/jwks.json", jwks, methods=["GET"]),
    Route("/.well-known/oauth-authorization-server", metadata, methods=["GET"]),
]
