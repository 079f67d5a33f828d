"""The dashboard's fleet table: one page of an application's vehicles, keyset-paged by id.

Paging continues after the last id shown (``id > :after``), never by offset, so the thousandth
page costs what the first does; the index (application, id) of migration 0010 serves the scan
(``ix_vehicles_fleet_page``), so no page sorts the fleet. The state filter reads
the vehicle's activity and offline time out of its JSON state record with the very expressions
migration 0010 indexes (``ix_vehicles_fleet_activity``: application, activity, id;
``ix_vehicles_fleet_offline``: application, id of the vehicles with an offline time, a partial
index whose condition the query repeats word for word), so a filtered page is an index range
scan too. The expressions are written out as SQL literals, not bound parameters, because a
planner matches an expression index only against the same expression."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, cast, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Vehicle

#: What the fleet table calls a vehicle's state (services.dashboard.status_of says the same in Python).
FLEET_STATES = ("parked", "driving", "charging", "asleep", "offline")


def _json_path(dialect: str, *path: str) -> ColumnElement[Any]:
    """``state`` at ``path`` as text (PostgreSQL) or its JSON scalar (SQLite)."""
    if dialect == "sqlite":
        return func.json_extract(Vehicle.state, literal_column("'$." + ".".join(path) + "'"))
    element: ColumnElement[Any] = Vehicle.state.expression
    for i, key in enumerate(path):
        element = element.op("->>" if i == len(path) - 1 else "->")(literal_column(f"'{key}'"))
    return element


def _json_number(dialect: str, *path: str) -> ColumnElement[Any]:
    element = _json_path(dialect, *path)
    return element if dialect == "sqlite" else cast(element, Float)


def state_condition(dialect: str, state: str, now_ms: int) -> ColumnElement[bool]:
    """The rows whose state at ``now_ms`` is ``state``: offline from ``offline_since`` on; else
    the activity, a parked car being asleep from its ``asleep_at`` on."""
    offline_since = _json_number(dialect, "offline_since")
    if state == "offline":
        return and_(offline_since.is_not(None), offline_since <= now_ms)
    online = or_(offline_since.is_(None), offline_since > now_ms)
    activity = _json_path(dialect, "activity", "kind")
    if state in ("driving", "charging"):
        return and_(online, activity == literal_column(f"'{state}'"))
    asleep_at = _json_number(dialect, "activity", "asleep_at")
    parked = and_(online, activity == literal_column("'parked'"))
    if state == "asleep":
        return and_(parked, asleep_at.is_not(None), asleep_at <= now_ms)
    if state == "parked":
        return and_(parked, or_(asleep_at.is_(None), asleep_at > now_ms))
    raise ValueError(f"unknown fleet state {state!r}")


#: A VIN's length and its alphabet (ISO 3779: no I, O or Q), which the VIN search relies on.
VIN_LENGTH = 17
VIN_CHARACTERS = frozenset("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")


def _search_branches(dialect: str, term: str, models: Sequence[str]) -> list[ColumnElement[bool]]:
    """The ways a search term can match, each one an index can answer: the start of the VIN (a
    range of the application's VINs: every VIN with the prefix lies between it and the prefix
    padded with Z), the start of the nickname in any case (a range on the lower-cased nickname,
    compared code point by code point; SQLite folds ASCII letters only), a model whose name holds
    the term (the catalogue's models, found by the caller), and the vehicle's id."""
    branches: list[ColumnElement[bool]] = [Vehicle.id == term]
    vin = term.upper()
    if len(vin) <= VIN_LENGTH and set(vin) <= VIN_CHARACTERS:
        branches.append(and_(Vehicle.vin >= vin, Vehicle.vin <= vin + "Z" * (VIN_LENGTH - len(vin))))
    nickname: ColumnElement[str] = func.lower(Vehicle.nickname)
    if dialect == "postgresql":
        nickname = nickname.collate("C")  # code point order, as the index is built
        lowered = term.lower()
    else:
        # SQLite's lower() folds ASCII letters only: fold the term the same way.
        lowered = "".join(char.lower() if char.isascii() else char for char in term)
    after_prefix = ord(lowered[-1]) + 1
    if after_prefix <= 0x10FFFF:
        branches.append(and_(nickname >= lowered, nickname < lowered[:-1] + chr(after_prefix)))
    else:
        branches.append(nickname >= lowered)
    if models:
        branches.append(Vehicle.model.in_(list(models)))
    return branches


async def fleet_page(
    session: AsyncSession,
    application_id: str,
    *,
    after: str | None,
    limit: int,
    search: str | None = None,
    models: Sequence[str] = (),
    make: str | None = None,
    powertrain: str | None = None,
    state: str | None = None,
    now_ms: int = 0,
) -> Sequence[Vehicle]:
    """Up to ``limit`` simulated vehicles of the application with an id above ``after``, in id
    order; ``search`` matches the start of the VIN or of the nickname, the id, or a vehicle of one
    of ``models``; ``state`` keeps the vehicles in that state (one of :data:`FLEET_STATES`) at
    ``now_ms``.

    A search asks each of its branches for a page of its own and merges them (the first
    ``limit`` ids of the union are among the first ``limit`` of each branch): one query with an
    OR would read the fleet in id order until a page is full, all of it when nothing matches."""
    dialect = session.get_bind().dialect.name
    query = select(Vehicle).where(Vehicle.application_id == application_id, Vehicle.mode == "simulated")
    if state:
        query = query.where(state_condition(dialect, state, now_ms))
    if after:
        query = query.where(Vehicle.id > after)
    if make:
        query = query.where(Vehicle.make == make)
    if powertrain:
        query = query.where(Vehicle.powertrain == powertrain)
    term = (search or "").strip()
    if not term:
        return (await session.scalars(query.order_by(Vehicle.id).limit(limit))).all()
    found: dict[str, Vehicle] = {}
    for branch in _search_branches(dialect, term, models):
        for vehicle in await session.scalars(query.where(branch).order_by(Vehicle.id).limit(limit)):
            found[vehicle.id] = vehicle
    return [found[vehicle_id] for vehicle_id in sorted(found)[:limit]]
