"""Start-up stays light: the modules only some requests need are imported on first use, and
every route they bring is still reached by the first request that asks for it."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from motorpool.platform.api.fastlane import PlatformApp
from motorpool.platform.app import LAZY_ROUTES, create_app
from motorpool.platform.settings import Settings

from ..support.harness import PlatformHarness

#: Imported by the first request that needs them, never by `motorpool serve` itself.
LAZY_MODULES = (
    "fastapi",
    "motorpool.platform.api.iam_docs",
    "motorpool.platform.api.vehicles",
    "motorpool.platform.api.schemas",
    "motorpool.platform.api.admin",
    "motorpool.platform.api.commands",
    "motorpool.platform.api.connect",
    "motorpool.platform.services.connect",
    "motorpool.platform.services.grants",
    "jinja2",
    "alembic",
    "rich",
    "motorpool.sdk",
)


def _paths(route: Any) -> list[str]:
    """The paths a top-level route answers; an included router stands for its routes."""
    router = getattr(route, "original_router", None)
    if router is None:
        return [route.path]
    prefix = getattr(getattr(route, "include_context", None), "prefix", "")
    return [prefix + path for child in router.routes for path in _paths(child)]


@pytest.mark.parametrize("group", LAZY_ROUTES, ids=lambda g: g.install.__name__)
def test_a_lazy_group_answers_only_under_its_prefixes(group: Any, tmp_path: Any) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", env_file=None))
    routes, fast_routes = len(app.api.router.routes), len(app.fast_routes)
    group.install(app)
    added = [path for route in app.api.router.routes[routes:] for path in _paths(route)]
    added += [route.path for route in app.fast_routes[fast_routes:]]
    assert added, "the group installed no routes"
    for path in added:
        assert path.startswith(group.prefixes), f"{path} is outside {group.prefixes}"


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


async def test_lazy_routes_answer_their_first_request(sqlite_platform: PlatformHarness) -> None:
    app = sqlite_platform.app
    assert isinstance(app, PlatformApp)
    http = sqlite_platform.http
    pending = len(LAZY_ROUTES)
    assert len(app.lazy_routes) == pending
    assert (await http.get("/.well-known/jwks.json")).status_code == 200
    headers = await sqlite_platform.auth_headers()  # a token grant: the fast lane too
    assert len(app.lazy_routes) == pending, "a fast route installed a lazy group"
    wrong_method = await http.get("/oauth2/token")
    assert wrong_method.status_code == 405 and wrong_method.json()["statusCode"] == 405
    assert len(app.lazy_routes) == pending - 1
    listing = await http.get("/admin/applications", headers=sqlite_platform.admin_headers)
    assert listing.status_code == 200 and listing.json()["data"]
    page = await http.get(
        "/oauth/authorize",
        params={"response_type": "code", "client_id": sqlite_platform.client_id,
                "redirect_uri": sqlite_platform.redirect_uri, "mode": "test", "scope": "read_vehicle_info"},
    )
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert (await http.get("/static/does-not-exist.css")).status_code == 404
    assert len(app.lazy_routes) == 2  # the Vehicle API and its commands are still to come
    # The first Vehicle API request is a fast-lane read whose route its own group brings.
    user_id, vehicle_ids = await sqlite_platform.connect()
    signals = await http.get(f"/v3/vehicles/{vehicle_ids[0]}/signals", headers={**headers, "sc-user-id": user_id})
    assert signals.status_code == 200, signals.text
    assert app.lazy_routes == []
    lock = await http.post(f"/v3/vehicles/{vehicle_ids[0]}/commands/security/lock", headers=headers)
    assert lock.status_code < 500 and lock.headers["sc-request-id"]


def test_the_openapi_document_installs_every_group(tmp_path: Any) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", env_file=None))
    paths = app.openapi()["paths"]
    assert app.lazy_routes == []
    assert {"/oauth/authorize", "/admin/applications", "/v3/vehicles/{vehicle_id}/commands/security/lock"} <= set(paths)
    assert [tag["name"] for tag in app.openapi()["tags"]][:2] == ["IAM", "Connect"]
