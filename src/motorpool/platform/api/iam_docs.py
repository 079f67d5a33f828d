"""OpenAPI declarations of the IAM routes, which :mod:`.iam` answers ahead of FastAPI.

Never reached for the methods they declare. Another method on these paths reaches FastAPI, which
answers 405 from them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form
from pydantic import BaseModel, Field
from starlette.responses import Response

router = APIRouter(tags=["IAM"])


class TokenAnswer(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int = 3600
    refresh_token: str | None = Field(None, description="User grants only: 60 days, single use")
    scope: str | None = Field(None, description="User grants only: the permissions granted")
    user_id: str | None = Field(None, description="Code exchanges only: the user Connect created")
    vehicle_ids: list[str] | None = Field(None, description="Code exchanges only")


class OAuthErrorBody(BaseModel):
    error: str
    error_description: str


_responses: dict[int | str, dict[str, Any]] = {
    400: {"model": OAuthErrorBody, "description": "invalid_request (a parameter missing, malformed or repeated), "
          "invalid_grant (a code or refresh token that is unknown, expired or used), unsupported_grant_type"},
    401: {"model": OAuthErrorBody, "description": "invalid_client"},
}


def _grant(grant_type: str, required: tuple[str, ...], fields: dict[str, str]) -> dict[str, Any]:
    """One grant's form: its ``grant_type``, the fields it needs, and the client's credentials
    (in the form, or as HTTP Basic instead)."""
    properties: dict[str, Any] = {"grant_type": {"type": "string", "const": grant_type}}
    properties |= {name: {"type": "string", "minLength": 1, "description": text} for name, text in fields.items()}
    properties |= {
        "client_id": {"type": "string", "description": "Or give the client's credentials as HTTP Basic"},
        "client_secret": {"type": "string"},
    }
    return {"title": grant_type, "type": "object", "properties": properties, "required": ["grant_type", *required]}


#: The token request's form: which fields go together is said by the grant (RFC 6749 §4.1.3,
#: §4.4.2, §6). What the server checks beyond that (that the client, the code or the refresh
#: token exists and belongs together) is answered 400 or 401 in RFC 6749 §5.2's shape.
TOKEN_FORM: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "oneOf": [
                        _grant("client_credentials", (), {}),
                        _grant("authorization_code", ("code",), {
                            "code": "The code of the Connect redirect",
                            "redirect_uri": "As the Connect URL had it",
                            "code_verifier": "PKCE (RFC 7636), when the Connect URL had a challenge",
                        }),
                        _grant("refresh_token", ("refresh_token",), {"refresh_token": "The last refresh token"}),
                    ],
                    "discriminator": {"propertyName": "grant_type"},
                }
            }
        },
    }
}  # fmt: skip


_TOKEN_DOC = """Three grants, with client authentication by the form, a JSON body or HTTP Basic:

- ``client_credentials`` (RFC 6749 §4.4): a one-hour application token (an RFC 9068 JWT, no
  refresh token); send ``sc-user-id`` with it on the Vehicle API.
- ``authorization_code``: the ``code`` of a Connect redirect (with ``redirect_uri`` as the Connect
  URL had it, and the PKCE ``code_verifier`` when it had a challenge), once, within 10 minutes:
  a two-hour user token, a 60-day ``refresh_token``, the ``user_id`` and ``vehicle_ids``. A code
  used twice fails and revokes what its first use issued.
- ``refresh_token``: a new user token and refresh token; a used refresh token is still accepted
  for one minute, then refused, as it is once the user has no connection left.

A user token works on the v2 API and on every v3 read and command, for its own user only."""


@router.post("/oauth2/token", response_model=TokenAnswer, responses=_responses, summary="Request an access token",
             description=_TOKEN_DOC, openapi_extra=TOKEN_FORM)
async def _doc_token() -> Response:
    raise AssertionError("answered by api.iam, ahead of FastAPI")


@router.post("/oauth/token", response_model=TokenAnswer, responses=_responses,
             summary="Request an access token (Smartcar's v2 path)", description=_TOKEN_DOC, openapi_extra=TOKEN_FORM)
async def _doc_token_v2_path() -> Response:
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
