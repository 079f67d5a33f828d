"""The OpenAPI document types what the server checks: ids it parses as UUIDs are ``format:
uuid``, execution ids have their pattern, page numbers, sizes, limits and offsets are bounded
integers. Before, all of them were any string, so a client generated from the document (or a
fuzzer) could not know what the server would refuse."""

from __future__ import annotations

import uuid
from typing import Any

from motorpool.platform.services.admin import FLEET_PAGE_MOST
from motorpool.platform.services.params import MAX_PAGE_NUMBER, MAX_PAGE_SIZE

from ..support.api import assert_error, get
from ..support.harness import PlatformHarness


def _parameter(document: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    parameters = document["paths"][path][method]["parameters"]
    found: dict[str, Any] = next(p["schema"] for p in parameters if p["name"] == name)
    return found


async def test_ids_and_paging_are_typed(sqlite_platform: PlatformHarness) -> None:
    document = (await sqlite_platform.http.get("/openapi.json")).json()
    connections = "/v3/connections"
    number = _parameter(document, connections, "get", "page[number]")
    assert (number["type"], number["minimum"], number["maximum"]) == ("integer", 1, MAX_PAGE_NUMBER)
    size = _parameter(document, connections, "get", "page[size]")
    assert size["type"] == "integer" and size["maximum"] == MAX_PAGE_SIZE
    vehicle = _parameter(document, "/v3/vehicles/{vehicle_id}", "get", "vehicle_id")
    assert vehicle["type"] == "string" and vehicle["format"] == "uuid"
    execution = _parameter(document, "/v3/vehicles/{vehicle_id}/commands/executions/{execution_id}", "get", "execution_id")
    assert execution["pattern"] == "^exec_[0-9a-f]{24}$"
    fleet_page = _parameter(document, "/admin/applications/{application_id}/vehicles", "get", "limit")
    assert (fleet_page["type"], fleet_page["minimum"], fleet_page["maximum"]) == ("integer", 1, FLEET_PAGE_MOST)
    offset = _parameter(document, "/v2.0/vehicles", "get", "offset")
    assert offset["type"] == "integer" and offset["minimum"] == 0
    typed = [
        p["schema"] for operations in document["paths"].values() for operation in operations.values()
        for p in operation.get("parameters", ()) if p["name"] in ("vehicle_id", "user_id", "webhook_id")
    ]  # fmt: skip
    # The v2 Management API takes an empty filter as none: uuid, or the empty string.
    assert typed and all(schema.get("format") == "uuid" or schema["anyOf"][0]["format"] == "uuid" for schema in typed)


async def test_what_the_document_refuses_the_server_refuses(sqlite_platform: PlatformHarness) -> None:
    """The types are true: outside them the answer is a 400 in the documented shape, inside
    them the request is served."""
    assert_error(await get(sqlite_platform, "/v3/connections", params={"page[number]": "0"}), 400, "VALIDATION")
    assert_error(await get(sqlite_platform, "/v3/connections", params={"page[number]": "x"}), 400, "VALIDATION")
    beyond = {"page[size]": str(MAX_PAGE_SIZE + 1)}
    assert_error(await get(sqlite_platform, "/v3/connections", params=beyond), 400, "VALIDATION")
    last = {"page[number]": str(MAX_PAGE_NUMBER), "page[size]": str(MAX_PAGE_SIZE)}
    assert (await get(sqlite_platform, "/v3/connections", params=last)).status_code == 200
    user_id, _ = await sqlite_platform.connect("typed@example.com")
    headers = await sqlite_platform.auth_headers(user_id)
    malformed = await sqlite_platform.http.get("/v3/vehicles/not-a-uuid", headers=headers)
    assert_error(malformed, 400, "VALIDATION")
    unknown = await sqlite_platform.http.get(f"/v3/vehicles/{uuid.uuid4()}", headers=headers)
    assert unknown.status_code in (403, 404)


async def test_answers_the_fuzzer_found_outside_the_document(sqlite_platform: PlatformHarness) -> None:
    """An application that does not exist has no webhook list (404, not an empty 200), and a
    YAML scenario, documented as a mapping, is refused when it is not one."""
    admin = sqlite_platform.admin_headers
    missing = await sqlite_platform.http.get("/admin/applications/null,null/webhooks", headers=admin)
    assert_error(missing, 404, "RESOURCE_NOT_FOUND")
    for text in ("- 1\n", "1\n"):
        refused = await sqlite_platform.http.post(
            "/admin/scenario", headers={**admin, "Content-Type": "text/yaml"}, content=text
        )
        assert_error(refused, 400, "VALIDATION")


async def test_an_unrouted_path_parameter_is_a_documented_404(sqlite_platform: PlatformHarness) -> None:
    document = (await sqlite_platform.http.get("/openapi.json")).json()
    step = document["paths"]["/oauth/connect/{step}"]["post"]["responses"]
    assert step["404"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorBody"
    unrouted = await sqlite_platform.http.post("/oauth/connect/a%0Ab")
    assert_error(unrouted, 404, "RESOURCE_NOT_FOUND")


def _operation(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][path][method]
    return found


async def test_closed_sets_are_enums_and_the_server_refuses_the_rest(sqlite_platform: PlatformHarness) -> None:
    """Where the server accepts a set (regions, powertrains, modes, makes, signal codes), the
    document lists it; a value outside it is a 400. Before, they were any string, so a
    schema-valid request could be refused."""
    document = (await sqlite_platform.http.get("/openapi.json")).json()
    region = _parameter(document, "/v3/compatible-vehicles", "get", "filter[region]")
    assert region == {**region, "type": "string", "enum": ["US", "CA", "EUROPE"]}
    mode = _parameter(document, "/v3/connections", "get", "filter[vehicle.mode]")
    assert mode["enum"] == ["live", "simulated", "test"]
    matrix = {p["name"]: p for p in _operation(document, "/v2.0/compatibility/matrix", "get")["parameters"]}
    assert matrix["region"]["required"] is True and matrix["type"]["schema"]["enum"] == ["BEV", "PHEV", "HEV", "ICE"]
    # The catalogue takes an empty make or powertrain as none given: the set, or the empty string.
    make = _parameter(document, "/admin/catalogue", "get", "make")
    assert "TESLA" in make["anyOf"][0]["enum"] and make["anyOf"][1] == {"type": "string", "maxLength": 0}
    code = _parameter(document, "/admin/vehicles/{vehicle_id}/signals/{code}", "put", "code")
    assert "tractionbattery-stateofcharge" in code["enum"]
    for value in region["enum"]:
        assert (await sqlite_platform.http.get("/v3/compatible-vehicles", params={"filter[region]": value})).status_code == 200
    refused = await sqlite_platform.http.get("/v3/compatible-vehicles", params={"filter[region]": "MARS"})
    assert_error(refused, 400, "VALIDATION")
    unknown = await sqlite_platform.http.get("/admin/catalogue", params={"make": "NOPE"}, headers=sqlite_platform.admin_headers)
    assert_error(unknown, 400, "VALIDATION")
    everything = await sqlite_platform.http.get("/admin/catalogue", headers=sqlite_platform.admin_headers)
    unfiltered = await sqlite_platform.http.get(
        "/admin/catalogue", params={"make": "", "powertrainType": ""}, headers=sqlite_platform.admin_headers
    )
    assert unfiltered.status_code == 200 and unfiltered.json() == everything.json()


async def test_each_grant_is_a_form_of_its_own(sqlite_platform: PlatformHarness) -> None:
    """The token request's fields go together by grant: a `oneOf` keyed by `grant_type`."""
    document = (await sqlite_platform.http.get("/openapi.json")).json()
    for path in ("/oauth2/token", "/oauth/token"):
        body = _operation(document, path, "post")["requestBody"]["content"]["application/x-www-form-urlencoded"]
        grants = {form["properties"]["grant_type"]["const"]: form["required"] for form in body["schema"]["oneOf"]}
        assert grants == {
            "client_credentials": ["grant_type"],
            "authorization_code": ["grant_type", "code"],
            "refresh_token": ["grant_type", "refresh_token"],
        }
        assert body["schema"]["discriminator"] == {"propertyName": "grant_type"}


async def test_the_management_api_v3_is_documented(sqlite_platform: PlatformHarness) -> None:
    """Webhooks and subscriptions say their filters, paging, bodies and answers. Before, their
    operations declared no parameter, no body and only their success."""
    document = (await sqlite_platform.http.get("/openapi.json")).json()
    webhooks = _operation(document, "/v3/webhooks", "get")
    names = {p["name"] for p in webhooks["parameters"]}
    assert {"filter[name]", "filter[isEnabled]", "page[number]", "page[size]"} <= names
    assert _parameter(document, "/v3/webhooks", "get", "filter[isEnabled]")["enum"] == ["true", "false"]
    assert _parameter(document, "/v3/webhooks", "get", "page[size]")["maximum"] == 100
    assert _parameter(document, "/v3/subscriptions", "get", "filter[webhookId]")["format"] == "uuid"
    subscribe = _operation(document, "/v3/subscriptions", "post")
    assert {"202", "400", "401", "404", "409"} <= set(subscribe["responses"])
    schema = subscribe["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["data"]["properties"]["attributes"]["required"] == ["webhookId", "userId", "vehicleId"]
    for path, method in (("/v3/webhooks/{webhook_id}", "get"), ("/v3/subscriptions/{subscription_id}", "delete")):
        assert {"400", "401", "404"} <= set(_operation(document, path, method)["responses"])
    listed = await sqlite_platform.http.get(
        "/v3/subscriptions", params={"filter[vehicle.mode]": "test"}, headers=await sqlite_platform.auth_headers()
    )
    assert_error(listed, 400, "VALIDATION")  # the document's enum is live and simulated
