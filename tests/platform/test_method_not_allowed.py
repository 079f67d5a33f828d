"""A method a path does not answer: 405 in the documented error shape, with an ``Allow`` header
naming every method of the path (RFC 9110 §15.5.6). Before, ``Allow`` named the methods of one
route only (``DELETE /admin/applications`` said ``GET`` though ``POST`` is served too), and a
path of the hot routes (IAM, JWKS, signals) asked with another method was answered 404."""

from __future__ import annotations

import re
import uuid

import pytest

from ..support.api import assert_error
from ..support.harness import PlatformHarness
from ..support.processes import Served

#: (method, path, the Allow header expected): paths of both route tables and both kinds.
CASES = [
    ("DELETE", "/admin/applications", "GET, POST"),
    ("PUT", "/admin/applications", "GET, POST"),
    ("PUT", "/v3/connections", "GET"),
    ("GET", "/oauth2/token", "POST"),
    ("DELETE", "/oauth2/token", "POST"),
    ("POST", "/.well-known/jwks.json", "GET, HEAD"),
    ("PATCH", "/.well-known/jwks.json", "GET, HEAD"),
    ("TRACE", "/v3/connections", "GET"),
]


@pytest.mark.parametrize(("method", "path", "allow"), CASES)
async def test_405_names_every_method_of_the_path(
    sqlite_platform: PlatformHarness, method: str, path: str, allow: str
) -> None:
    response = await sqlite_platform.http.request(method, path, headers=sqlite_platform.admin_headers)
    body = assert_error(response, 405, "VALIDATION", "METHOD_NOT_ALLOWED")
    assert method in body["description"] and path in body["description"]
    assert response.headers["allow"] == allow


async def test_allow_lists_the_methods_that_are_answered(sqlite_platform: PlatformHarness) -> None:
    """Each method ``Allow`` names is answered by something other than 404 or 405."""
    response = await sqlite_platform.http.request("PATCH", "/admin/applications", headers=sqlite_platform.admin_headers)
    for method in response.headers["allow"].split(", "):
        answered = await sqlite_platform.http.request(
            method, "/admin/applications", headers=sqlite_platform.admin_headers, json={"name": "allowed"}
        )
        assert answered.status_code not in (404, 405), (method, answered.text)


async def test_a_path_that_does_not_exist_is_still_404(sqlite_platform: PlatformHarness) -> None:
    response = await sqlite_platform.http.request("DELETE", "/v3/nowhere", headers=sqlite_platform.admin_headers)
    assert_error(response, 404, "RESOURCE_NOT_FOUND")
    assert "allow" not in response.headers


@pytest.mark.e2e
def test_a_real_server_answers_an_undeclared_method_with_405(served: Served) -> None:
    import httpx

    for method in ("PROPFIND", "TRACE", "DELETE"):
        response = httpx.request(method, f"{served.origin}/oauth2/token", timeout=10)
        assert response.status_code == 405, (method, response.text)
        assert response.headers["allow"] == "POST"
        assert response.json()["errors"][0]["code"] == "METHOD_NOT_ALLOWED"


def _sample(path: str) -> str:
    """A concrete path for a documented path template."""
    values = {"step": "login", "schedule_id": "sched_" + "0" * 24}
    return re.sub(r"\{([^}:]+)[^}]*\}", lambda m: values.get(m.group(1), str(uuid.uuid4())), path)


async def test_allow_names_exactly_the_documented_methods_of_every_path(sqlite_platform: PlatformHarness) -> None:
    """For every path of the OpenAPI document, a method it does not declare is 405 and ``Allow``
    names the methods the document declares (HEAD, which answers wherever GET does, aside)."""
    document = (await sqlite_platform.http.get("/openapi.json")).json()
    mismatches = []
    for template, operations in document["paths"].items():
        documented = {method.upper() for method in operations if method != "parameters"}
        response = await sqlite_platform.http.request("OPTIONS", _sample(template), headers=sqlite_platform.admin_headers)
        allowed = set(response.headers.get("allow", "").split(", ")) - {"HEAD", ""}
        if response.status_code != 405 or allowed != documented:
            mismatches.append((template, response.status_code, sorted(allowed), sorted(documented)))
    assert not mismatches


async def test_delete_on_a_schedule_kind_is_405_not_an_attempt_on_a_schedule(sqlite_platform: PlatformHarness) -> None:
    path = f"/v3/vehicles/{uuid.uuid4()}/charge-schedules/daily"
    response = await sqlite_platform.http.request("DELETE", path, headers=await sqlite_platform.auth_headers())
    assert_error(response, 405, "VALIDATION", "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "POST"
