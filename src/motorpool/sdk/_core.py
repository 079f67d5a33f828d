"""The I/O-free core shared by the sync and the async client.

A call is described by a :class:`Call` (method, surface, path, body, how to parse the answer,
whether it is safe to repeat). :func:`request_flow` turns it into a generator that *yields*
what it needs done — send this request, sleep this long, give me a token (optionally: not this
one, the server refused it) — and *returns* the parsed result. Retries, the one re-fetch of
the token after a 401, error mapping and parsing all happen inside the generator; the clients
only drive it, with ``time.sleep`` or ``asyncio.sleep`` and with their own sender. So the
behaviour of both clients is written once.
"""

from __future__ import annotations

import asyncio
import json
import platform
import re
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote, urlencode

import pydantic

from .. import __version__
from ._config import Origins, RetryPolicy, Timeout
from ._errors import (
    ApiError,
    ConfigurationError,
    SmartcarError,
    TransportError,
    UnexpectedResponseError,
    api_error_from_response,
    oauth_error_from_response,
    parse_retry_after,
)
from ._models import AccessToken
from ._transport import ACCEPT_ENCODING, RawRequest, RawResponse

T = TypeVar("T")

VERSION = __version__
USER_AGENT = f"motorpool-python/{VERSION} (Python {platform.python_version()})"

Surface = Literal["vehicle", "management"]


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One API call, ready to be sent by either client.

    ``idempotent`` calls (reads) are retried on any retryable failure; the others (commands,
    deletions, creations) only when the request never reached the server or was refused with
    429 before anything happened.
    """

    method: str
    surface: Surface
    path: str
    parse: Callable[[RawResponse], T]
    params: tuple[tuple[str, str], ...] = ()
    body: Any = None
    needs_user: bool = False
    idempotent: bool = True


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """Per-view settings: the user calls are made for, units, timeout and retries."""

    user_id: str | None = None
    unit_system: str = "metric"
    timeout: Timeout = field(default_factory=Timeout)
    retry: RetryPolicy = field(default_factory=RetryPolicy)


# --- what a flow asks its driver to do ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Send:
    """Send this request; answer the RawResponse, or throw the TransportError in."""

    request: RawRequest


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait this many seconds before going on."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Authorize:
    """Answer a usable access token; ``rejected`` is one the server just refused."""

    rejected: str | None = None


Step = Send | Sleep | Authorize
Flow = Generator[Step, Any, T]


# --- retry decisions ----------------------------------------------------------------------------


def retry_delay_for_error(
    policy: RetryPolicy, error: ApiError, *, idempotent: bool, attempt: int
) -> float | None:
    """Seconds to wait before repeating a call that got ``error``, or None to give up."""
    status = error.status_code
    if attempt >= policy.max_retries or status not in policy.retry_statuses:
        return None
    if not idempotent and status != 429:
        return None
    retry_after = parse_retry_after(error.headers.get("retry-after"))
    if retry_after is not None:
        return retry_after if retry_after <= policy.max_retry_after else None
    return policy.backoff(attempt)


def retry_delay_for_transport(
    policy: RetryPolicy, error: TransportError, *, idempotent: bool, attempt: int
) -> float | None:
    """Seconds to wait before repeating a call that got no answer, or None to give up."""
    if attempt >= policy.max_retries:
        return None
    if not idempotent and error.request_sent:
        return None
    return policy.backoff(attempt)


# --- the flow -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prepared(Generic[T]):
    """A request with everything but the access token, and how to read its answer."""

    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None
    parse: Callable[[RawResponse], T]
    read_error: Callable[[RawResponse], SmartcarError]
    authenticated: bool
    idempotent: bool

    def request(self, token: str | None) -> RawRequest:
        """The request to send, carrying ``token`` when there is one."""
        headers = self.headers
        if token is not None:
            headers = {**headers, "authorization": f"Bearer {token}"}
        return RawRequest(self.method, self.url, headers, self.content)

    @staticmethod
    def succeeded(response: RawResponse) -> bool:
        """True when ``response`` is a success to parse (anything else goes through the flow;
        a redirect too, as redirects are never followed and an API answer is never one)."""
        return 200 <= response.status_code < 300


@dataclass(frozen=True, slots=True)
class FirstAttempt:
    """The outcome of a first attempt a client made inline, with the token it sent."""

    token: str | None
    outcome: RawResponse | TransportError


def request_flow(
    prepared: Prepared[T], policy: RetryPolicy, first: FirstAttempt | None = None
) -> Flow[T]:
    """Send ``prepared`` with a token, retrying per ``policy``; re-fetch the token once on 401.

    ``first`` is the outcome of an attempt a client already made inline (see ``Client._run``);
    the flow carries on from it exactly as if it had made that attempt itself.
    """
    attempt = 0
    rejected: str | None = None
    reauthorized = False
    while True:
        if first is not None:
            token, outcome, first = first.token, first.outcome, None
        else:
            token = None
            if prepared.authenticated:
                token = yield Authorize(rejected)
                rejected = None
            try:
                outcome = yield Send(prepared.request(token))
            except TransportError as sent_but_failed:
                outcome = sent_but_failed
        if isinstance(outcome, TransportError):
            delay = retry_delay_for_transport(
                policy, outcome, idempotent=prepared.idempotent, attempt=attempt
            )
            if delay is None:
                raise outcome
            attempt += 1
            yield Sleep(delay)
            continue
        response = outcome
        if prepared.succeeded(response):
            return prepared.parse(response)
        if response.status_code == 401 and token is not None and not reauthorized:
            # The token may have been revoked or expired early: fetch a new one, once.
            reauthorized = True
            rejected = token
            continue
        error = prepared.read_error(response)
        if not isinstance(error, ApiError):
            raise error
        delay = retry_delay_for_error(policy, error, idempotent=prepared.idempotent, attempt=attempt)
        if delay is None:
            raise error
        attempt += 1
        yield Sleep(delay)


def _cannot_authorize(step: Authorize) -> TypeError:
    return TypeError(f"this flow is sent without credentials and cannot perform {step!r}")


def drive(
    flow: Flow[T],
    send: Callable[[RawRequest], RawResponse],
    authorize: Callable[[str | None], str] | None = None,
) -> T:
    """Perform ``flow``'s steps with blocking calls: the one driver of every sync flow."""
    value: Any = None
    failure: TransportError | None = None
    while True:
        try:
            step = flow.send(value) if failure is None else flow.throw(failure)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        value, failure = None, None
        if isinstance(step, Send):
            try:
                value = send(step.request)
            except TransportError as error:
                failure = error
        elif isinstance(step, Sleep):
            time.sleep(step.seconds)
        elif authorize is None:
            raise _cannot_authorize(step)
        else:
            value = authorize(step.rejected)


