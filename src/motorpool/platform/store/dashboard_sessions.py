"""The dashboard's signed-in sessions: a row per session, so signing out ends it everywhere."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import DashboardSession


async def add_session(session: AsyncSession, key: str, now: datetime, expires_at: datetime) -> None:
    """Remember a new session; sessions past their expiry are forgotten here."""
    await session.execute(delete(DashboardSession).where(DashboardSession.expires_at < now))
    session.add(DashboardSession(id=key, created_at=now, expires_at=expires_at))


async def session_live(session: AsyncSession, key: str, now: datetime) -> bool:
    found = await session.scalar(
        select(DashboardSession.id).where(DashboardSession.id == key, DashboardSession.expires_at >= now)
    )
    return found is not None


async def end_session(session: AsyncSession, key: str) -> None:
    await session.execute(delete(DashboardSession).where(DashboardSession.id == key))
