"""A user access token for .ci/fuzz: an owner walks Connect (test mode) through its pages with
httpx, approving everything, and the code is exchanged at the token endpoint, as an application
does. Prints the access token.

Usage: user_token.py ORIGIN CLIENT_ID CLIENT_SECRET REDIRECT_URI"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.connect_pages import go_through_connect, query_of  # noqa: E402
from tests.support.grants import USER_SCOPE  # noqa: E402


async def user_token(origin: str, client_id: str, secret: str, redirect_uri: str) -> str:
    async with httpx.AsyncClient(base_url=origin, timeout=20) as browser:
        query = {
            "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
            "scope": USER_SCOPE, "mode": "test", "state": "fuzz",
        }  # fmt: skip
        first = await browser.get("/oauth/authorize", params=query)
        answer = query_of(await go_through_connect(browser, first, email="fuzz-v2@example.com"))
        grant = await browser.post(
            "/oauth2/token",
            data={"grant_type": "authorization_code", "code": answer["code"], "redirect_uri": redirect_uri},
            auth=(client_id, secret),
        )
        grant.raise_for_status()
        return str(grant.json()["access_token"])


if __name__ == "__main__":
    print(asyncio.run(user_token(*sys.argv[1:5])))
