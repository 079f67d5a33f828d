"""The platform app in-process, as tests drive it: started with its lifespan on a database URL,
reached through ``httpx.ASGITransport``, and wrapped in a :class:`PlatformHarness`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette

from motorpool.platform.app import create_app
from motorpool.platform.services.bootstrap import FirstStart
from motorpool.platform.services.runtime import Platform
from motorpool.platform.settings import Settings

BASE_URL = "http://motorpool.test"
ADMIN_TOKEN = "adm_test-token-for-the-suite"
#: Seals the signing keys of the suite's databases (a key file in the working folder otherwise).
KEY_ENCRYPTION_KEY = "kek-of-the-test-suite-0123456789abcdef"


@dataclass
class PlatformHarness:
    app: Starlette
    platform: Platform
    http: httpx.AsyncClient
    first: FirstStart
    base_url: str = BASE_URL
    admin_token: str = ADMIN_TOKEN

    @property
    def client_id(self) -> str:
        return self.first.client_id

    @property
    def client_secret(self) -> str:
        return self.first.client_secret

    @property
    def application_id(self) -> str:
        return self.first.application_id

    @property
    def redirect_uri(self) -> str:
        return self.first.redirect_uri

    @property
    def management_token(self) -> str:
        """The development application's management token, as first start wrote it."""
        return self.first.management_token

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    async def token(self, client_id: str | None = None, client_secret: str | None = None) -> str:
        response = await self.http.post(
            "/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id or self.client_id,
                "client_secret": client_secret or self.client_secret,
            },
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    async def auth_headers(self, user_id: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {await self.token()}"}
        if user_id:
            headers["sc-user-id"] = user_id
        return headers

    async def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, path, headers=self.admin_headers, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()["data"]

    async def connect(
        self,
        email: str = "owner@example.com",
        mode: str = "simulated",
        scope: list[str] | None = None,
        vehicles: list[str] | None = None,
        client_id: str | None = None,
        external_id: str | None = None,
    ) -> tuple[str, list[str]]:
        """Grant access through the admin API's direct connect (what Connect stores)."""
        body: dict[str, Any] = {"email": email, "mode": mode}
        if scope is not None:
            body["permissions"] = scope
        if vehicles is not None:
            body["vehicleIds"] = vehicles
        if external_id is not None:
            body["externalId"] = external_id
        application_id = self.application_id
        if client_id is not None:
            apps = await self.admin("GET", "/admin/applications")
            application_id = next(a["id"] for a in apps if a["clientId"] == client_id)
        data = await self.admin(
            "POST", f"/admin/applications/{application_id}/connections", json=body
        )
        return data["userId"], data["vehicleIds"]


def platform_settings(url: str, **overrides: Any) -> Settings:
    """The tests' settings: no env file, nothing printed, a known admin token."""
    return Settings(
        database_url=url,
        public_url=BASE_URL,
        env_file=None,
        print_credentials=False,
        **({"admin_token": ADMIN_TOKEN, "key_encryption_key": KEY_ENCRYPTION_KEY} | overrides),
    )


@asynccontextmanager
async def running_platform(
    url: str, *, first: FirstStart | None = None, **settings: Any
) -> AsyncIterator[PlatformHarness]:
    """Start the app (lifespan and all) on ``url`` and yield a harness around it; ``settings``
    override the tests' defaults.

    Without ``first`` the database must be empty, and the first start it gets is the harness's.
    With ``first`` the database is a copy of one that already had its first start (see
    ``support.databases``), and ``first`` is what that start returned."""
    app = create_app(platform_settings(url, **settings))
    async with app.router.lifespan_context(app):
        platform: Platform = app.state.platform
        if first is None:
            assert isinstance(platform.first_start, FirstStart), "this test needs an empty database"
            first = platform.first_start
        else:
            assert platform.first_start is None, "a prepared database had no first start"
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            yield PlatformHarness(app=app, platform=platform, http=http, first=first)
