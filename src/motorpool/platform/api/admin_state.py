"""The admin API's state control: ``POST /admin/reset``, ``/admin/snapshots`` and
``POST /admin/scenario`` — behind the admin token, like the rest of ``/admin``."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from ..errors import ValidationFailed
from ..services.scenarios import Format, parse_scenario
from ..services.state import SNAPSHOT_NAME, SnapshotInfo
from .admin import ADMIN_ERRORS, require_admin
from .common import json_response, platform_of

router = APIRouter(prefix="/admin", tags=["Admin"], dependencies=[Depends(require_admin)], responses=ADMIN_ERRORS)


def snapshot_view(info: SnapshotInfo) -> dict[str, Any]:
    taken = info.taken_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"name": info.name, "takenAt": taken, "rows": info.counts}


@router.post("/reset", summary="Put the platform back to its first start")
async def reset(request: Request) -> Response:
    """Deletes every application, owner, vehicle, user and connection, then creates the
    development application, its fleet and owners as first start does. Answers the new
    credentials (the same values first start writes to `.env`). Snapshots are kept."""
    platform = platform_of(request)
    first = await platform.state.reset()
    return json_response({"data": first.env(platform.settings.origin)})


class NewSnapshot(BaseModel):
    # The pattern is the one StateControl checks (its message names the rule).
    name: str = Field(min_length=1, max_length=100, json_schema_extra={"pattern": SNAPSHOT_NAME.pattern})


@router.get("/snapshots", summary="List the snapshots this server holds")
async def list_snapshots(request: Request) -> Response:
    infos = platform_of(request).state.list()
    return json_response({"data": [snapshot_view(info) for info in infos]})


@router.post("/snapshots", status_code=201, summary="Save the whole state as a named snapshot")
async def save_snapshot(request: Request, body: NewSnapshot) -> Response:
    """A snapshot lives in the server's memory until it stops; saving a name again replaces it."""
    info = await platform_of(request).state.save(body.name)
    return json_response({"data": snapshot_view(info)}, 201)


@router.post("/snapshots/{name}/restore", summary="Put the whole state back to a snapshot")
async def restore_snapshot(request: Request, name: str) -> Response:
    info = await platform_of(request).state.restore(name)
    return json_response({"data": snapshot_view(info)})


@router.delete("/snapshots/{name}", status_code=204, summary="Delete a snapshot")
async def delete_snapshot(request: Request, name: str) -> Response:
    platform_of(request).state.delete(name)
    return Response(status_code=204)


_FORMATS: dict[str, Format] = {
    "application/toml": "toml",
    "text/toml": "toml",
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
    "application/json": "json",
}

#: A JSON or YAML scenario is a mapping; TOML is text.
_SCENARIO_CONTENT = {
    media: {"schema": {"type": "string" if format == "toml" else "object"}} for media, format in _FORMATS.items()
}


@router.post(
    "/scenario",
    status_code=201,
    summary="Load a scenario: applications, owners, fleets, connections, signals, clock",
    openapi_extra={"requestBody": {"content": _SCENARIO_CONTENT}},
)
async def load_scenario(request: Request) -> Response:
    """The body is a scenario document in TOML, YAML or JSON, told by `Content-Type` (see
    `examples/scenarios/`). Answers the ids it made, by the labels the document gave them."""
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    format = _FORMATS.get(media)
    if format is None:
        raise ValidationFailed(
            f"A scenario is sent as TOML, YAML or JSON (Content-Type {', '.join(_FORMATS)}), "
            f"not '{media}'."
        )
    raw = await request.body()
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise ValidationFailed("A scenario is UTF-8 text.") from None
    platform = platform_of(request)
    created = await platform.scenarios.apply(parse_scenario(text, format))
    return json_response({"data": created}, 201)
