"""IAM: the token, introspection and revocation endpoints, JWKS and server metadata.

The token endpoint is served by a plain Starlette route placed ahead of FastAPI's routing (it is
the hottest write path); the FastAPI declaration below it documents the same path in OpenAPI."""

from __future__ import annotations

from typing import Any

import orjson

from fastapi import APIRouter, FastAPI, Form
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..errors import OAuthError
from ..services.oauth import parse_token_request
from .common import json_response, platform_of
from .fastlane import AsgiEndpoint

router = APIRouter(tags=["IAM"])


class TokenAnswer(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int = 3600


class OAuthErrorBody(BaseModel):
    error: str
    error_description: str


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


FAST_ROUTES = [
    Route("/oauth2/token", AsgiEndpoint(token_endpoint), methods=["POST"]),
    Route("/oauth2/introspect", AsgiEndpoint(introspect_endpoint), methods=["POST"]),
    Route("/oauth2/revoke", AsgiEndpoint(revoke_endpoint), methods=["POST"]),
]


# OpenAPI declarations of the fast routes: never reached, the fast lane answers first.
_responses: dict[int | str, dict[str, Any]] = {
    400: {"model": OAuthErrorBody, "description": "invalid_request / unsupported_grant_type"},
    401: {"model": OAuthErrorBody, "description": "invalid_client"},
}


@router.post("/oauth2/token", response_model=TokenAnswer, responses=_responses, summary="Request an access token")
async def _doc_token(
    grant_type: str = Form(examples=["client_credentials"]),
    client_id: str | None = Form(None),
    client_secret: str | None = Form(None),
) -> Response:
    """OAuth 2.0 client credentials (RFC 6749 §4.4). Credentials in the form, a JSON body, or
    HTTP Basic. Answers a one-hour JWT access token (RFC 9068); no refresh token.
    ``grant_type=authorization_code`` redeems a Connect ``code`` (with PKCE ``code_verifier``)
    and also answers ``user_id`` and ``vehicle_ids``."""
    raise AssertionError("served by the fast route")


@router.post("/oauth2/introspect", responses=_responses, summary="Introspect a token (RFC 7662)")
async def _doc_introspect(token: str = Form()) -> Response:
    """Requires client authentication; only the client's own tokens are reported active."""
    raise AssertionError("served by the fast route")


@router.post("/oauth2/revoke", responses=_responses, summary="Revoke a token (RFC 7009)")
async def _doc_revoke(token: str = Form()) -> Response:
    """Requires client authentication; the token stops working at once."""
    raise AssertionError("served by the fast route")


@router.get("/.well-known/jwks.json", summary="Public signing keys")
async def jwks(request: Request) -> Response:
    return json_response(platform_of(request).tokens.jwks, headers={"Cache-Control": "max-age=300"})


@router.get("/.well-known/oauth-authorization-server", summary="Server metadata (RFC 8414)")
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


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.fast_routes = [*getattr(app, "fast_routes", []), *FAST_ROUTES]
