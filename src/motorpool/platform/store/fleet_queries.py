"""The dashboard's fleet table: one page of an application's vehicles, keyset-paged by id.

Paging continues after the last id shown (``id > :after``), never by offset, so the thousandth
page costs what the first does; the index (application, id) of migration 0010 serves the scan
(``ix_vehicles_fleet_page``), so no page sorts the fleet. The state filter reads
the vehicle's activity and offline time out of its JSON state record with the very expressions
migration 0010 indexes (``ix_vehicles_fleet_activity``: application, activity, id;
``ix_vehicles_fleet_offline``: application, id of the vehicles with an offline time, a partial
index whose condition the query repeats word for word), so a filtered page is an index range
scan too. The expressions are written out as SQL literals, not bound parameters, because a
planner matches an expression index only against the same expression.

Going back is the same read the other way: the ids below the first one shown (``id < :before``),
in descending order, reversed for display; the last page is that read from the end. How many
vehicles match is counted only up to a cap (:func:`fleet_count`): an exact count of a million
rows would cost more than the page it describes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    cast,
    func,
    literal_column,
    or_,
    select,
    union,
)
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
        # Only a parked activity has an asleep time (sim.state.ParkedActivity), so the kind is
        # not asked: asking it would steer a planner to the activity index and every parked
        # car, away from the partial index of the few with an asleep time (migration 0011).
        return and_(online, asleep_at.is_not(None), asleep_at <= now_ms)
    if state == "parked":
        return and_(parked, or_(asleep_at.is_(None), asleep_at > now_ms))
    raise ValueError(f"unknown fleet state {state!r}")


#: A VIN's length and its alphabet (ISO 3779: no I, O or Q), which the VIN search relies on.
VIN_LENGTH = 17
VIN_CHARACTERS = frozenset("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")


#: Where a vehicle id (a UUID as text) has its dashes; an id prefix has them there too.
_ID_DASHES = (8, 13, 18, 23)
_ID_LENGTH = 36
_HEX = "0123456789abcdef"


def _id_prefix_bounds(term: str) -> tuple[str, str | None] | None:
    """The range of ids starting with ``term`` (lower-case hex with the dashes of a UUID), as
    (from, before); ``before`` is None when the prefix is all ``f``. None when ``term`` cannot
    start an id. The upper bound increments the prefix as a hexadecimal number, so the range holds
    under any collation that orders hex digits 0–9 before a–f."""
    lowered = term.lower()
    if not lowered or len(lowered) > _ID_LENGTH:
        return None
    for position, char in enumerate(lowered):
        if (char == "-") != (position in _ID_DASHES) or (char != "-" and char not in _HEX):
            return None
    digits = list(lowered.rstrip("-"))
    position = len(digits) - 1
    while position >= 0:
        if digits[position] == "-":
            position -= 1
            continue
        if digits[position] != "f":
            digits[position] = _HEX[_HEX.index(digits[position]) + 1]
            return lowered, "".join(digits[: position + 1])
        position -= 1
    return lowered, None


def _id_condition(term: str) -> ColumnElement[bool]:
    """The vehicles whose id starts with ``term`` (a range of the (application, id) index), or
    whose id is ``term`` when it cannot start a UUID."""
    bounds = _id_prefix_bounds(term)
    if bounds is None:
        return Vehicle.id == term
    start, before = bounds
    if before is None:
        return Vehicle.id >= start
    return and_(Vehicle.id >= start, Vehicle.id < before)


def _search_branches(dialect: str, term: str, models: Sequence[str]) -> list[ColumnElement[bool]]:
    """The ways a search term can match, each one an index can answer: the start of the VIN (a
    range of the application's VINs: every VIN with the prefix lies between it and the prefix
    padded with Z), the start of the nickname in any case (a range on the lower-cased nickname,
    compared code point by code point; SQLite folds ASCII letters only), a model whose name holds
    the term (the catalogue's models, found by the caller), and the start of the vehicle's id."""
    branches: list[ColumnElement[bool]] = [_id_condition(term)]
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
    # One branch per model: each is a range of the (application, model, id) index in id order,
    # where one IN over several models would have to sort all of their vehicles.
    branches += [Vehicle.model == model for model in models]
    return branches


def _conditions(
    dialect: str,
    application_id: str,
    *,
    make: str | None,
    powertrain: str | None,
    state: str | None,
    now_ms: int,
) -> list[ColumnElement[bool]]:
    """The filters' conditions on the application's simulated vehicles (no search, no keyset bound)."""
    conditions = [Vehicle.application_id == application_id, Vehicle.mode == "simulated"]
    if state:
        conditions.append(state_condition(dialect, state, now_ms))
    if make:
        conditions.append(Vehicle.make == make)
    if powertrain:
        conditions.append(Vehicle.powertrain == powertrain)
    return conditions


def _matching_ids(
    conditions: Sequence[ColumnElement[bool]],
    branches: Sequence[ColumnElement[bool]],
    *,
    descending: bool | None,
    limit: int,
) -> Select[Any]:
    """The first ``limit`` ids (in id order, or its reverse) of the vehicles meeting
    ``conditions`` and any one of ``branches``: each branch read up to ``limit`` from its own index,
    the union (without duplicates) cut to ``limit`` — one statement. With ``descending`` None,
    any ``limit`` of them, each branch in whatever order its index gives (enough to count them up
    to ``limit``: should one branch alone reach it, so does the union)."""
    order = [] if descending is None else [Vehicle.id.desc() if descending else Vehicle.id.asc()]
    reads = [select(Vehicle.id).where(*conditions, branch).order_by(*order).limit(limit) for branch in branches]
    if len(reads) == 1:
        return reads[0]
    merged = union(*(read.subquery().select() for read in reads)).subquery()
    outer = [] if descending is None else [merged.c.id.desc() if descending else merged.c.id.asc()]
    return select(merged.c.id).order_by(*outer).limit(limit)


async def fleet_page(
    session: AsyncSession,
    application_id: str,
    *,
    after: str | None = None,
    before: str | None = None,
    backward: bool = False,
    limit: int,
    search: str | None = None,
    models: Sequence[str] = (),
    make: str | None = None,
    powertrain: str | None = None,
    state: str | None = None,
    now_ms: int = 0,
) -> Sequence[Vehicle]:
    """Up to ``limit`` simulated vehicles of the application in id order: those with an id above
    ``after``, or — ``backward`` — the last ``limit`` of those below ``before`` (of the whole
    fleet without it: the last page), still returned in ascending order. ``search`` matches the
    start of the VIN, of the nickname or of the id, or a vehicle of one of ``models``; ``state``
    keeps the vehicles in that state (one of :data:`FLEET_STATES`) at ``now_ms``.

    A search reads a page of each of its branches from that branch's index and merges them (the
    first ``limit`` ids of the union are among the first ``limit`` of each branch): one query
    with an OR would read the fleet in id order until a page is full, all of it when nothing
    matches."""
    dialect = session.get_bind().dialect.name
    conditions = _conditions(dialect, application_id, make=make, powertrain=powertrain, state=state, now_ms=now_ms)
    if backward:
        if before:
            conditions.append(Vehicle.id < before)
    elif after:
        conditions.append(Vehicle.id > after)
    term = (search or "").strip()
    if not term:
        order = Vehicle.id.desc() if backward else Vehicle.id.asc()
        page = list((await session.scalars(select(Vehicle).where(*conditions).order_by(order).limit(limit))).all())
        return page[::-1] if backward else page
    ids = (await session.scalars(_matching_ids(
        conditions, _search_branches(dialect, term, models), descending=backward, limit=limit,
    ))).all()
    if not ids:
        return []
    return (await session.scalars(select(Vehicle).where(Vehicle.id.in_(ids)).order_by(Vehicle.id))).all()


async def fleet_count(
    session: AsyncSession,
    application_id: str,
    *,
    cap: int,
    search: str | None = None,
    models: Sequence[str] = (),
    make: str | None = None,
    powertrain: str | None = None,
    state: str | None = None,
    now_ms: int = 0,
) -> int:
    """How many simulated vehicles of the application match, counted up to ``cap`` + 1: a result
    above ``cap`` means "more than ``cap``". Without a search the vehicles are read as a page of
    ``cap`` + 1 is, in id order from the same indexes: counting without that order lets a planner
    that misjudges a filter on the state record (an offline time set on a third of the fleet, it
    guesses) choose to read the whole table. A search's branches are each read up to the cap from
    their own index in its order (a nickname range in id order would be read through the whole
    fleet's ids) and merged without duplicates."""
    dialect = session.get_bind().dialect.name
    conditions = _conditions(dialect, application_id, make=make, powertrain=powertrain, state=state, now_ms=now_ms)
    term = (search or "").strip()
    if term:
        ids = _matching_ids(conditions, _search_branches(dialect, term, models), descending=None, limit=cap + 1)
    else:
        ids = _matching_ids(conditions, [Vehicle.application_id == application_id], descending=False, limit=cap + 1)
    matching = ids.subquery()
    return int(await session.scalar(select(func.count()).select_from(matching)) or 0)
