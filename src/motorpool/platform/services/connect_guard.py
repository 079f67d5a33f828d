"""Connect's defences against guessing and replay.

A Connect flow's state travels in its signed forms, so a form could be posted again and again:
to guess a password, or to mint another authorization code from one consent. The rules here keep
the little state that stops that: failed sign-ins per flow (the flow ends after
``MAX_FLOW_FAILURES``), failed sign-ins per e-mail address across flows (sign-in pauses after
``MAX_EMAIL_FAILURES`` within ``EMAIL_WINDOW``), and each flow's consent given once."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ..store import repo

MAX_FLOW_FAILURES = 5
MAX_EMAIL_FAILURES = 5
EMAIL_WINDOW = timedelta(minutes=15)
#: How long a flow's record is kept: longer than any of its forms stays valid.
FLOW_MEMORY = timedelta(hours=1)


def email_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


async def flow_ended(session: AsyncSession, flow_id: str) -> bool:
    """Whether a flow has used up its sign-in attempts."""
    return await repo.flow_failures(session, flow_id) >= MAX_FLOW_FAILURES


async def sign_in_paused(session: AsyncSession, email: str, now: datetime | None = None) -> bool:
    """Whether an e-mail address had too many failed sign-ins lately (no password is checked
    then, so guessing costs the server nothing)."""
    moment = now or datetime.now(UTC)
    recent = await repo.sign_in_failures_since(session, email_key(email), moment - EMAIL_WINDOW)
    return recent >= MAX_EMAIL_FAILURES


async def note_failure(session: AsyncSession, flow_id: str, email: str) -> int:
    """Record a failed sign-in on a flow and for its e-mail; the flow's failures so far."""
    now = datetime.now(UTC)
    await repo.add_sign_in_failure(session, email_key(email), now, now - EMAIL_WINDOW)
    return await repo.add_flow_failure(session, flow_id, now + FLOW_MEMORY)


async def spend(session: AsyncSession, flow_id: str) -> bool:
    """Mark a flow's consent as given; False when it was given already."""
    now = datetime.now(UTC)
    return await repo.spend_flow(session, flow_id, now, now + FLOW_MEMORY)
