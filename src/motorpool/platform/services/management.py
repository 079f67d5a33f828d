"""The v2 Management API: an application's connections, read and removed with its application
management token (AMT) sent as ``Authorization: Basic base64("default:" + AMT)``.

The connections are the rows ``/v3/connections`` serves (:class:`.connections.ConnectionService`
pages and removes them); this module checks the token and reads the v2 parameters."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..errors import AuthenticationError, ValidationFailed
from ..store import repo
from .connections import ConnectionRecord, ConnectionService, CursorPage
from .grants import MODES
from .params import basic_credentials, parse_uuid

#: The user name the management API's Basic credentials carry, as the SDKs send it.
MANAGEMENT_USER = "default"
DEFAULT_LIMIT = 10
MAX_LIMIT = 100

__all__ = ["ConnectionRecord", "CursorPage", "ManagementService"]


def _filter(application_id: str, query: Mapping[str, str]) -> repo.ConnectionFilter:
    user_id = query.get("user_id") or None
    vehicle_id = query.get("vehicle_id") or None
    mode = query.get("mode") or None
    if mode is not None and mode not in MODES:
        raise ValidationFailed(f"'mode' must be one of {', '.join(MODES)}.", source={"parameter": "mode"})
    return repo.ConnectionFilter(
        application_id=application_id,
        user_id=parse_uuid(user_id, "user_id", parameter="user_id") if user_id else None,
        vehicle_id=parse_uuid(vehicle_id, "vehicle_id", parameter="vehicle_id") if vehicle_id else None,
        mode=mode,
    )


def _limit(query: Mapping[str, str]) -> int:
    raw = query.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError
    except ValueError:
        raise ValidationFailed(
            f"'limit' must be a whole number from 1 to {MAX_LIMIT}, not '{raw}'.",
            source={"parameter": "limit"},
        ) from None
    return limit


class ManagementService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], connections: ConnectionService) -> None:
        self.sessions = sessions
        self.connections = connections

    async def authenticate(self, authorization: str | None) -> str:
        """The id of the application whose management token the request carries."""
        user, token = basic_credentials(authorization, f"{MANAGEMENT_USER}:<application management token>")
        application_id = None
        if user == MANAGEMENT_USER and token:
            async with self.sessions() as session:
                application_id = await repo.get_application_id_by_management_token(session, token)
        if application_id is None:
            raise AuthenticationError(
                "The application management token is not valid.",
                code=None,
                headers={"WWW-Authenticate": 'Basic realm="motorpool"'},
            )
        return application_id

    async def list_connections(self, authorization: str | None, query: Mapping[str, str]) -> CursorPage:
        """Connections newest first: ``limit`` (1–100, default 10) from ``cursor`` on, filtered
        by ``user_id``, ``vehicle_id`` and ``mode``."""
        application_id = await self.authenticate(authorization)
        filters = _filter(application_id, query)
        limit = _limit(query)
        cursor = query.get("cursor") or None
        return await self.connections.page_after(filters, cursor, limit)

    async def delete_connections(self, authorization: str | None, query: Mapping[str, str]) -> list[ConnectionRecord]:
        """Remove the connections of ``user_id`` and/or ``vehicle_id`` (at least one of them)."""
        application_id = await self.authenticate(authorization)
        filters = _filter(application_id, query)
        if filters.user_id is None and filters.vehicle_id is None:
            raise ValidationFailed(
                "Give user_id or vehicle_id (or both): which connections to remove.",
                code="MISSING_PARAMETER",
                source={"parameter": "user_id"},
            )
        return await self.connections.remove_matching(filters)
