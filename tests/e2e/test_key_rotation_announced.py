"""A signing-key rotation reaches every process at once: two real ``motorpool serve`` processes
on one PostgreSQL database (polling set to a minute), a rotation made through one. Before, the
other process learnt of the new key only on its next poll, and until then refused the tokens
the new key signed and left it out of its JWKS."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import httpx
import jwt
import pytest

from ..support.requirements import required_env
from ..support.scale_out import Pair, fresh_database, time_until, two_processes


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    database = required_env("MOTORPOOL_TEST_DATABASE_URL", "PostgreSQL")
    redis = required_env("MOTORPOOL_TEST_REDIS_URL", "Redis")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with (
        fresh_database(database, f"keyrotation_{worker}") as url,
        two_processes(
            tmp_path_factory.mktemp("key-rotation"), url, redis,
            # Two data folders: one key-encryption key for both, so each can open the keys.
            {"MOTORPOOL_KEY_ENCRYPTION_KEY": secrets.token_urlsafe(32)},
        ) as pair,
    ):
        yield pair


def test_a_rotated_key_verifies_on_the_other_process_at_once(pair: Pair) -> None:
    env = pair.env()
    admin = {"Authorization": f"Bearer {env['MOTORPOOL_ADMIN_TOKEN']}"}
    credentials = {
        "grant_type": "client_credentials",
        "client_id": env["SMARTCAR_CLIENT_ID"],
        "client_secret": env["SMARTCAR_CLIENT_SECRET"],
    }
    with httpx.Client(base_url=pair.first.origin) as first, httpx.Client(base_url=pair.second.origin) as second:
        for _ in range(3):  # each rotation, not only the first, is announced
            rotated = first.post("/admin/signing-keys", headers=admin)
            assert rotated.status_code == 201, rotated.text
            kid = rotated.json()["data"]["kid"]
            token = first.post("/oauth2/token", data=credentials).json()["access_token"]
            assert jwt.get_unverified_header(token)["kid"] == kid
            headers = {"Authorization": f"Bearer {token}"}

            def accepted(h: dict[str, str] = headers) -> bool:
                return second.get("/v3/connections", headers=h).status_code == 200

            # Polling is a minute away: only the announcement can make this true in time. The
            # bound is generous (a loaded machine has taken 3.7 s) and still far below the poll.
            assert time_until(accepted, timeout=20.0) < 15.0
            published = {key["kid"] for key in second.get("/.well-known/jwks.json").json()["keys"]}
            assert kid in published