async def drive_async(
    flow: Flow[T],
    send: Callable[[RawRequest], Awaitable[RawResponse]],
    authorize: Callable[[str | None], Awaitable[str]] | None = None,
) -> T:
    """Perform ``flow``'s steps on the running event loop: the one driver of every async flow."""
    value: Any = None
    failure: TransportError | None = None
    while True:
        try:
            step = flow.send(value) if failure is None else flow.throw(failure)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        value, failure = None, None
        if isinstance(step, Send):
            try:
                value = await send(step.request)
            except TransportError as error:
                failure = error
        elif isinstance(step, Sleep):
            await asyncio.sleep(step.seconds)
        elif authorize is None:
            raise _cannot_authorize(step)
        else:
            value = await authorize(step.rejected)


def parse_model(model: type[Any], response: RawResponse) -> Any:
    """Validate the answer's bytes into ``model``, as an UnexpectedResponseError if they do not fit."""
    try:
        return model.model_validate_json(response.content)
    except pydantic.ValidationError as error:
        raise UnexpectedResponseError(
            f"The answer (HTTP {response.status_code}) is not a valid {model.__name__}: {error}",
            status_code=response.status_code,
            content=response.content,
        ) from error


def read_api_error(response: RawResponse) -> SmartcarError:
    return api_error_from_response(response.status_code, response.headers, response.content)


def read_token_error(response: RawResponse) -> SmartcarError:
    return oauth_error_from_response(response.status_code, response.headers, response.content)


def _parse_token(response: RawResponse) -> AccessToken:
    token: AccessToken = parse_model(AccessToken, response)
    return token


