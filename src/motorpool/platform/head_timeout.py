"""A request that must arrive in time and within its size.

uvicorn closes idle keep-alive connections, but a client that sends part of a request head and
then nothing is held open for ever, one connection per slow client; a client that sends its body
a byte at a time is held as long, and one that sends a body of any size has it buffered. This
HTTP protocol (uvicorn's httptools one, passed as ``uvicorn.Config(http=...)``) bounds all three:

- the head (request line and headers) must be complete within ``HEAD_TIMEOUT`` seconds of the
  connection opening or the request beginning, or the connection is closed;
- the body must be complete within ``BODY_TIMEOUT`` seconds of the head: an application reading
  it is answered 408 and the connection closed, and a body nobody reads closes the connection
  when its time is up;
- the body may not exceed ``MAX_BODY`` bytes: a larger ``Content-Length`` is answered 413 before
  the application runs, and a chunked body is answered 413 as soon as it grows past the limit.

408 and 413 are answered in the documented error shape, and close the connection (the rest of
the body is not read). So is the 400 of a request the HTTP parser refuses (a method it does not
know, a malformed request line or header): uvicorn's own answer to it is plain text."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, cast

import orjson
from uvicorn._types import ASGI3Application
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from .errors import ApiError

#: Seconds a client has for the request line and headers of each request.
HEAD_TIMEOUT = 10.0
#: Seconds a client has, after the head, for the whole body of a request.
BODY_TIMEOUT = 30.0
#: The largest request body accepted, in bytes (the largest the API takes is a few kilobytes).
MAX_BODY = 1024 * 1024

ASGIApp = Any


class BodyTooLarge(ApiError):
    status = 413
    type = "VALIDATION"
    code = "PAYLOAD_TOO_LARGE"
    suggested_user_message = "The request was not valid."


class BodyTooSlow(ApiError):
    status = 408
    type = "VALIDATION"
    code = "REQUEST_TIMEOUT"
    suggested_user_message = "The request was not valid."


class MalformedRequest(ApiError):
    status = 400
    type = "VALIDATION"
    code = "INVALID_INPUT_FORMAT"
    suggested_user_message = "The request was not valid."


def error_response(error: ApiError, request_id: str | None = None) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The body and headers of ``error`` answered by the protocol itself, closing the connection."""
    request_id = request_id or str(uuid.uuid4())
    body = orjson.dumps(error.body(request_id))
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"sc-request-id", request_id.encode()),
        (b"connection", b"close"),
    ]
    return body, headers


class _Refused(BaseException):
    """Ends an application whose request was answered 408 or 413 by the protocol. A
    BaseException, so that no error handler of the application answers it a second time."""


def _declared_length(scope: dict[str, Any]) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the parser has refused it already
    return None


def _has_body(scope: Any) -> bool:
    for name, value in scope.get("headers", ()):
        if (name == b"content-length" and value.strip() != b"0") or name == b"transfer-encoding":
            return True
    return False


class _BoundedBody:
    """The application of one request, given a receive that enforces the size and the time of
    its body, and a send that stays silent once the protocol has answered."""

    def __init__(self, app: ASGIApp, cycle: RequestResponseCycle, max_body: int, timeout: float) -> None:
        self.app = app
        self.cycle = cycle
        self.max_body = max_body
        self.timeout = timeout
        self.deadline = asyncio.get_running_loop().time() + timeout
        self.received = 0
        self.complete = False
        self.started = False
        self.answered = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_body:
            await self._answer(send, BodyTooLarge(self._too_large()))
            return

        async def bounded_receive() -> dict[str, Any]:
            if self.complete:  # the body is in: waiting for a disconnect is not timed
                return await receive()  # type: ignore[no-any-return]
            try:
                if self.cycle.more_body:
                    remaining = max(0.0, self.deadline - asyncio.get_running_loop().time())
                    message: dict[str, Any] = await asyncio.wait_for(receive(), remaining)
                else:  # the whole body is in already: nothing to wait for, no timer to pay for
                    message = await receive()
            except TimeoutError:
                detail = f"The request body did not arrive within {self.timeout:g} seconds."
                await self._answer(send, BodyTooSlow(detail))
                raise _Refused from None
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.max_body:
                    await self._answer(send, BodyTooLarge(self._too_large()))
                    raise _Refused
                self.complete = not message.get("more_body", False)
            return message

        async def quiet_send(message: dict[str, Any]) -> None:
            if self.answered:
                return
            if message["type"] == "http.response.start":
                self.started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, quiet_send)
        except _Refused:
            pass
        except BaseExceptionGroup as group:  # raised through a task group of the application
            rest = group.subgroup(lambda exc: not isinstance(exc, _Refused))
            if rest is not None:
                raise rest from None

    def _too_large(self) -> str:
        return f"The request body is larger than {self.max_body} bytes."

    async def _answer(self, send: Any, error: ApiError) -> None:
        """Answer ``error`` (unless the application has begun its own answer) and close."""
        self.cycle.keep_alive = False  # the rest of the body is not read
        if self.started or self.answered:
            self.answered = True
            self.cycle.transport.close()
            return
        self.answered = True
        body, headers = error_response(error)
        await send({"type": "http.response.start", "status": error.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class HeadTimeoutProtocol(HttpToolsProtocol):
    head_timeout = HEAD_TIMEOUT
    body_timeout = BODY_TIMEOUT
    max_body = MAX_BODY

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _disarm_body(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _too_slow(self) -> None:
        self._head_timer = self._body_timer = None
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
        # A body nobody reads in time closes the connection a moment after an application
        # reading it would have answered 408.
        self._disarm_body()
        self._body_timer = self.loop.call_later(self.body_timeout + 1.0, self._too_slow)

    def on_message_complete(self) -> None:
        self._disarm_body()
        super().on_message_complete()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        if _has_body(cycle.scope):  # a request without a body (most reads) runs the app as it is
            app = cast(ASGI3Application, _BoundedBody(app, cycle, self.max_body, self.body_timeout))
        super()._start_asgi_task(cycle, app)

    def send_400_response(self, msg: str) -> None:
        """A request the parser refused (uvicorn passes its own message, in English), answered in
        the documented error shape instead of uvicorn's plain text. Nothing of the request can be
        trusted, so no application runs: the protocol writes the answer and closes."""
        detail = "The request is not valid HTTP/1.1: its request line or headers could not be parsed."
        body, headers = error_response(MalformedRequest(detail))
        lines = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in [*self.server_state.default_headers, *headers]:
            lines.extend([name, b": ", value, b"\r\n"])
        lines.extend([b"\r\n", body])
        self.transport.write(b"".join(lines))
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._disarm_body()
        super().connection_lost(exc)
