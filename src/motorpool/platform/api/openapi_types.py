"""The types the server checks, said in the OpenAPI document.

Several parameters are declared to FastAPI as plain strings so that their routes (and the
services behind them) check them and answer Smartcar's messages — ids parsed as UUIDs
(:func:`..services.params.parse_uuid`), page numbers and sizes parsed as bounded whole numbers
(:func:`..services.params.parse_paging`). The document would call them any string; this says
what the server accepts, from the same constants the checks use."""

from __future__ import annotations

from typing import Any

from ..services.commands import EXECUTION_ID_PATTERN
from ..services.params import MAX_OFFSET, MAX_PAGE_NUMBER, MAX_PAGE_SIZE

#: Parameters whose values are UUIDs (every id the store makes: ``store.models.new_id``).
UUID_PARAMETERS = frozenset({
    "application_id", "vehicle_id", "user_id", "connection_id", "webhook_id", "subscription_id",
    "event_id", "secret_id", "sc-user-id", "filter[userId]", "filter[vehicleId]", "filter[webhookId]",
    "application",
})  # fmt: skip

#: Put in a parameter's ``json_schema_extra``: the parameter is required, though the route lets it
#: through to its service (which refuses it missing with Smartcar's own message).
REQUIRED = "x-motorpool-required"

#: Put in a parameter's ``json_schema_extra``: an empty value is taken as no value (the v2
#: Management API's filters and ``limit``), so the document allows it beside the typed one.
EMPTY_IS_ABSENT = "x-motorpool-empty-is-absent"

#: Whole-number parameters and their bounds.
INTEGER_PARAMETERS: dict[str, dict[str, int]] = {
    "page[number]": {"minimum": 1, "maximum": MAX_PAGE_NUMBER},
    "page[size]": {"minimum": 1, "maximum": MAX_PAGE_SIZE},
    "limit": {"minimum": 1},
    "offset": {"minimum": 0, "maximum": MAX_OFFSET},
}


def _typed(schema: dict[str, Any], typed: dict[str, Any]) -> dict[str, Any]:
    """``typed``, with the description of ``schema`` and any bounds its route declared (a route's
    own ``maximum`` overrides the table's)."""
    kept = ("title", "description", "default", "minimum", "maximum")
    return {**typed, **{key: schema[key] for key in kept if key in schema}}


def _is_text(schema: dict[str, Any]) -> bool:
    """A string, or a string or null (an optional parameter)."""
    if schema.get("type") == "string":
        return True
    variants = schema.get("anyOf", [])
    return bool(variants) and all(v.get("type") in ("string", "null") for v in variants)


def type_parameters(document: dict[str, Any]) -> None:
    """Give the UUID, execution-id, whole-number and enumerated parameters their types (edited
    in place)."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", ()):
                name, schema = parameter.get("name"), parameter.get("schema", {})
                if not _is_text(schema):
                    continue
                if schema.pop(REQUIRED, False):
                    parameter["required"] = True
                empty_is_absent = schema.pop(EMPTY_IS_ABSENT, False)
                if "enum" in schema:  # a set declared on the route (json_schema_extra): one plain type
                    parameter["schema"] = _typed(schema, {"type": "string", "enum": schema["enum"]})
                elif "pattern" in schema:
                    parameter["schema"] = _typed(schema, {"type": "string", "pattern": schema["pattern"]})
                elif name in UUID_PARAMETERS:
                    parameter["schema"] = _typed(schema, {"type": "string", "format": "uuid"})
                elif name == "execution_id":
                    parameter["schema"] = _typed(schema, {"type": "string", "pattern": f"^{EXECUTION_ID_PATTERN}$"})
                elif name in INTEGER_PARAMETERS:
                    parameter["schema"] = _typed(schema, {"type": "integer", **INTEGER_PARAMETERS[name]})
                if empty_is_absent:
                    typed = parameter["schema"]
                    described = {key: typed.pop(key) for key in ("title", "description", "default") if key in typed}
                    parameter["schema"] = {"anyOf": [typed, {"type": "string", "maxLength": 0}], **described}


def unrouted_is_404(document: dict[str, Any]) -> None:
    """A path parameter the routes cannot take (a newline in it, say) leaves the path unrouted:
    404 in the documented error shape. Say so on every operation with a path parameter."""
    for path, operations in document.get("paths", {}).items():
        if "{" not in path:
            continue
        for operation in operations.values():
            if isinstance(operation, dict):
                operation.setdefault("responses", {}).setdefault("404", {
                    "description": "RESOURCE_NOT_FOUND: the path does not exist",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
                })  # fmt: skip
