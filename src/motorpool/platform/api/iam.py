"""IAM: the token, introspection and revocation endpoints, JWKS and server metadata.

All five are served by plain Starlette routes placed ahead of FastAPI's routing: the token
endpoint is the hottest write path, and JWKS and the metadata are what a client asks first. Their
FastAPI declarations, which document them in OpenAPI, live in :mod:`.iam_docs` and are installed
on first use (see :mod:`.fastlane`)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..errors import OAuthError
from ..services.oauth import parse_token_request
from .common import json_response, platform_of
from .fastlane import AsgiEndpoint, PlatformApp

_NO_STORE_RAW = ((b"cache-control", b"no-store"), (b"pragma", b"no-cache"))


async def _read(scope: Scope, receive: Receive) -> Any:
    request = Request(scope, receive)
    return parse_token_request(
        request.headers.get("content-type", ""),
        await request.body(),
        request.headers.get("authorization"),
    )


async def _answer(send: Send, status: int, payload: Any, extra: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    body = orjson.dumps(payload) if payload is not None else b""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *_NO_STORE_RAW,
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _oauth_failure(send: Send, error: OAuthError) -> None:
    extra = ((b"www-authenticate", b'Basic realm="motorpool"'),) if error.status == 401 else ()
    await _answer(send, error.status, error.body(), extra)


def _platform(scope: Scope) -> Any:
    return scope["app"].state.platform


async def token_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    try:
        answer = await _platform(scope).oauth.token(await _read(scope, receive))
    except OAuthError as error:
        await _oauth_failure(send, error)
        return
    await _answer(send, 200, answer)


async def introspect_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    try:
        answer = await _platform(scope).oauth.introspect(await _read(scope, receive))
    except OAuthError as error:
        await _oauth_failure(send, error)
        return
    await _answer(send, 200, answer)


async def revoke_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    try:
        await _platform(scope).oauth.revoke(await _read(scope, receive))
    except OAuthError as error:
        await _oauth_failure(send, error)
        return
    await _answer(send, 200, None)


async def jwks(request: Request) -> Response:
    return json_response(platform_of(request).tokens.jwks, headers={"Cache-Control": "max-age=300"})


async def metadata(request: Request) -> Response:
    origin = platform_of(request).settings.origin
    return json_response(
        {
            "issuer": origin,
            "authorization_endpoint": f"{origin}/oauth/authorize",
            "token_endpoint": f"{origin}/oauth2/token",
            "introspection_endpoint": f"{origin}/oauth2/introspect",
            "revocation_endpoint": f"{origin}/oauth2/revoke",
            "jwks_uri": f"{origin}/.well-known/jwks.json",
            "grant_types_supported": ["client_credentials", "authorization_code"],
            "response_types_supported": ["code"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_signing_alg_values_supported": ["ES256"],
        }
    )


FAST_ROUTES = [
    Route("/oauth2/token", AsgiEndpoint(token_endpoint), methods=["POST"]),
    Route("/oauth2/introspect", AsgiEndpoint(introspect_endpoint), methods=["POST"]),
    Route("/oauth2/revoke", AsgiEndpoint(revoke_endpoint), methods=["POST"]),
    Route("/.well-known/jwks.json", jwks, methods=["GET"]),
    Route("/.well-known/oauth-authorization-server", metadata, methods=["GET"]),
]


def install(app: PlatformApp) -> None:
    app.fast_routes = [*app.fast_routes, *FAST_ROUTES]


def install_docs(app: PlatformApp) -> None:
    """Add the OpenAPI declarations of the routes above (a lazy group: see ``app.py``)."""
    from .iam_docs import router

    app.include_router(router)
