"""IAM: the token endpoint, JWTs, JWKS, metadata, introspection, revocation and the bearer check."""

from __future__ import annotations

import base64
import time

import jwt
import pytest

from motorpool.platform.services.oauth import generate_signing_key

from ..support.harness import PlatformHarness


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


async def test_client_credentials_form_body(platform: PlatformHarness) -> None:
    response = await platform.http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": platform.client_id, "client_secret": platform.client_secret},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert "refresh_token" not in body
    assert response.headers["cache-control"] == "no-store"
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "ES256" and header["typ"] == "at+jwt"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["client_id"] == platform.client_id
    assert claims["sub"] == platform.application_id
    assert claims["iss"] == platform.base_url
    assert claims["exp"] - claims["iat"] == 3600
    assert {"aud", "jti"} <= claims.keys()


async def test_client_credentials_json_body_and_basic(platform: PlatformHarness) -> None:
    as_json = await platform.http.post(
        "/oauth2/token",
        json={"grant_type": "client_credentials", "client_id": platform.client_id, "client_secret": platform.client_secret},
    )
    assert as_json.status_code == 200
    as_basic = await platform.http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic(platform.client_id, platform.client_secret)},
    )
    assert as_basic.status_code == 200
    assert as_json.json()["access_token"] != as_basic.json()["access_token"]


async def test_token_signature_verifies_against_jwks(platform: PlatformHarness) -> None:
    token = await platform.token()
    jwks = (await platform.http.get("/.well-known/jwks.json")).json()
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    assert "d" not in jwk, "the private half must never be published"
    key = jwt.PyJWK(jwk)
    claims = jwt.decode(token, key, algorithms=["ES256"], audience=platform.base_url + "/v3")
    assert claims["client_id"] == platform.client_id


async def test_server_metadata(platform: PlatformHarness) -> None:
    meta = (await platform.http.get("/.well-known/oauth-authorization-server")).json()
    assert meta["issuer"] == platform.base_url
    assert meta["token_endpoint"] == platform.base_url + "/oauth2/token"
    assert meta["jwks_uri"] == platform.base_url + "/.well-known/jwks.json"
    assert "client_credentials" in meta["grant_types_supported"]
    assert meta["code_challenge_methods_supported"] == ["S256"]


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        ({"client_id": "x", "client_secret": "y"}, 400, "invalid_request"),
        ({"grant_type": "password", "client_id": "x", "client_secret": "y"}, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials"}, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": "client_nope", "client_secret": "y"}, 401, "invalid_client"),
    ],
)
async def test_token_errors_are_oauth_shaped(
    sqlite_platform: PlatformHarness, data: dict[str, str], status: int, error: str
) -> None:
    response = await sqlite_platform.http.post("/oauth2/token", data=data)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["error_description"]


async def test_wrong_secret_is_refused(platform: PlatformHarness) -> None:
    response = await platform.http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": platform.client_id, "client_secret": platform.client_secret + "x"},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_malformed_bodies(sqlite_platform: PlatformHarness) -> None:
    http = sqlite_platform.http
    bad_json = await http.post("/oauth2/token", content=b"{nope", headers={"content-type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()["error"] == "invalid_request"
    xml = await http.post("/oauth2/token", content=b"<a/>", headers={"content-type": "application/xml"})
    assert xml.status_code == 400 and xml.json()["error"] == "invalid_request"
    bad_basic = await http.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic !!!"}
    )
    assert bad_basic.status_code == 401 and bad_basic.json()["error"] == "invalid_client"
    both = await http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "client_secret": "s"},
        headers={"Authorization": basic("a", "b")},
    )
    assert both.status_code == 400


async def test_secret_rotation_and_revocation_take_effect_at_once(platform: PlatformHarness) -> None:
    app_path = f"/admin/applications/{platform.application_id}"
    second = await platform.admin("POST", f"{app_path}/secrets")
    assert second["secret"].startswith("scs_")
    await platform.token(client_secret=second["secret"])
    third = await platform.admin("POST", f"{app_path}/secrets")
    refused = await platform.http.post(f"{app_path}/secrets", headers=platform.admin_headers)
    assert refused.status_code == 409, "at most three live secrets"
    await platform.admin("DELETE", f"{app_path}/secrets/{second['id']}")
    response = await platform.http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": platform.client_id, "client_secret": second["secret"]},
    )
    assert response.status_code == 401
    await platform.token(client_secret=third["secret"])
    await platform.token()