class TokenCache:
    """The application token shared by a client and all its views.

    A token is used until shortly before it expires (a tenth of its lifetime, at most a minute,
    early), so a request never leaves with a token about to lapse. Refreshes are single-flight:
    a threading lock for the sync client, an asyncio lock per event loop for the async one, and
    both re-check the cache once they hold the lock.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        # One tuple, replaced whole, so readers never see a token with another's expiry.
        self._current: tuple[str, float] | None = None
        self.refresh_lock = threading.Lock()
        self._async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def usable(self, rejected: str | None = None) -> str | None:
        """The cached token, unless it is missing, about to expire, or the rejected one."""
        current = self._current
        if current is None:
            return None
        token, refresh_at = current
        if token == rejected or self._clock() >= refresh_at:
            return None
        return token

    def store(self, token: AccessToken) -> str:
        """Keep ``token`` and return it."""
        margin = min(60.0, token.expires_in / 10)
        self._current = (token.access_token, self._clock() + token.expires_in - margin)
        return token.access_token

    def clear(self) -> None:
        """Forget the cached token."""
        self._current = None

    def async_lock(self) -> asyncio.Lock:
        """The refresh lock of the running event loop."""
        loop = asyncio.get_running_loop()
        lock = self._async_locks.get(loop)
        if lock is None:
            with self.refresh_lock:
                lock = self._async_locks.setdefault(loop, asyncio.Lock())
        return lock


class ClientCore:
    """Credentials, origins and request building shared by a client and its views."""

    def __init__(self, *, client_id: str, client_secret: str, origins: Origins) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.origins = origins
        self.tokens = TokenCache()
        self._bases: dict[Surface, str] = {
            "vehicle": origins.vehicle_api.rstrip("/"),
            "management": origins.management_api.rstrip("/"),
        }
        self._base_headers = {
            "accept": "application/json",
            "accept-encoding": ACCEPT_ENCODING,
            "user-agent": USER_AGENT,
        }
        # Headers are the same for every call of a view; shared, never mutated once built.
        self._headers_by_view: dict[tuple[str | None, str], dict[str, str]] = {}

    def token_flow(self, options: RequestOptions) -> Flow[AccessToken]:
        """Fetch an application token with the client-credentials grant."""
        form = urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            }
        ).encode()
        prepared = Prepared(
            method="POST",
            url=self.origins.token_url,
            headers={**self._base_headers, "content-type": "application/x-www-form-urlencoded"},
            content=form,
            parse=_parse_token,
            read_error=read_token_error,
            authenticated=False,
            # Asking for another token has no side effect worth guarding.
            idempotent=True,
        )
        return request_flow(prepared, options.retry)

    def url(self, call: Call[Any]) -> str:
        """The absolute URL of ``call``."""
        url = self._bases[call.surface] + call.path
        if call.params:
            url += "?" + urlencode(call.params, quote_via=quote)
        return url

    def _headers(self, options: RequestOptions) -> dict[str, str]:
        key = (options.user_id, options.unit_system)
        headers = self._headers_by_view.get(key)
        if headers is None:
            headers = dict(self._base_headers)
            if options.user_id:
                headers["sc-user-id"] = options.user_id
            if options.unit_system != "metric":
                headers["sc-unit-system"] = options.unit_system
            if len(self._headers_by_view) > 1024:
                self._headers_by_view.clear()
            self._headers_by_view[key] = headers
        return headers

    def prepare(self, call: Call[T], options: RequestOptions) -> Prepared[T]:
        """``call`` made ready for the view with ``options``, all but the token."""
        if call.needs_user and not options.user_id:
            raise ConfigurationError(
                f"{call.method} {call.path} is made for a user: use client.user(user_id)."
            )
        headers = self._headers(options)
        content: bytes | None = None
        if call.body is not None:
            content = json.dumps(call.body, separators=(",", ":")).encode()
            headers = {**headers, "content-type": "application/json"}
        return Prepared(
            method=call.method,
            url=self.url(call),
            headers=headers,
            content=content,
            parse=call.parse,
            read_error=read_api_error,
            authenticated=True,
            idempotent=call.idempotent,
        )

    def flow(self, call: Call[T], options: RequestOptions) -> Flow[T]:
        """The flow that performs ``call`` for the view with ``options``."""
        return request_flow(self.prepare(call, options), options.retry)


_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+")


def path_segment(value: str) -> str:
    """``value`` quoted for use as one path segment (ids come from callers and may be anything)."""
    value = str(value)
    # Ids are nearly always UUIDs or codes made of unreserved characters: skip the slow quote.
    if _UNRESERVED.fullmatch(value) and value not in (".", ".."):
        return value
    return quote(value, safe="")
