"""IAM: the token, introspection and revocation endpoints, JWKS and server metadata.

Plain Starlette routes ahead of the FastAPI app (see ``..app``): the token endpoint is the hottest
write path, and JWKS and the metadata are what a client asks first, so none of them waits for
FastAPI to be built. Their OpenAPI declarations live in :mod:`.iam_docs`. An OAuth failure is
raised as ``OAuthError`` and answered by the error handlers of :mod:`.common`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..services.oauth import TokenRequest, parse_token_request
from .common import NO_STORE, json_response, platform_of


async def _token_request(request: Request) -> TokenRequest:
    """The parameters and client credentials, from a form, a JSON body or HTTP Basic."""
    headers = request.headers
    return parse_token_request(
        headers.get("content-type", ""), await request.body(), headers.get("authorization")
    )


async def token(request: Request) -> Response:
    answer = await platform_of(request).oauth.token(await _token_request(request))
    return json_response(answer, headers=NO_STORE)


async def introspect(request: Request) -> Response:
    answer = await platform_of(request).oauth.introspect(await _token_request(request))
    return json_response(answer, headers=NO_STORE)


async def revoke(request: Request) -> Response:
    await platform_of(request).oauth.revoke(await _token_request(request))
    return Response(status_code=200, headers=NO_STORE, media_type="application/json")


async def jwks(request: Request) -> Response:
    return json_response(platform_of(request).tokens.jwks, headers={"Cache-Control": "max-age=300"})


async def metadata(request: Request) -> Response:
    return json_response(platform_of(request).oauth.server_metadata())


ROUTES = [
    Route("/oauth2/token", token, methods=["POST"]),
    Route("/oauth2/introspect", introspect, methods=["POST"]),
    Route("/oauth2/revoke", revoke, methods=["POST"]),
    Route("/.well-known/jwks.json", jwks, methods=["GET"]),
    Route("/.well-known/oauth-authorization-server", metadata, methods=["GET"]),
]
