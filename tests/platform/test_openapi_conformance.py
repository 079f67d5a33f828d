"""Where the OpenAPI document and the server disagreed (found by Schemathesis's conformance
checks): admin operations answered 404 and 409 without documenting them."""

from __future__ import annotations

from ..support.harness import PlatformHarness


async def test_admin_operations_document_their_errors(sqlite_platform: PlatformHarness) -> None:
    document = (await sqlite_platform.http.get("/openapi.json")).json()
    for path, operations in document["paths"].items():
        if not path.startswith("/admin/"):
            continue
        for method, operation in operations.items():
            assert {"401", "404", "409"} <= set(operation["responses"]), (method, path)
    missing = await sqlite_platform.http.delete(
        "/admin/applications/00000000-0000-0000-0000-000000000000/redirect-uris",
        params={"uri": "https://x.example/cb"}, headers=sqlite_platform.admin_headers,
    )  # fmt: skip
    assert missing.status_code == 404