async def test_secrets_are_stored_hashed_and_last_use_recorded(platform: PlatformHarness) -> None:
    from motorpool.platform.store import repo

    await platform.token()
    await platform.platform.clients.flush_usage()
    async with platform.platform.sessions() as session:
        app = await repo.get_application(session, platform.application_id)
        assert app is not None
        stored = [s.secret_hash for s in app.secrets]
        assert platform.client_secret not in stored
        assert all(len(h) == 64 for h in stored)
        assert app.secrets[0].last_used_at is not None
    view = await platform.admin("GET", f"/admin/applications/{platform.application_id}")
    assert view["secrets"][0]["lastUsedAt"]
    assert platform.client_secret not in str(view)


async def test_introspection_and_revocation(platform: PlatformHarness) -> None:
    token = await platform.token()
    creds = {"client_id": platform.client_id, "client_secret": platform.client_secret}
    active = (await platform.http.post("/oauth2/introspect", data={"token": token, **creds})).json()
    assert active["active"] is True and active["client_id"] == platform.client_id
    unauthenticated = await platform.http.post("/oauth2/introspect", data={"token": token})
    assert unauthenticated.status_code == 401
    garbage = (await platform.http.post("/oauth2/introspect", data={"token": "abc", **creds})).json()
    assert garbage == {"active": False}

    headers = {"Authorization": f"Bearer {token}"}
    assert (await platform.http.get("/v3/connections", headers=headers)).status_code == 200
    # Revocation needs the client's credentials too: without them, or with a wrong secret, the
    # token keeps working.
    for refused in ({"token": token}, {"token": token, "client_id": platform.client_id, "client_secret": "wrong"}):
        answer = await platform.http.post("/oauth2/revoke", data=refused)
        assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    assert (await platform.http.get("/v3/connections", headers=headers)).status_code == 200
    revoked = await platform.http.post("/oauth2/revoke", data={"token": token, **creds})
    assert revoked.status_code == 200
    after = await platform.http.get("/v3/connections", headers=headers)
    assert after.status_code == 401
    assert after.json()["type"] == "AUTHENTICATION"
    inactive = (await platform.http.post("/oauth2/introspect", data={"token": token, **creds})).json()
    assert inactive == {"active": False}


async def test_other_clients_tokens_are_not_introspected_or_revoked(platform: PlatformHarness) -> None:
    other = await platform.admin("POST", "/admin/applications", json={"name": "Other", "redirectUris": []})
    token = await platform.token()
    creds = {"client_id": other["clientId"], "client_secret": other["clientSecret"]}
    assert (await platform.http.post("/oauth2/introspect", data={"token": token, **creds})).json() == {"active": False}
    await platform.http.post("/oauth2/revoke", data={"token": token, **creds})
    assert (await platform.http.get("/v3/connections", headers={"Authorization": f"Bearer {token}"})).status_code == 200


def _forge(platform: PlatformHarness, **changes: object) -> str:
    tokens = platform.platform.tokens
    now = int(time.time())
    claims = {
        "iss": tokens.issuer,
        "aud": tokens.audience,
        "sub": platform.application_id,
        "client_id": platform.client_id,
        "iat": now,
        "exp": now + 3600,
        "jti": "forged",
    }
    claims.update(changes)
    return jwt.encode(claims, tokens._private, algorithm="ES256", headers={"typ": "at+jwt", "kid": tokens.kid})  # type: ignore[arg-type]


