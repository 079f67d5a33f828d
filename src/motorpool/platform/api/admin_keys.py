"""Admin API: the token signing keys (list, rotate). The private halves never leave the server."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from ..services.keys import KeyRecord
from .admin import ADMIN_ERRORS, require_admin
from .common import json_response, platform_of

router = APIRouter(prefix="/admin", tags=["Admin"], dependencies=[Depends(require_admin)], responses=ADMIN_ERRORS)


def key_view(key: KeyRecord) -> dict[str, object]:
    return {
        "kid": key.kid,
        "algorithm": key.algorithm,
        "signing": key.active,
        "createdAt": key.created_at.isoformat().replace("+00:00", "Z"),
    }


@router.get("/signing-keys", summary="List the token signing keys")
async def list_signing_keys(request: Request) -> Response:
    """Every key in the JWKS, oldest first; ``signing`` marks the one that signs new tokens."""
    keys = await platform_of(request).keys.list()
    return json_response({"data": [key_view(k) for k in keys]})


@router.post("/signing-keys", status_code=201, summary="Rotate the token signing key")
async def rotate_signing_key(request: Request) -> Response:
    """A new key signs from now on; the old ones stay in the JWKS and keep verifying the tokens
    they signed."""
    key = await platform_of(request).keys.rotate()
    return json_response({"data": key_view(key)}, 201)
