"""The dashboard's fleet table: one page of an application's vehicles, keyset-paged by id.

Paging continues after the last id shown (``id > :after``), never by offset, so the thousandth
page costs what the first does; the primary key's order serves the scan."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Vehicle


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def fleet_page(
    session: AsyncSession,
    application_id: str,
    *,
    after: str | None,
    limit: int,
    search: str | None = None,
    make: str | None = None,
    powertrain: str | None = None,
) -> Sequence[Vehicle]:
    """Up to ``limit`` simulated vehicles of the application with an id above ``after``, in id
    order; ``search`` matches the start of the VIN, or the nickname or model anywhere."""
    query = select(Vehicle).where(Vehicle.application_id == application_id, Vehicle.mode == "simulated")
    if after:
        query = query.where(Vehicle.id > after)
    if make:
        query = query.where(Vehicle.make == make)
    if powertrain:
        query = query.where(Vehicle.powertrain == powertrain)
    if search:
        pattern = _escape_like(search.strip().lower())
        query = query.where(
            or_(
                func.lower(Vehicle.vin).like(pattern + "%", escape="\\"),
                func.lower(Vehicle.nickname).like("%" + pattern + "%", escape="\\"),
                func.lower(Vehicle.model).like("%" + pattern + "%", escape="\\"),
                Vehicle.id == search.strip(),
            )
        )
    return (await session.scalars(query.order_by(Vehicle.id).limit(limit))).all()
