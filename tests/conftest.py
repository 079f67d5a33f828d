"""Shared fixtures: the real platform app, in-process, on SQLite and (when configured) PostgreSQL.

``platform`` yields a :class:`PlatformHarness`; tests talk to the app over ``httpx.ASGITransport``
with its lifespan running, exactly as a server would run it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from motorpool.platform.app import create_app
from motorpool.platform.services.bootstrap import FirstStart
from motorpool.platform.services.runtime import Platform
from motorpool.platform.settings import Settings

BASE_URL = "http://motorpool.test"
ADMIN_TOKEN = "adm_test-token-for-the-suite"
PG_URL = os.environ.get("MOTORPOOL_TEST_DATABASE_URL")


@dataclass
class PlatformHarness:
    app: FastAPI
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
        data = await self.admin("POST", f"/admin/applications/{application_id}/connections", json=body)
        return data["userId"], data["vehicleIds"]


def _settings(url: str, **overrides: Any) -> Settings:
    return Settings(
        database_url=url,
        public_url=BASE_URL,
        env_file=None,
        print_credentials=False,
        admin_token=ADMIN_TOKEN,
        **overrides,
    )


async def _reset_postgres(url: str) -> None:
    from sqlalchemy import text

    from motorpool.platform.store.db import create_engine

    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@asynccontextmanager
async def running_platform(url: str, **settings: Any) -> AsyncIterator[PlatformHarness]:
    """Start the app (lifespan and all) on ``url`` and yield a harness around it; ``settings``
    override the tests' defaults."""
    app = create_app(_settings(url, **settings))
    async with app.router.lifespan_context(app):
        platform: Platform = app.state.platform
        first = platform.first_start
        assert isinstance(first, FirstStart), "tests need a fresh database"
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            yield PlatformHarness(app=app, platform=platform, http=http, first=first)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip("PostgreSQL tests need MOTORPOOL_TEST_DATABASE_URL")
        asyncio.run(_reset_postgres(PG_URL))
        return PG_URL
    return f"sqlite+aiosqlite:///{tmp_path / 'motorpool.db'}"


@pytest.fixture
async def platform(database_url: str) -> AsyncIterator[PlatformHarness]:
    async with running_platform(database_url) as harness:
        yield harness


@pytest.fixture
async def sqlite_platform(tmp_path: Path) -> AsyncIterator[PlatformHarness]:
    """The platform on SQLite only, for tests whose subject is not the database."""
    async with running_platform(f"sqlite+aiosqlite:///{tmp_path / 'motorpool.db'}") as harness:
        yield harness
