"""Start-up stays light: the hot routes (IAM, signal reads) answer without FastAPI, which is
built with every other route by the first request that reaches it."""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount

from motorpool.platform.app import BuiltOnFirstUse

from ..support.harness import PlatformHarness

#: Imported by the first request that needs them, never by `motorpool serve` itself.
LAZY_MODULES = (
    "fastapi",
    "motorpool.platform.api.iam_docs",
    "motorpool.platform.api.vehicles",
    "motorpool.platform.api.schemas",
    "motorpool.platform.api.admin",
    "motorpool.platform.api.commands",
    "motorpool.platform.api.management",
    "motorpool.platform.api.compatibility",
    "motorpool.platform.api.connect",
    "motorpool.platform.services.connect",
    "motorpool.platform.services.connect_requests",
    "motorpool.platform.api.connect_pages",
    "jinja2",
    "alembic",
    "rich",
    "motorpool.sdk",
)


def test_a_later_start_imports_no_lazy_module(tmp_path: Any) -> None:
    # Fresh interpreters: this test process has long imported everything.
    script = (
        "import asyncio, sys, motorpool.cli, uvicorn\n"
        "from motorpool.platform.app import create_app\n"
        "from motorpool.platform.settings import Settings\n"
        f"settings = Settings(database_url='sqlite:///{tmp_path / 'x.db'}', env_file=None, print_credentials=False)\n"
        "async def start() -> None:\n"
        "    app = create_app(settings)\n"
        "    async with app.router.lifespan_context(app):\n"
        "        pass\n"
        "asyncio.run(start())\n"
        f"print(' '.join(m for m in {LAZY_MODULES!r} if m in sys.modules))\n"
    )
    first = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["alembic"]  # an empty database is migrated
    later = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert later.stdout.split() == []


def _rest_api(app: Starlette) -> BuiltOnFirstUse:
    return next(route.app for route in app.routes if isinstance(route, Mount))


async def test_the_hot_routes_answer_before_fastapi_is_built(sqlite_platform: PlatformHarness) -> None:
    rest = _rest_api(sqlite_platform.app)
    http = sqlite_platform.http
    assert not rest.built
    assert (await http.get("/.well-known/jwks.json")).status_code == 200
    headers = await sqlite_platform.auth_headers()  # a token grant
    assert not rest.built, "a hot route built the FastAPI app"
    wrong_method = await http.get("/oauth2/token")  # FastAPI knows the path, from its docs
    assert wrong_method.status_code == 405 and wrong_method.json()["statusCode"] == 405
    assert rest.built
    assert wrong_method.headers["sc-request-id"] == wrong_method.json()["requestId"]
    listing = await http.get("/admin/applications", headers=sqlite_platform.admin_headers)
    assert listing.status_code == 200 and listing.json()["data"]
    page = await http.get(
        "/oauth/authorize",
        params={"response_type": "code", "client_id": sqlite_platform.client_id,
                "redirect_uri": sqlite_platform.redirect_uri, "mode": "test", "scope": "read_vehicle_info"},
    )
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert (await http.get("/static/does-not-exist.css")).status_code == 404
    user_id, vehicle_ids = await sqlite_platform.connect()
    signals = await http.get(f"/v3/vehicles/{vehicle_ids[0]}/signals", headers={**headers, "sc-user-id": user_id})
    assert signals.status_code == 200, signals.text
    lock = await http.post(f"/v3/vehicles/{vehicle_ids[0]}/commands/security/lock", headers=headers)
    assert lock.status_code < 500
    ids = [signals.headers["sc-request-id"], lock.headers["sc-request-id"], wrong_method.headers["sc-request-id"]]
    assert all(str(uuid.UUID(i)) == i and uuid.UUID(i).version == 4 for i in ids) and len(set(ids)) == 3


async def test_the_openapi_document_describes_hot_and_mounted_routes(sqlite_platform: PlatformHarness) -> None:
    document = (await sqlite_platform.http.get("/openapi.json")).json()
    assert {"/oauth2/token", "/v3/vehicles/{vehicle_id}/signals", "/oauth/authorize", "/admin/applications",
            "/v3/vehicles/{vehicle_id}/commands/security/lock"} <= set(document["paths"])
    assert [tag["name"] for tag in document["tags"]][:2] == ["IAM", "Connect"]


async def test_every_reference_in_the_openapi_document_resolves(sqlite_platform: PlatformHarness) -> None:
    document = (await sqlite_platform.http.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]

    def references(node: object) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return found + [ref for value in node.values() for ref in references(value)]
        if isinstance(node, list):
            return [ref for item in node for ref in references(item)]
        return []

    unresolved = {
        ref for ref in references(document)
        if not ref.startswith("#/components/schemas/") or ref.rsplit("/", 1)[1] not in schemas
    }
    assert not unresolved
