"""A request head that must arrive in time.

uvicorn closes idle keep-alive connections, but a client that sends part of a request head and
then nothing is held open for ever, one connection per slow client. This HTTP protocol (uvicorn's
httptools one, passed as ``uvicorn.Config(http=...)``) starts a timer when a connection opens or
a request begins and closes the connection when the head is not complete within
``HEAD_TIMEOUT`` seconds. The body is not timed: its reads are bounded by the app's own limits."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: Seconds a client has for the request line and headers of each request.
HEAD_TIMEOUT = 10.0


class HeadTimeoutProtocol(HttpToolsProtocol):
    head_timeout = HEAD_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()  # a later request on a kept-alive connection gets the same time

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
