"""``GET /admin/catalogue``: the makes and models the simulated fleet is drawn from."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from ..services.catalogue import CatalogueEntry, catalogue_entries
from ..services.vocabulary import MAKES, POWERTRAINS
from .admin import ADMIN_ERRORS, require_admin
from .common import json_response
from .openapi_types import EMPTY_IS_ABSENT

router = APIRouter(prefix="/admin", tags=["Admin"], dependencies=[Depends(require_admin)], responses=ADMIN_ERRORS)


def entry_view(entry: CatalogueEntry) -> dict[str, Any]:
    return {
        "make": entry.make, "makeName": entry.make_name, "model": entry.model,
        "years": list(entry.years), "powertrainType": entry.powertrain, "bodyStyle": entry.body_style,
        "permissions": list(entry.permissions), "commands": list(entry.commands),
        "signals": list(entry.signals),
    }  # fmt: skip


@router.get("/catalogue", summary="The makes and models of the simulated fleet, and what each supports")
async def list_catalogue(
    make: Annotated[
        str | None, Query(description="A make's code or name: TESLA, Tesla", json_schema_extra={"enum": list(MAKES), EMPTY_IS_ABSENT: True})
    ] = None,
    powertrain: Annotated[
        str | None,
        Query(alias="powertrainType", description="BEV, PHEV, HEV or ICE", json_schema_extra={"enum": list(POWERTRAINS), EMPTY_IS_ABSENT: True}),
    ] = None,
) -> Response:
    # An empty filter is taken as none given, as the document says (EMPTY_IS_ABSENT).
    entries = catalogue_entries(make or None, powertrain or None)
    return json_response({"data": [entry_view(entry) for entry in entries]})
