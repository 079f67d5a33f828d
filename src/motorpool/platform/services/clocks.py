"""Each application's simulation clock (DESIGN.md §6), cached in memory.

Reads, commands and steering of an application's vehicles happen at the application's simulated
"now": real time unless its clock was accelerated, frozen or stepped. Tokens, codes and stored
timestamps stay on real time. A change is written to the database and bumps the change counter,
so every process drops its cached clocks (and read caches) within about a second."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..errors import NotFound, ValidationFailed
from ..sim.clock import MAX_RATE, Clock
from ..store import repo

#: How far one step may move a clock: about ten years.
MAX_STEP_MS = 10 * 366 * 86_400_000


def real_ms() -> int:
    return int(time.time() * 1000)


def iso_ms(epoch_ms: int) -> str:
    """Epoch milliseconds as the wire writes instants: ``2026-05-01T12:00:00.000Z``."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )


class ClockBook:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        #: application id -> its clock, or None for real time
        self._clocks: dict[str, Clock | None] = {}

    def invalidate(self) -> None:
        self._clocks.clear()

    def cached_now(self, application_id: str) -> int | None:
        """The application's simulated now when its clock is cached (the read path needs no lookup)."""
        try:
            clock = self._clocks[application_id]
        except KeyError:
            return None
        return real_ms() if clock is None else clock.now(real_ms())

    async def clock(self, application_id: str) -> Clock | None:
        if application_id in self._clocks:
            return self._clocks[application_id]
        async with self.sessions() as session:
            exists, stored = await repo.read_clock(session, application_id)
        if not exists:
            raise NotFound(f"No application with id '{application_id}'.", code="PATH")
        clock = Clock.from_dict(stored) if stored else None
        self._clocks[application_id] = clock
        return clock

    async def now_ms(self, application_id: str | None) -> int:
        """Simulated epoch milliseconds for an application (real time for no application)."""
        if application_id is None:
            return real_ms()
        now = self.cached_now(application_id)
        if now is not None:
            return now
        clock = await self.clock(application_id)
        return real_ms() if clock is None else clock.now(real_ms())

    async def change(
        self,
        application_id: str,
        *,
        rate: float | None = None,
        advance_ms: int | None = None,
        to_ms: int | None = None,
    ) -> Clock:
        """Set the rate (0 freezes), step forward, or jump to a later instant — in that order."""
        if rate is not None and not 0.0 <= rate <= MAX_RATE:
            raise ValidationFailed(
                f"rate must be from 0 (frozen) to {MAX_RATE:g}.", source={"pointer": "/rate"}
            )
        if advance_ms is not None and not 0 <= advance_ms <= MAX_STEP_MS:
            raise ValidationFailed(
                "A clock moves forward by at most ten years at a time.", source={"pointer": "/seconds"}
            )
        async with self.sessions() as session, session.begin():
            # Two steps at once both count: the second reads the clock the first wrote.
            await repo.lock_application(session, application_id)
            exists, stored = await repo.read_clock(session, application_id)
            if not exists:
                raise NotFound(f"No application with id '{application_id}'.", code="PATH")
            now = real_ms()
            clock = Clock.from_dict(stored) if stored else Clock.real_time(now)
            if rate is not None:
                clock = clock.with_rate(rate, now)
            if advance_ms:
                clock = clock.advanced(advance_ms, now)
            if to_ms is not None:
                if to_ms < clock.now(now):
                    raise ValidationFailed(
                        "A clock never moves backwards: the instant is before its now.",
                        source={"pointer": "/now"},
                    )
                if to_ms - clock.now(now) > MAX_STEP_MS:
                    raise ValidationFailed(
                        "A clock moves forward by at most ten years at a time.", source={"pointer": "/now"}
                    )
                clock = clock.set_to(to_ms, now)
            await repo.write_clock(session, application_id, clock.to_dict())
        self._clocks[application_id] = clock
        return clock


def clock_view(clock: Clock | None, now_real: int | None = None) -> dict[str, Any]:
    """The admin API's picture of a clock."""
    real = real_ms() if now_real is None else now_real
    current = clock or Clock.real_time(real)
    now = current.now(real)
    return {
        "now": iso_ms(now),
        "nowMs": now,
        "rate": current.rate,
        "frozen": current.frozen,
        "offsetSeconds": round((now - real) / 1000, 3),
        "realTime": clock is None or (current.rate == 1.0 and now == real),
    }
