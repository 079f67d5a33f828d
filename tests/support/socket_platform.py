"""The platform on a real socket inside the test process, for clients that run as programs of
their own (the official Smartcar SDKs): uvicorn in a thread on a free port, first start writing
its ``.env`` as it does for a user, and every request it answers recorded (method, path, query,
status) so that a test can say which route a client reached and what it was answered."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from motorpool.platform.app import create_app
from motorpool.platform.settings import Settings

from .processes import free_port, read_env_file


@dataclass(frozen=True)
class Answered:
    """A request the platform answered."""

    method: str
    path: str
    query: str
    status: int

    def __str__(self) -> str:
        query = f"?{self.query}" if self.query else ""
        return f"{self.method} {self.path}{query} → {self.status}"


@dataclass
class Recorder:
    """ASGI middleware that notes each HTTP request with the status it is answered, at the
    moment the answer starts: before the client can have read it."""

    app: ASGIApp
    answered: list[Answered] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                query = scope.get("query_string", b"").decode("latin-1")
                with self.lock:
                    self.answered.append(
                        Answered(scope["method"], scope["path"], query, message["status"])
                    )
            await send(message)

        await self.app(scope, receive, noting)

    def mark(self) -> int:
        with self.lock:
            return len(self.answered)

    def since(self, mark: int) -> list[Answered]:
        with self.lock:
            return list(self.answered[mark:])


@dataclass
class SocketPlatform:
    """A running platform: its origin, its working directory (with the ``.env`` first start
    wrote) and the requests it answered."""

    origin: str
    workdir: Path
    recorder: Recorder

    def env(self) -> dict[str, str]:
        """What first start wrote to ``.env``, as a user finds it."""
        return read_env_file(self.workdir / ".env")

    @property
    def application_id(self) -> str:
        return self.env()["MOTORPOOL_APPLICATION_ID"]

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.env()['MOTORPOOL_ADMIN_TOKEN']}"}

    def http(self) -> httpx.AsyncClient:
        """A client of this platform (redirects are not followed)."""
        return httpx.AsyncClient(base_url=self.origin, timeout=30)

    async def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        """An admin API call that must succeed: its ``data``."""
        async with self.http() as http:
            response = await http.request(method, path, headers=self.admin_headers, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()["data"]

    async def app_token(self) -> str:
        """An application token of the development application (client credentials)."""
        env = self.env()
        async with self.http() as http:
            response = await http.post("/oauth2/token", data={
                "grant_type": "client_credentials",
                "client_id": env["SMARTCAR_CLIENT_ID"],
                "client_secret": env["SMARTCAR_CLIENT_SECRET"],
            })  # fmt: skip
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


@contextmanager
def platform_on_socket(workdir: Path, timeout: float = 30) -> Iterator[SocketPlatform]:
    """Serve a new platform (SQLite in ``workdir``) on a free loopback port until the block
    ends."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    settings = Settings(
        host="127.0.0.1",
        port=port,
        database_url=f"sqlite+aiosqlite:///{workdir / 'motorpool.db'}",
        public_url=origin,
        env_file=workdir / ".env",
        data_dir=workdir / ".motorpool",
        print_credentials=False,
        log_level="warning",
    )
    recorder = Recorder(create_app(settings))
    config = uvicorn.Config(
        recorder, host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"platform-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the platform stopped while starting (see the log above)")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the platform did not start in {timeout} s")
        time.sleep(0.02)
    try:
        yield SocketPlatform(origin, workdir, recorder)
    finally:
        server.should_exit = True
        thread.join(timeout)
