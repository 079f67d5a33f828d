"""A webhook receiver on a real loopback socket (aiohttp), as an application runs one: it
answers VERIFY with the official SDK's ``hash_challenge``, records every delivery's headers and
exact bytes, and answers what a test tells it to."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from smartcar import hash_challenge


@dataclass
class Delivery:
    headers: dict[str, str]
    raw: bytes

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.raw))


@dataclass
class Receiver:
    management_token: str
    #: Status answered to events (not VERIFY); a test changes it to make attempts fail.
    status: int = 200
    #: Answer VERIFY with a wrong challenge.
    wrong_challenge: bool = False
    #: Seconds to wait before answering events (a slow callback, or one a worker dies waiting on).
    delay: float = 0.0
    deliveries: list[Delivery] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        delivery = Delivery({k.lower(): v for k, v in request.headers.items()}, raw)
        async with self._arrived:
            self.deliveries.append(delivery)
            self._arrived.notify_all()
        event = delivery.event
        if event.get("eventType") == "VERIFY":
            challenge = event["data"]["challenge"]
            answer = "0" * 64 if self.wrong_challenge else hash_challenge(self.management_token, challenge)
            return web.json_response({"challenge": answer})
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.Response(status=self.status)

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, shutdown_timeout=1.0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/webhooks"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def events(self, event_type: str | None = None) -> list[Delivery]:
        return [d for d in self.deliveries if event_type is None or d.event["eventType"] == event_type]

    async def wait_for(self, count: int, event_type: str | None = None, timeout: float = 15) -> list[Delivery]:
        """Wait until ``count`` deliveries of ``event_type`` arrived; all of them."""

        def enough() -> bool:
            return len(self.events(event_type)) >= count

        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(enough), timeout)
        return self.events(event_type)
