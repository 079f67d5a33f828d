"""User grants as an application gets them: a Connect code walked through the pages, exchanged at
the token endpoint for a user token and a refresh token, and refreshed."""

from __future__ import annotations

from typing import Any

import httpx

from motorpool.platform.store import repo

from .connect_pages import go_through_connect, query_of
from .harness import PlatformHarness

#: What the grants of these tests ask for.
USER_SCOPE = "read_vehicle_info read_odometer read_battery read_charge read_location read_security control_security"


async def connect_code(
    platform: PlatformHarness,
    *,
    email: str = "owner@example.com",
    mode: str = "test",
    vehicles: list[str] | None = None,
    permissions: list[str] | None = None,
    **params: str,
) -> dict[str, str]:
    """Walk Connect as an owner approving ``permissions`` for ``vehicles`` (everything offered
    when not given); the redirect's query (``code``, ``user_id``, ``state``). With ``vehicles``,
    the brand picked is theirs: Connect offers the cars of the brand chosen."""
    query = {
        "response_type": "code",
        "client_id": platform.client_id,
        "redirect_uri": platform.redirect_uri,
        "scope": USER_SCOPE,
        "mode": mode,
        "state": "s",
        **params,
    }
    brand = None
    if vehicles:
        async with platform.platform.sessions() as session:
            brand = (await repo.get_vehicles(session, vehicles[:1]))[0].make
    first = await platform.http.get("/oauth/authorize", params=query)
    last = await go_through_connect(
        platform.http, first, email=email, vehicles=vehicles, permissions=permissions, brand=brand
    )
    answer = query_of(last)
    assert "code" in answer, answer
    return answer


async def token_request(
    platform: PlatformHarness,
    form: dict[str, str],
    *,
    path: str = "/oauth2/token",
    client: tuple[str, str] | None = None,
) -> httpx.Response:
    """POST ``form`` to the token endpoint with HTTP Basic client credentials, as the official
    SDKs do."""
    client_id, secret = client or (platform.client_id, platform.client_secret)
    return await platform.http.post(path, data=form, auth=(client_id, secret))


async def exchange(platform: PlatformHarness, code: str, **extra: str) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": platform.redirect_uri}
    return await token_request(platform, form | extra)


async def refresh(platform: PlatformHarness, refresh_token: str, **options: Any) -> httpx.Response:
    return await token_request(platform, {"grant_type": "refresh_token", "refresh_token": refresh_token}, **options)


async def user_grant(platform: PlatformHarness, **connect: Any) -> dict[str, Any]:
    """A Connect code exchanged: the token endpoint's answer."""
    answer = await exchange(platform, (await connect_code(platform, **connect))["code"])
    assert answer.status_code == 200, answer.text
    return dict(answer.json())
