"""Where the SDK sends requests, how long it waits, and how it retries.

Environment variables are read when a client is made, never at import time, so a test or an
application can set them at any moment before creating its client.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from ._errors import ConfigurationError

DEFAULT_AUTH_ORIGIN = "https://iam.smartcar.com"
DEFAULT_CONNECT_ORIGIN = "https://connect.smartcar.com"
DEFAULT_VEHICLE_API_ORIGIN = "https://vehicle.api.smartcar.com"
DEFAULT_MANAGEMENT_API_ORIGIN = "https://management.api.smartcar.com"

TOKEN_PATH = "/oauth2/token"
CONNECT_PATH = "/oauth/authorize"

MODES = ("live", "simulated", "test")
UNIT_SYSTEMS = ("metric", "imperial")


def _strip(url: str) -> str:
    return url.strip().rstrip("/")


def _first_env(environ: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = environ.get(name)
        if value and value.strip():
            return value.strip()
    return None


def token_url_for(auth: str) -> str:
    """The token endpoint for an auth setting.

    An origin (``https://iam.smartcar.com``) gets ``/oauth2/token`` appended; a URL that already
    has a path is taken as the full token URL, which is how the official Python SDK reads
    ``SMARTCAR_AUTH_ORIGIN``.
    """
    auth = _strip(auth)
    return auth if urlsplit(auth).path not in ("", "/") else auth + TOKEN_PATH


@dataclass(frozen=True, slots=True)
class Origins:
    """The base URL of each surface of the platform.

    ``auth`` may be an origin or the full token URL. Each origin is used without a trailing
    slash; the API paths (``/v3/...``, ``/oauth/authorize``) are appended to it.
    """

    auth: str = DEFAULT_AUTH_ORIGIN
    connect: str = DEFAULT_CONNECT_ORIGIN
    vehicle_api: str = DEFAULT_VEHICLE_API_ORIGIN
    management_api: str = DEFAULT_MANAGEMENT_API_ORIGIN

    @property
    def token_url(self) -> str:
        """The URL of the client-credentials token endpoint."""
        return token_url_for(self.auth)

    @property
    def authorize_url(self) -> str:
        """The URL of Connect's authorization page."""
        return _strip(self.connect) + CONNECT_PATH

    @classmethod
    def resolve(
        cls,
        *,
        base_url: str | None = None,
        auth_origin: str | None = None,
        connect_origin: str | None = None,
        vehicle_api_origin: str | None = None,
        management_api_origin: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Origins:
        """Pick each surface's origin: an explicit argument, then ``base_url``, then
        ``MOTORPOOL_URL`` (one origin for every surface), then the official environment
        variables, then the real service's hosts."""
        env = os.environ if environ is None else environ
        base = _strip(base_url) if base_url else None
        if base is None:
            # `MOTORPOOL_URL=` in a shell means "not set", not "the empty origin".
            motorpool_url = _first_env(env, "MOTORPOOL_URL")
            base = _strip(motorpool_url) if motorpool_url else None

        def pick(explicit: str | None, default: str, *names: str) -> str:
            if explicit:
                return _strip(explicit)
            if base:
                return base
            return _strip(_first_env(env, *names) or default)

        return cls(
            auth=pick(auth_origin, DEFAULT_AUTH_ORIGIN, "SMARTCAR_AUTH_ORIGIN"),
            connect=pick(connect_origin, DEFAULT_CONNECT_ORIGIN, "SMARTCAR_CONNECT_ORIGIN"),
            vehicle_api=pick(
                vehicle_api_origin,
                DEFAULT_VEHICLE_API_ORIGIN,
                "SMARTCAR_VEHICLE_API_V3_ORIGIN",
                "SMARTCAR_API_V3_ORIGIN",
            ),
            management_api=pick(
                management_api_origin, DEFAULT_MANAGEMENT_API_ORIGIN, "SMARTCAR_MANAGEMENT_API_ORIGIN"
            ),
        )


def resolve_credential(value: str | None, env_name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """An explicit credential, else the environment variable ``env_name``."""
    if value:
        return value
    env = os.environ if environ is None else environ
    return _first_env(env, env_name)


def validate_mode(mode: str) -> str:
    """``mode`` if it is one of live, simulated, test; a ConfigurationError otherwise."""
    if not isinstance(mode, str) or mode not in MODES:
        raise ConfigurationError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    return mode


def validate_unit_system(unit_system: str) -> str:
    """``unit_system`` if it is metric or imperial; a ConfigurationError otherwise."""
    if unit_system not in UNIT_SYSTEMS:
        raise ConfigurationError(f"unit_system must be metric or imperial; got {unit_system!r}")
    return unit_system


@dataclass(frozen=True, slots=True)
class Timeout:
    """Seconds to wait for a connection and for an answer (None waits forever).

    ``read`` bounds each wait for more of the answer and, with ``connect``, the whole exchange:
    an answer not complete ``connect + read`` seconds after the call began is given up, however
    steadily it trickles in. Real vehicles can take minutes to answer a command, so the read
    timeout is generous.
    """

    connect: float | None = 10.0
    read: float | None = 120.0

    @classmethod
    def of(cls, value: Timeout | float | None) -> Timeout:
        """Normalise a number (used for both phases), None (no limit) or a Timeout."""
        if isinstance(value, Timeout):
            return value
        return cls(connect=value, read=value)


DEFAULT_TIMEOUT = Timeout()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how long to wait before trying a request again.

    Reads are retried on 408, 429, 5xx and transport errors; commands only when the request
    certainly never reached the server (a failed connect) or the server refused it without
    acting (429). The delay doubles from ``initial_delay`` up to ``max_delay`` with up to 25 %
    jitter; a ``retry-after`` header is obeyed exactly, unless it asks for more than
    ``max_retry_after`` seconds, in which case the error is raised at once.
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    retry_statuses: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})
    #: Returns a number in [0, 1); kept apart so tests can pin the jitter.
    random: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def backoff(self, attempt: int) -> float:
        """The wait before retry number ``attempt`` (0-based) when the server gave no hint."""
        base = min(self.max_delay, self.initial_delay * (2**attempt))
        return float(base * (1 - 0.25 * self.random()))

    def with_retries(self, max_retries: int) -> RetryPolicy:
        """A copy allowing ``max_retries`` retries."""
        return replace(self, max_retries=max_retries)


__all__ = [
    "Origins",
    "RetryPolicy",
    "Timeout",
]
