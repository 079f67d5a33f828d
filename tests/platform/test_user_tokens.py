"""User tokens: a Connect code exchanged for a two-hour user token and a 60-day refresh token,
refreshes, single use with revocation on replay, and user tokens on the Vehicle API v3."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import update

from motorpool.platform.services.oauth import hash_code
from motorpool.platform.store.models import RefreshToken

from ..support.api import assert_error
from ..support.grants import connect_code, exchange, refresh, token_request, user_grant
from ..support.harness import PlatformHarness


async def _signals(platform: PlatformHarness, token: str, vehicle_id: str, **headers: str) -> int:
    response = await platform.http.get(
        f"/v3/vehicles/{vehicle_id}/signals/odometer-traveleddistance",
        headers={"Authorization": f"Bearer {token}", **headers},
    )
    return response.status_code


async def test_a_code_becomes_a_user_token_and_a_refresh_token(platform: PlatformHarness) -> None:
    redirect = await connect_code(platform)
    answer = await exchange(platform, redirect["code"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 7200
    assert body["refresh_token"].startswith("rt_") and body["user_id"] == redirect["user_id"]
    assert body["vehicle_ids"] and "read_odometer" in body["scope"].split()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == redirect["user_id"] and claims["application_id"] == platform.application_id
    assert claims["exp"] - claims["iat"] == 7200
    assert platform.base_url + "/v2.0" in claims["aud"] and platform.base_url + "/v3" in claims["aud"]


async def test_smartcars_v2_token_path_answers_the_same_grants(platform: PlatformHarness) -> None:
    code = (await connect_code(platform))["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": platform.redirect_uri}
    answer = await token_request(platform, form, path="/oauth/token")
    assert answer.status_code == 200 and answer.json()["refresh_token"]
    again = await refresh(platform, answer.json()["refresh_token"], path="/oauth/token")
    assert again.status_code == 200, again.text
    app_token = await token_request(platform, {"grant_type": "client_credentials"}, path="/oauth/token")
    assert app_token.status_code == 200 and app_token.json()["expires_in"] == 3600


async def test_a_user_token_reads_and_commands_on_v3_without_sc_user_id(platform: PlatformHarness) -> None:
    grant = await user_grant(platform)
    token, vehicle_id = grant["access_token"], grant["vehicle_ids"][0]
    assert await _signals(platform, token, vehicle_id) == 200
    assert await _signals(platform, token, vehicle_id, **{"sc-user-id": grant["user_id"]}) == 200
    other_user = await _signals(platform, token, vehicle_id, **{"sc-user-id": "725146a3-69f4-46c8-965d-54b3b6f81eb7"})
    assert other_user == 400
    listing = await platform.http.get(f"/v3/vehicles/{vehicle_id}/signals", headers={"Authorization": f"Bearer {token}"})
    assert listing.status_code == 200 and listing.json()["data"]
    vehicle = await platform.http.get(f"/v3/vehicles/{vehicle_id}", headers={"Authorization": f"Bearer {token}"})
    assert vehicle.status_code == 200 and vehicle.json()["id"] == vehicle_id
    lock = await platform.http.post(
        f"/v3/vehicles/{vehicle_id}/commands/security/lock", headers={"Authorization": f"Bearer {token}"}
    )
    assert lock.status_code in (200, 202), lock.text


async def test_an_application_token_still_needs_sc_user_id(platform: PlatformHarness) -> None:
    grant = await user_grant(platform)
    response = await platform.http.get(
        f"/v3/vehicles/{grant['vehicle_ids'][0]}/signals/odometer-traveleddistance",
        headers=await platform.auth_headers(),
    )
    assert_error(response, 400, "VALIDATION", "MISSING_PARAMETER")


async def test_a_user_token_sees_its_own_users_connections_only(platform: PlatformHarness) -> None:
    mine = await user_grant(platform, email="me@example.com")
    other = await user_grant(platform, email="someone-else@example.com")
    headers = {"Authorization": f"Bearer {mine['access_token']}"}
    listing = (await platform.http.get("/v3/connections", headers=headers)).json()
    assert {c["userId"] for c in listing["connections"]} == {mine["user_id"]}
    assert listing["meta"]["totalCount"] == len(mine["vehicle_ids"])
    foreign = await platform.http.get(f"/v3/connections/{other['vehicle_ids'][0]}", headers=headers)
    assert foreign.status_code == 404
    refused = await platform.http.delete(f"/v3/users/{other['user_id']}", headers=headers)
    assert refused.status_code == 404
    assert await _signals(platform, other["access_token"], other["vehicle_ids"][0]) == 200


async def test_a_replayed_code_fails_and_revokes_what_it_issued(platform: PlatformHarness) -> None:
    code = (await connect_code(platform))["code"]
    first = (await exchange(platform, code)).json()
    assert await _signals(platform, first["access_token"], first["vehicle_ids"][0]) == 200
    replay = await exchange(platform, code)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert await _signals(platform, first["access_token"], first["vehicle_ids"][0]) == 401
    refreshed = await refresh(platform, first["refresh_token"])
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


async def test_a_refresh_gives_a_new_pair_and_the_old_one_lives_a_minute(platform: PlatformHarness) -> None:
    grant = await user_grant(platform)
    fresh = await refresh(platform, grant["refresh_token"])
    assert fresh.status_code == 200, fresh.text
    pair = fresh.json()
    assert pair["refresh_token"] != grant["refresh_token"] and pair["access_token"] != grant["access_token"]
    assert pair["expires_in"] == 7200 and "vehicle_ids" not in pair
    assert await _signals(platform, pair["access_token"], grant["vehicle_ids"][0]) == 200
    retry = await refresh(platform, grant["refresh_token"])  # a retry after a lost answer
    assert retry.status_code == 200
    async with platform.platform.sessions() as session, session.begin():
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == hash_code(grant["refresh_token"]))
            .values(used_at=datetime.now(UTC) - timedelta(minutes=2))
        )
    late = await refresh(platform, grant["refresh_token"])
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
    assert (await refresh(platform, pair["refresh_token"])).status_code == 200


async def test_an_expired_refresh_token_is_refused(platform: PlatformHarness) -> None:
    grant = await user_grant(platform)
    async with platform.platform.sessions() as session, session.begin():
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == hash_code(grant["refresh_token"]))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    expired = await refresh(platform, grant["refresh_token"])
    assert expired.status_code == 400 and "expired" in expired.json()["error_description"]


async def test_no_refresh_once_the_user_has_no_connection(platform: PlatformHarness) -> None:
    grant = await user_grant(platform)
    app_headers = await platform.auth_headers(grant["user_id"])
    for vehicle_id in grant["vehicle_ids"]:
        deleted = await platform.http.delete(f"/v3/connections/{vehicle_id}", headers=app_headers)
        assert deleted.status_code == 204
    assert await _signals(platform, grant["access_token"], grant["vehicle_ids"][0]) == 404
    refused = await refresh(platform, grant["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


async def test_refresh_tokens_belong_to_their_application(platform: PlatformHarness) -> None:
    grant = await user_grant(platform)
    other = await platform.admin("POST", "/admin/applications", json={"name": "Other", "redirectUris": []})
    stolen = await refresh(platform, grant["refresh_token"], client=(other["clientId"], other["clientSecret"]))
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    app_token = await token_request(platform, {"grant_type": "client_credentials"}, client=(other["clientId"], other["clientSecret"]))
    other_headers = {"Authorization": f"Bearer {app_token.json()['access_token']}", "sc-user-id": grant["user_id"]}
    read = await platform.http.get(f"/v3/vehicles/{grant['vehicle_ids'][0]}/signals", headers=other_headers)
    assert read.status_code == 404


@pytest.mark.parametrize("bearer", ["management-token", "refresh-token", "garbage"])
async def test_only_access_tokens_open_the_vehicle_api(platform: PlatformHarness, bearer: str) -> None:
    grant = await user_grant(platform)
    app = await platform.admin("GET", f"/admin/applications/{platform.application_id}")
    token = {"management-token": app["managementToken"], "refresh-token": grant["refresh_token"],
             "garbage": "x.y.z"}[bearer]
    assert await _signals(platform, token, grant["vehicle_ids"][0]) == 401


async def test_redirect_uri_must_be_the_authorizations(platform: PlatformHarness) -> None:
    code = (await connect_code(platform))["code"]
    wrong = await exchange(platform, code, redirect_uri="http://localhost:9999/elsewhere")
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    # The failed attempt burnt the code: the right redirect URI comes too late.
    assert (await exchange(platform, code)).json()["error"] == "invalid_grant"
    # The default redirect URI (the first registered) may be left out, as the SDKs do since 6.18.
    form = {"grant_type": "authorization_code", "code": (await connect_code(platform))["code"]}
    assert (await token_request(platform, form)).status_code == 200


async def test_another_applications_client_cannot_burn_a_code(platform: PlatformHarness) -> None:
    code = (await connect_code(platform))["code"]
    other = await platform.admin("POST", "/admin/applications", json={"name": "Other", "redirectUris": []})
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": platform.redirect_uri}
    stranger = await token_request(platform, form, client=(other["clientId"], other["clientSecret"]))
    assert stranger.status_code == 400 and stranger.json()["error"] == "invalid_grant"
    assert (await exchange(platform, code)).status_code == 200


async def test_revoking_a_refresh_token_revokes_its_grant(platform: PlatformHarness) -> None:
    grant = await user_grant(platform)
    revoked = await platform.http.post(
        "/oauth2/revoke", data={"token": grant["refresh_token"]}, auth=(platform.client_id, platform.client_secret)
    )
    assert revoked.status_code == 200
    assert (await refresh(platform, grant["refresh_token"])).status_code == 400
    assert await _signals(platform, grant["access_token"], grant["vehicle_ids"][0]) == 401


async def test_introspection_names_a_user_tokens_user_and_scope(platform: PlatformHarness) -> None:
    grant = await user_grant(platform)
    answer = await platform.http.post(
        "/oauth2/introspect", data={"token": grant["access_token"]}, auth=(platform.client_id, platform.client_secret)
    )
    body = answer.json()
    assert body["active"] and body["sub"] == grant["user_id"] and body["scope"] == grant["scope"]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "rt_nope"}, "invalid_grant"),
        ({"grant_type": "authorization_code"}, "invalid_request"),
        ({"grant_type": "authorization_code", "code": "nope"}, "invalid_grant"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
    ],
)
async def test_bad_grants_are_oauth_errors(platform: PlatformHarness, form: dict[str, str], error: str) -> None:
    answer = await token_request(platform, form)
    assert answer.status_code == 400 and answer.json()["error"] == error
