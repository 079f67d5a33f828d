"""A method a path does not answer: 405 in the documented error shape, with an ``Allow`` header
naming every method of the path (RFC 9110 §15.5.6). Before, ``Allow`` named the methods of one
route only (``DELETE /admin/applications`` said ``GET`` though ``POST`` is served too), and a
path of the hot routes (IAM, JWKS, signals) asked with another method was answered 404."""

from __future__ import annotations

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
