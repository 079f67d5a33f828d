"""The request log: each application's recent Vehicle API, Management API and token requests,
kept in memory in a bounded ring per application (the newest ``size`` of them, per process).

A request is attributed to an application by what it authenticated with — a verified access
token, a client id, or a management token — never by an unverified claim, so one application
cannot write into another's log."""

from __future__ import annotations

import base64
import re
from collections import deque
from dataclasses import dataclass
from urllib.parse import parse_qsl

import jwt
import orjson
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..errors import ApiError
from ..store import repo
from .oauth import ClientRegistry, TokenService

#: Where the log looks: the Vehicle API (v3 and v2.0), the Management APIs and the token endpoints.
LOGGED_PREFIXES = ("/v3/", "/v2.0/", "/oauth2/token", "/oauth/token")
TOKEN_PATHS = ("/oauth2/token", "/oauth/token")
#: How much of a failure's body, and of a token request's body, is kept.
BODY_LIMIT = 2000
_VEHICLE = re.compile(r"/vehicles/([0-9a-fA-F-]{36})")


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    at_ms: int
    method: str
    path: str
    status: int
    latency_ms: float
    request_id: str | None
    user_id: str | None
    vehicle_id: str | None
    #: The response body of a failure (status 400 and above), cut at BODY_LIMIT.
    error: str | None

    def to_dict(self) -> dict[str, object]:
        return {
            "at": self.at_ms, "method": self.method, "path": self.path, "status": self.status,
            "latencyMs": round(self.latency_ms, 2), "requestId": self.request_id, "userId": self.user_id,
            "vehicleId": self.vehicle_id, "error": self.error,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Seen:
    """What the HTTP layer saw of one request, before it is attributed."""

    at_ms: int
    method: str
    path: str
    status: int
    latency_ms: float
    request_id: str | None
    authorization: str | None
    user_header: str | None
    #: A token request's body (for its client id), else empty.
    body: bytes
    error: bytes | None


def logged(path: str) -> bool:
    return path.startswith(LOGGED_PREFIXES)


class RequestLog:
    def __init__(
        self,
        size: int,
        tokens: TokenService,
        clients: ClientRegistry,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        self.size = size
        self._rings: dict[str, deque[LoggedRequest]] = {}
        self._tokens = tokens
        self._clients = clients
        self._sessions = sessions

    async def _by_management_token(self, token: str) -> str | None:
        if not token:
            return None
        async with self._sessions() as session:
            return await repo.get_application_id_by_management_token(session, token)

    async def record(self, seen: Seen) -> None:
        """Attribute a request to its application and keep it; an unattributable one is dropped,
        and so is one whose attribution needs the database while it is unreachable (the request
        was answered already: the log never turns it into an error)."""
        try:
            application_id, user_id = await self._attribute(seen)
        except (SQLAlchemyError, OSError, TimeoutError, ApiError):
            return
        if application_id is None:
            return
        vehicle = _VEHICLE.search(seen.path)
        entry = LoggedRequest(
            at_ms=seen.at_ms, method=seen.method, path=seen.path, status=seen.status,
            latency_ms=seen.latency_ms, request_id=seen.request_id,
            user_id=seen.user_header or user_id, vehicle_id=vehicle.group(1) if vehicle else None,
            error=seen.error[:BODY_LIMIT].decode("utf-8", "replace") if seen.error else None,
        )  # fmt: skip
        ring = self._rings.get(application_id)
        if ring is None:
            ring = self._rings[application_id] = deque(maxlen=self.size)
        ring.append(entry)

    async def _attribute(self, seen: Seen) -> tuple[str | None, str | None]:
        scheme, _, credential = (seen.authorization or "").partition(" ")
        credential = credential.strip()
        if scheme.lower() == "bearer" and credential:
            try:
                claims = self._tokens.decode(credential)
            except (jwt.PyJWTError, LookupError, ValueError):  # perhaps a management token
                return await self._by_management_token(credential), None
            return claims.application_id, claims.user_id
        client_id = None
        if scheme.lower() == "basic" and credential:
            try:
                user, _, password = base64.b64decode(credential).decode().partition(":")
            except ValueError:
                return None, None
            if user == "default":  # v2's Management API: Basic default:<management token>
                return await self._by_management_token(password), None
            client_id = user
        elif seen.body:
            client_id = _client_id_of(seen.body)
        if not client_id:
            return None, None
        client = await self._clients.lookup(client_id)
        return (client.application_id if client else None), None

    def entries(
        self,
        application_id: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: str | None = None,
        vehicle_id: str | None = None,
        user_id: str | None = None,
        limit: int = 100,
    ) -> list[LoggedRequest]:
        """Newest first. ``status`` is a code (``404``), a class (``4xx``) or ``error`` (400 and up)."""
        found: list[LoggedRequest] = []
        for entry in reversed(self._rings.get(application_id, ())):
            if method and entry.method != method.upper():
                continue
            if path and path not in entry.path:
                continue
            if status and not _status_matches(status, entry.status):
                continue
            if vehicle_id and entry.vehicle_id != vehicle_id:
                continue
            if user_id and entry.user_id != user_id:
                continue
            found.append(entry)
            if len(found) >= limit:
                break
        return found


def _status_matches(wanted: str, status: int) -> bool:
    wanted = wanted.strip().lower()
    if wanted == "error":
        return status >= 400
    if len(wanted) == 3 and wanted.endswith("xx") and wanted[0].isdigit():
        return status // 100 == int(wanted[0])
    return wanted == str(status)


def _client_id_of(body: bytes) -> str | None:
    """The ``client_id`` of a token request's form or JSON body."""
    text = body[:BODY_LIMIT]
    if text.lstrip().startswith(b"{"):
        try:
            value = orjson.loads(text).get("client_id")
        except (orjson.JSONDecodeError, AttributeError):
            return None
        return value if isinstance(value, str) else None
    for key, value in parse_qsl(text.decode("utf-8", "replace")):
        if key == "client_id":
            return value
    return None