async def test_bearer_check_refuses_bad_tokens(platform: PlatformHarness) -> None:
    good = await platform.token()
    header, payload, signature = good.split(".")
    tampered_payload = base64.urlsafe_b64encode(
        base64.urlsafe_b64decode(payload + "==").replace(b'"client_id"', b'"client_iX"')
    ).rstrip(b"=").decode()
    unsigned = (
        base64.urlsafe_b64encode(b'{"alg":"none","typ":"at+jwt"}').rstrip(b"=").decode() + "." + payload + "."
    )
    foreign_key = generate_signing_key()
    from cryptography.hazmat.primitives import serialization

    foreign_private = serialization.load_pem_private_key(foreign_key.private_pem.encode(), None)
    foreign = jwt.encode(
        jwt.decode(good, options={"verify_signature": False}),
        foreign_private,  # type: ignore[arg-type]
        algorithm="ES256",
        headers={"typ": "at+jwt", "kid": platform.platform.tokens.kid},
    )
    hs256 = jwt.encode({"sub": "x"}, "s" * 32, algorithm="HS256", headers={"typ": "at+jwt"})
    cases = {
        "missing": None,
        "not bearer": "Token " + good,
        "malformed": "Bearer not.a.jwt",
        "tampered": f"Bearer {header}.{tampered_payload}.{signature}",
        "alg none": "Bearer " + unsigned,
        "hs256": "Bearer " + hs256,
        "foreign key": "Bearer " + foreign,
        "expired": "Bearer " + _forge(platform, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
        "wrong audience": "Bearer " + _forge(platform, aud="https://elsewhere.example/v3"),
        "wrong issuer": "Bearer " + _forge(platform, iss="https://elsewhere.example"),
    }
    for case, value in cases.items():
        headers = {"Authorization": value} if value else {}
        response = await platform.http.get("/v3/connections", headers=headers)
        assert response.status_code == 401, case
        body = response.json()
        assert body["errors"][0]["type"] == "AUTHENTICATION", case
        assert body["errors"][0]["status"] == "401", case
        assert body["statusCode"] == 401 and body["requestId"] == response.headers["sc-request-id"], case
    ok = await platform.http.get("/v3/connections", headers={"Authorization": "Bearer " + good})
    assert ok.status_code == 200


def test_head_revision_constant_matches_the_migrations() -> None:
    from alembic.script import ScriptDirectory

    from motorpool.platform.store.db import HEAD_REVISION, alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


# --- the client cache ---------------------------------------------------------------------------


async def test_client_lookups_come_one_at_a_time_and_expiry_never_stalls(
    platform: PlatformHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fifty grants for a client nobody has looked up cause one lookup; once the record is older
    than its lifetime, grants are answered from it while one lookup refreshes it."""
    import asyncio

    from motorpool.platform.store import repo

    clients = platform.platform.clients
    lookups: list[str] = []
    real = repo.get_application_by_client_id

    async def counting(session: object, client_id: str) -> object:
        lookups.append(client_id)
        await asyncio.sleep(0.01)  # a slow database: the others arrive while it runs
        return await real(session, client_id)  # type: ignore[arg-type]

    monkeypatch.setattr(repo, "get_application_by_client_id", counting)
    clients.invalidate()
    records = await asyncio.gather(*(clients.authenticate(platform.client_id, platform.client_secret) for _ in range(50)))
    assert {r.client_id for r in records} == {platform.client_id} and lookups == [platform.client_id]

    monkeypatch.setattr(clients, "ttl", 0.0)
    lookups.clear()
    stale = await asyncio.gather(*(clients.authenticate(platform.client_id, platform.client_secret) for _ in range(50)))
    assert {r.client_id for r in stale} == {platform.client_id}
    assert lookups == [platform.client_id], "one refresh in the background, not one per grant"
    await asyncio.sleep(0.05)
    assert clients._cache[platform.client_id] is not records[0], "the refreshed record replaced the old one"


async def test_a_secret_revoked_while_a_lookup_reads_the_old_rows_stops_working(platform: PlatformHarness) -> None:
    """A grant between the revocation and its commit reads the secret as live; once the commit
    is made, the secret is refused all the same."""
    from motorpool.platform.errors import OAuthError

    platform_ = platform.platform
    second = await platform.admin("POST", f"/admin/applications/{platform.application_id}/secrets")
    async with platform_.sessions() as session, session.begin():
        await platform_.admin.revoke_secret(platform.application_id, second["id"], session=session)
        # Not yet committed: a lookup now sees the secret as live and caches what it read.
        await platform_.clients.authenticate(platform.client_id, second["secret"])
    with pytest.raises(OAuthError):
        await platform_.clients.authenticate(platform.client_id, second["secret"])
    refused = await platform.http.post("/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": platform.client_id, "client_secret": second["secret"]})
    assert refused.status_code == 401
