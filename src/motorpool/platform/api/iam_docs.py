"""OpenAPI declarations of the IAM routes, which :mod:`.iam` answers ahead of FastAPI.

Never reached for the methods they declare. Another method on these paths reaches FastAPI, which
answers 405 from them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form
from pydantic import BaseModel
from starlette.responses import Response

router = APIRouter(tags=["IAM"])


class TokenAnswer(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int = 3600


class OAuthErrorBody(BaseModel):
    error: str
    error_description: str


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
    raise AssertionError("answered by api.iam, ahead of FastAPI")


@router.post("/oauth2/introspect", responses=_responses, summary="Introspect a token (RFC 7662)")
async def _doc_introspect(token: str = Form()) -> Response:
    """Requires client authentication; only the client's own tokens are reported active."""
    raise AssertionError("answered by api.iam, ahead of FastAPI")


@router.post("/oauth2/revoke", responses=_responses, summary="Revoke a token (RFC 7009)")
async def _doc_revoke(token: str = Form()) -> Response:
    """Requires client authentication; the token stops working at once."""
    raise AssertionError("answered by api.iam, ahead of FastAPI")


@router.get("/.well-known/jwks.json", summary="Public signing keys")
async def jwks() -> Response:
    raise AssertionError("answered by api.iam, ahead of FastAPI")


@router.get("/.well-known/oauth-authorization-server", summary="Server metadata (RFC 8414)")
async def metadata() -> Response:
    raise AssertionError("answered by api.iam, ahead of FastAPI")
