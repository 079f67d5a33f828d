"""Secrets at rest and in logs: the signing key sealed in the database and rotatable, owner-only
files, distinct password salts, and first start's secrets kept out of logs."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, update

from motorpool.platform.services.bootstrap import FirstStart, print_first_start
from motorpool.platform.services.keys import KEK_FILE, SealedKeyError
from motorpool.platform.store.models import Owner, SigningKey

from ..support.databases import SqliteTemplate
from ..support.harness import PlatformHarness, running_platform


async def _stored_keys(platform: PlatformHarness) -> list[SigningKey]:
    async with platform.platform.sessions() as session:
        return list((await session.scalars(select(SigningKey).order_by(SigningKey.created_at))).all())


async def test_the_signing_key_is_stored_sealed(platform: PlatformHarness) -> None:
    keys = await _stored_keys(platform)
    assert keys and all("PRIVATE KEY" not in k.private_pem for k in keys)
    assert (await platform.http.get("/v3/connections", headers=await platform.auth_headers())).status_code == 200


async def test_a_rotation_signs_anew_and_old_tokens_keep_working(platform: PlatformHarness) -> None:
    import jwt

    old = await platform.token()
    rotated = await platform.admin("POST", "/admin/signing-keys")
    new = await platform.token()
    assert jwt.get_unverified_header(new)["kid"] == rotated["kid"] != jwt.get_unverified_header(old)["kid"]
    listed = await platform.admin("GET", "/admin/signing-keys")
    assert [k["signing"] for k in listed] == [False] * (len(listed) - 1) + [True]
    assert "PRIVATE" not in str(listed) and "d" not in {field for k in listed for field in k}
    jwks = (await platform.http.get("/.well-known/jwks.json")).json()["keys"]
    assert {k["kid"] for k in jwks} == {k["kid"] for k in listed}
    for token in (old, new):
        answer = await platform.http.get("/v3/connections", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
    assert len(await _stored_keys(platform)) == len(listed)


async def test_signing_keys_need_the_admin_token(sqlite_platform: PlatformHarness) -> None:
    for method in ("GET", "POST"):
        answer = await sqlite_platform.http.request(method, "/admin/signing-keys")
        assert answer.status_code == 401


async def test_a_clear_key_of_an_earlier_version_is_sealed_at_start(
    sqlite_template: SqliteTemplate, tmp_path: Path
) -> None:
    database = await sqlite_template.copy(tmp_path / "old.db")
    async with running_platform(database.url, first=database.first) as platform:
        token = await platform.token()
        keys = platform.platform.keys
        async with platform.platform.sessions() as session, session.begin():
            for key in (await session.scalars(select(SigningKey))).all():
                clear = keys.fernet.decrypt(key.private_pem.encode()).decode()
                await session.execute(update(SigningKey).where(SigningKey.kid == key.kid).values(private_pem=clear))
    async with running_platform(database.url, first=database.first) as platform:
        assert all("PRIVATE KEY" not in k.private_pem for k in await _stored_keys(platform))
        answer = await platform.http.get("/v3/connections", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200


async def test_another_key_encryption_key_is_refused_at_start(
    sqlite_template: SqliteTemplate, tmp_path: Path
) -> None:
    database = await sqlite_template.copy(tmp_path / "stolen.db")
    with pytest.raises(SealedKeyError, match="MOTORPOOL_KEY_ENCRYPTION_KEY"):
        async with running_platform(database.url, first=database.first, key_encryption_key="x" * 40):
            pass


async def test_without_a_given_key_an_owner_only_key_file_is_made(tmp_path: Path) -> None:
    data = tmp_path / "data"
    url = f"sqlite+aiosqlite:///{tmp_path / 'db' / 'motorpool.db'}"
    async with running_platform(url, key_encryption_key=None, data_dir=data) as platform:
        assert (await platform.http.get("/v3/connections", headers=await platform.auth_headers())).status_code == 200
    assert oct(data.stat().st_mode)[-3:] == "700"
    assert oct((data / KEK_FILE).stat().st_mode)[-3:] == "600"
    for made in (tmp_path / "db").glob("motorpool.db*"):
        assert oct(made.stat().st_mode)[-3:] == "600", made
    # The same file opens the same database again.
    async with running_platform(url, key_encryption_key=None, data_dir=data, first=platform.first) as again:
        assert (await again.http.get("/v3/connections", headers=await again.auth_headers())).status_code == 200


async def test_every_owner_has_a_salt_of_their_own(platform: PlatformHarness) -> None:
    async with platform.platform.sessions() as session:
        hashes = [o.password_hash for o in (await session.scalars(select(Owner))).all()]
    assert len(hashes) >= 3 and len(set(hashes)) == len(hashes)
    salts = {h.split("$")[4] for h in hashes}  # $argon2id$v=19$m=…,t=…,p=…$salt$hash
    assert len(salts) == len(hashes)


def _first(env_file: Path | None) -> FirstStart:
    return FirstStart(
        application_id="app", client_id="client_x", client_secret="scs_secret-value",
        redirect_uri="http://localhost:8000/exchange", management_token="mgmt-token-value",
        admin_token="adm_admin-token-value", owner_password="owner-password-value", env_file=env_file,
    )  # fmt: skip


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


SECRETS = ("scs_secret-value", "mgmt-token-value", "adm_admin-token-value", "owner-password-value")


def test_first_start_prints_secrets_only_to_a_terminal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    print_first_start(_first(env_file), "http://127.0.0.1:4000")
    assert not any(secret in log.getvalue() for secret in SECRETS)
    assert f"written to {env_file}" in log.getvalue() and "client_x" in log.getvalue()
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    print_first_start(_first(env_file), "http://127.0.0.1:4000")
    assert all(secret in terminal.getvalue() for secret in SECRETS)
