"""Repository functions: every SQL statement of the platform lives here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast, overload

from sqlalchemy import (
    CursorResult,
    Update,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import selectinload

from .models import (
    Application,
    AuthorizationCode,
    CacheGeneration,
    ClientSecret,
    CommandExecution,
    ConnectFlowUse,
    Connection,
    InstanceSecret,
    Owner,
    RefreshToken,
    RevokedToken,
    SignInFailure,
    SigningKey,
    User,
    Vehicle,
)
from .notify import announce

CHANGED = "motorpool.access_changed"


def mark_changed(session: AsyncSession, generation: int | None = None) -> None:
    """Note that connections, users or vehicles changed, so read caches drop them on commit;
    ``generation`` is the change counter's value this session wrote, when it wrote one."""
    if generation is None:
        session.info.setdefault(CHANGED, True)
        return
    known = session.info.get(CHANGED)
    if type(known) is not int or known < generation:
        session.info[CHANGED] = generation


async def bump_generation(session: AsyncSession) -> None:
    """Advance the change counter other processes poll to drop their read caches."""
    generation = await session.scalar(
        update(CacheGeneration)
        .where(CacheGeneration.name == "access")
        .values(value=CacheGeneration.value + 1)
        .returning(CacheGeneration.value)
    )
    if generation is None:
        generation = 1
        session.add(CacheGeneration(name="access", value=generation))
    mark_changed(session, int(generation))
    # Other processes drop their caches when this commits, rather than at their next poll.
    announce(session, "access", str(generation))


async def ping(session: AsyncSession) -> None:
    """A round trip to the database (for the readiness check)."""
    await session.execute(select(1))


async def read_generation(session: AsyncSession) -> int:
    value = await session.scalar(select(CacheGeneration.value).where(CacheGeneration.name == "access"))
    return int(value or 0)


async def _changed_rows(session: AsyncSession, statement: Update) -> int:
    """Run an UPDATE; how many rows it changed."""
    result = await session.execute(statement)
    return cast(CursorResult[Any], result).rowcount  # an UPDATE's result is a cursor's


@overload
def aware(moment: datetime) -> datetime: ...


@overload
def aware(moment: None) -> None: ...


@overload
def aware(moment: datetime | None) -> datetime | None: ...


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything here is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


# --- instance secrets -------------------------------------------------------------------------


async def get_instance_secret(session: AsyncSession, name: str) -> str | None:
    row = await session.get(InstanceSecret, name)
    return row.value if row else None


async def put_instance_secret(session: AsyncSession, name: str, value: str) -> None:
    row = await session.get(InstanceSecret, name)
    if row is None:
        session.add(InstanceSecret(name=name, value=value))
    else:
        row.value = value


# --- applications -----------------------------------------------------------------------------


async def count_applications(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Application)) or 0)


async def add_application(session: AsyncSession, application: Application) -> Application:
    session.add(application)
    await session.flush()
    return application


async def list_applications(session: AsyncSession) -> Sequence[Application]:
    result = await session.scalars(
        select(Application).options(selectinload(Application.secrets)).order_by(Application.created_at)
    )
    return result.all()


async def get_application(session: AsyncSession, application_id: str) -> Application | None:
    result = await session.scalars(
        select(Application)
        .options(selectinload(Application.secrets))
        .where(Application.id == application_id)
    )
    return result.first()


async def lock_application(session: AsyncSession, application_id: str) -> bool:
    """Take the application's row lock for the rest of the transaction (False: no such
    application), so that read-modify-writes of its JSON columns and counted rows (redirect
    URIs, clock, live secrets, users and connections) run one after another, not interleaved.

    PostgreSQL: ``SELECT … FOR NO KEY UPDATE`` (foreign keys to the row stay free). SQLite locks
    the whole database for writing; the driver begins a transaction at the first write, so the
    lock is a write that changes nothing, taken before anything is read. Call it first in the
    transaction: rows loaded before it may be stale."""
    if session.get_bind().dialect.name == "sqlite":
        changed = await _changed_rows(
            session, update(Application).where(Application.id == application_id).values(id=Application.id)
        )
        return changed > 0
    found = await session.scalar(
        select(Application.id).where(Application.id == application_id).with_for_update(key_share=True)
    )
    return found is not None


async def get_application_id_by_management_token(session: AsyncSession, token: str) -> str | None:
    """The id of the application whose management token this is."""
    found = await session.scalar(select(Application.id).where(Application.management_token == token))
    return str(found) if found is not None else None


async def get_application_by_client_id(session: AsyncSession, client_id: str) -> Application | None:
    result = await session.scalars(
        select(Application)
        .options(selectinload(Application.secrets))
        .where(Application.client_id == client_id)
    )
    return result.first()


async def get_secret(session: AsyncSession, application_id: str, secret_id: str) -> ClientSecret | None:
    secret = await session.get(ClientSecret, secret_id)
    if secret is None or secret.application_id != application_id:
        return None
    return secret


async def mark_secrets_used(session: AsyncSession, used: dict[str, datetime]) -> None:
    for secret_id, moment in used.items():
        await session.execute(
            update(ClientSecret).where(ClientSecret.id == secret_id).values(last_used_at=moment)
        )


# --- owners -----------------------------------------------------------------------------------


async def add_owner(session: AsyncSession, owner: Owner) -> Owner:
    session.add(owner)
    await session.flush()
    return owner


async def get_owner_by_email(session: AsyncSession, email: str) -> Owner | None:
    result = await session.scalars(select(Owner).where(Owner.email == email.lower()))
    return result.first()


async def list_owners(session: AsyncSession) -> Sequence[Owner]:
    return (await session.scalars(select(Owner).order_by(Owner.created_at))).all()


# --- vehicles ---------------------------------------------------------------------------------


async def add_vehicles(session: AsyncSession, vehicles: Iterable[Vehicle]) -> None:
    session.add_all(list(vehicles))
    await session.flush()
    await bump_generation(session)


async def bulk_add_vehicles(session: AsyncSession, vehicles: Sequence[Vehicle]) -> None:
    """Insert many vehicles in a few statements (a fleet of 100,000 takes seconds, not minutes)."""
    columns = [c.key for c in Vehicle.__table__.columns]
    rows = [{key: getattr(vehicle, key) for key in columns} for vehicle in vehicles]
    for start in range(0, len(rows), 5000):
        await session.execute(insert(Vehicle), rows[start : start + 5000])
    await bump_generation(session)


async def get_vehicle(session: AsyncSession, vehicle_id: str) -> Vehicle | None:
    return await session.get(Vehicle, vehicle_id)


async def get_vehicles_by_test_keys(session: AsyncSession, keys: Sequence[str]) -> dict[str, Vehicle]:
    found: dict[str, Vehicle] = {}
    # Chunked so a 999-vehicle test account stays under every driver's parameter limit.
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        rows = await session.scalars(select(Vehicle).where(Vehicle.test_key.in_(chunk)))
        found.update({row.test_key: row for row in rows if row.test_key})
    return found


def _simulated_fleet(application_id: str) -> Any:
    return and_(Vehicle.application_id == application_id, Vehicle.mode == "simulated")


async def fleet_page(
    session: AsyncSession,
    application_id: str,
    after: tuple[datetime, str] | None,
    limit: int,
) -> Sequence[Vehicle]:
    """Up to ``limit`` of an application's simulated cars, oldest first, following the one
    made at ``after = (created_at, id)``: a keyset page read from ``ix_vehicles_fleet_listing``."""
    query = select(Vehicle).where(_simulated_fleet(application_id))
    if after is not None:
        # A row comparison, which PostgreSQL reads as a range of the index: a far page starts
        # where it starts instead of filtering every car before it.
        query = query.where(tuple_(Vehicle.created_at, Vehicle.id) > tuple_(*after))
    rows = await session.scalars(query.order_by(Vehicle.created_at, Vehicle.id).limit(limit))
    return rows.all()


async def fleet_from(
    session: AsyncSession, application_id: str, make: str | None, start_id: str, limit: int
) -> list[Vehicle]:
    """Up to ``limit`` of an application's simulated cars (of ``make``, when given), in id
    order from ``start_id`` on, going round to the lowest ids when the highest run out: two
    short reads of ``ix_vehicles_fleet_make`` (or of the fleet's id order without a make)."""
    where = [_simulated_fleet(application_id)]
    if make is not None:
        where.append(Vehicle.make == make)
    after = await session.scalars(
        select(Vehicle).where(*where, Vehicle.id >= start_id).order_by(Vehicle.id).limit(limit)
    )
    found = list(after.all())
    if len(found) < limit:
        before = await session.scalars(
            select(Vehicle)
            .where(*where, Vehicle.id < start_id)
            .order_by(Vehicle.id)
            .limit(limit - len(found))
        )
        found += before.all()
    return found


async def fleet_by_vin(
    session: AsyncSession, application_id: str, vin: str, limit: int
) -> list[Vehicle]:
    """An application's simulated cars with this VIN (``ix_vehicles_fleet_vin``), oldest first."""
    rows = await session.scalars(
        select(Vehicle)
        .where(_simulated_fleet(application_id), Vehicle.vin == vin.upper())
        .order_by(Vehicle.created_at, Vehicle.id)
        .limit(limit)
    )
    return list(rows.all())


async def fleet_size_up_to(session: AsyncSession, application_id: str, most: int) -> int:
    """How many simulated cars an application has, counted no further than ``most``."""
    few = select(Vehicle.id).where(_simulated_fleet(application_id)).limit(most).subquery()
    return int((await session.execute(select(func.count()).select_from(few))).scalar_one())


async def get_fleet_vehicles(
    session: AsyncSession, application_id: str, vehicle_ids: Sequence[str]
) -> list[Vehicle]:
    """The cars of ``vehicle_ids`` that are in the application's simulated fleet, in that order."""
    if not vehicle_ids:
        return []
    rows = await session.scalars(
        select(Vehicle).where(_simulated_fleet(application_id), Vehicle.id.in_(vehicle_ids))
    )
    by_id = {row.id: row for row in rows.all()}
    return [by_id[vid] for vid in vehicle_ids if vid in by_id]


async def fleet_makes(
    session: AsyncSession, application_id: str, candidates: Iterable[str]
) -> list[str]:
    """Which of the ``candidates`` makes an application's simulated fleet has, each once: one
    probe of ``ix_vehicles_fleet_make`` per make rather than a pass over the whole fleet."""
    probes = [
        select(literal(make).label("make")).where(
            exists().where(_simulated_fleet(application_id), Vehicle.make == make)
        )
        for make in dict.fromkeys(candidates)
    ]
    if not probes:
        return []
    result = await session.scalars(union_all(*probes))
    return sorted(result.all())


async def list_owner_vehicles(session: AsyncSession, owner_id: str) -> Sequence[Vehicle]:
    result = await session.scalars(
        select(Vehicle).where(Vehicle.owner_id == owner_id).order_by(Vehicle.created_at, Vehicle.id)
    )
    return result.all()


async def get_vehicles(session: AsyncSession, vehicle_ids: Sequence[str]) -> list[Vehicle]:
    if not vehicle_ids:
        return []
    rows = (await session.scalars(select(Vehicle).where(Vehicle.id.in_(vehicle_ids)))).all()
    by_id = {row.id: row for row in rows}
    return [by_id[vid] for vid in vehicle_ids if vid in by_id]


async def save_vehicle_state(
    session: AsyncSession, vehicle_id: str, state: Mapping[str, Any], expected_version: int
) -> bool:
    """Compare-and-set the state record; False when another writer got there first."""
    changed = await _changed_rows(
        session,
        update(Vehicle)
        .where(Vehicle.id == vehicle_id, Vehicle.version == expected_version)
        .values(state=state, version=expected_version + 1),
    )
    if changed:
        await bump_generation(session)
    return bool(changed)


# --- users and connections --------------------------------------------------------------------


async def get_or_create_user(session: AsyncSession, application_id: str, subject: str) -> User:
    result = await session.scalars(
        select(User).where(User.application_id == application_id, User.subject == subject)
    )
    user = result.first()
    if user is None:
        user = User(application_id=application_id, subject=subject)
        session.add(user)
        await session.flush()
    return user


async def get_user(session: AsyncSession, application_id: str, user_id: str) -> User | None:
    user = await session.get(User, user_id)
    if user is None or user.application_id != application_id:
        return None
    return user


async def delete_user(session: AsyncSession, user: User) -> None:
    await session.execute(delete(Connection).where(Connection.user_id == user.id))
    await session.execute(delete(AuthorizationCode).where(AuthorizationCode.user_id == user.id))
    await session.delete(user)
    await bump_generation(session)


async def user_connections(session: AsyncSession, user_id: str) -> Sequence[Connection]:
    return (await session.scalars(select(Connection).where(Connection.user_id == user_id))).all()


async def upsert_connections(
    session: AsyncSession,
    *,
    application_id: str,
    user_id: str,
    grants: Sequence[tuple[Vehicle, list[str]]],
    external_id: str | None,
    replace_external_id: bool,
    now: datetime,
) -> list[Connection]:
    """Create or update the user's connection to each vehicle, with that vehicle's permissions."""
    existing: dict[str, Connection] = {}
    wanted = [vehicle.id for vehicle, _ in grants]
    for start in range(0, len(wanted), 500):
        rows = await session.scalars(
            select(Connection).where(
                Connection.user_id == user_id, Connection.vehicle_id.in_(wanted[start : start + 500])
            )
        )
        existing.update({row.vehicle_id: row for row in rows})
    result: list[Connection] = []
    for vehicle, permissions in grants:
        connection = existing.get(vehicle.id)
        if connection is None:
            connection = Connection(
                application_id=application_id,
                user_id=user_id,
                vehicle_id=vehicle.id,
                permissions=permissions,
                external_id=external_id,
                mode=vehicle.mode,
                created_at=now,
                updated_at=now,
            )
            connection.vehicle = vehicle
            session.add(connection)
        else:
            connection.permissions = permissions
            if replace_external_id:
                connection.external_id = external_id
            connection.updated_at = now
        result.append(connection)
    await session.flush()
    await bump_generation(session)
    return result


@dataclass(frozen=True)
class ConnectionFilter:
    application_id: str
    user_id: str | None = None
    vehicle_id: str | None = None
    mode: str | None = None
    external_id: str | None = None


def _filtered(query: Any, filters: ConnectionFilter) -> Any:
    query = query.where(Connection.application_id == filters.application_id)
    if filters.user_id is not None:
        query = query.where(Connection.user_id == filters.user_id)
    if filters.vehicle_id is not None:
        query = query.where(Connection.vehicle_id == filters.vehicle_id)
    if filters.mode is not None:
        query = query.where(Connection.mode == filters.mode)
    if filters.external_id is not None:
        query = query.where(Connection.external_id == filters.external_id)
    return query


async def page_connections(
    session: AsyncSession, filters: ConnectionFilter, offset: int, limit: int
) -> tuple[Sequence[Connection], int]:
    total = await session.scalar(_filtered(select(func.count()).select_from(Connection), filters))
    # The page's ids first, from the index alone; then only those rows with their vehicles. A
    # single query would carry every skipped row's vehicle through the sort, which at a large
    # fleet's last page is seconds.
    page_ids = (
        _filtered(select(Connection.id, Connection.created_at), filters)
        .order_by(Connection.created_at.desc(), Connection.id.desc())
        .offset(offset)
        .limit(limit)
        .subquery()
    )
    rows = await session.scalars(
        select(Connection)
        .join(page_ids, Connection.id == page_ids.c.id)
        .order_by(page_ids.c.created_at.desc(), page_ids.c.id.desc())
    )
    return rows.all(), int(total or 0)


async def connections_after(
    session: AsyncSession,
    filters: ConnectionFilter,
    after: tuple[datetime, str] | None,
    limit: int,
) -> Sequence[Connection]:
    """Up to ``limit`` connections, newest first (as :func:`page_connections` orders them),
    following the one created at ``after = (created_at, id)``: a keyset page, which connections
    made or removed meanwhile cannot shift."""
    query = _filtered(select(Connection), filters)
    if after is not None:
        # A row comparison, which PostgreSQL reads as a range of the (application, created_at,
        # id) index: a far page starts where it starts instead of filtering every row before it.
        query = query.where(tuple_(Connection.created_at, Connection.id) < tuple_(*after))
    rows = await session.scalars(
        query.order_by(Connection.created_at.desc(), Connection.id.desc()).limit(limit)
    )
    return rows.all()


async def matching_connections(session: AsyncSession, filters: ConnectionFilter) -> Sequence[Connection]:
    """Every connection the filter matches, newest first."""
    rows = await session.scalars(
        _filtered(select(Connection), filters).order_by(Connection.created_at.desc(), Connection.id.desc())
    )
    return rows.all()


async def get_connection(session: AsyncSession, application_id: str, connection_id: str) -> Connection | None:
    result = await session.scalars(
        select(Connection).where(
            Connection.application_id == application_id, Connection.id == connection_id
        )
    )
    return result.first()


async def connections_for_vehicle(
    session: AsyncSession, application_id: str, vehicle_id: str
) -> Sequence[Connection]:
    result = await session.scalars(
        select(Connection)
        .where(Connection.application_id == application_id, Connection.vehicle_id == vehicle_id)
        .order_by(Connection.created_at.desc())
    )
    return result.all()


async def find_connection(
    session: AsyncSession, application_id: str, user_id: str, vehicle_id: str
) -> Connection | None:
    result = await session.scalars(
        select(Connection).where(
            Connection.application_id == application_id,
            Connection.user_id == user_id,
            Connection.vehicle_id == vehicle_id,
        )
    )
    return result.first()


async def delete_connection(session: AsyncSession, connection: Connection) -> None:
    await delete_connections(session, [connection])


async def delete_connections(session: AsyncSession, connections: Sequence[Connection]) -> None:
    """Disconnect: remove the connections, and have every process drop what it cached of them."""
    for connection in connections:
        await session.delete(connection)
    if connections:
        await bump_generation(session)


# --- authorization codes ----------------------------------------------------------------------


async def add_code(session: AsyncSession, code: AuthorizationCode) -> None:
    session.add(code)
    await session.flush()


async def claim_code(session: AsyncSession, code_hash: str, now: datetime) -> AuthorizationCode | None:
    """Mark a code used and return it; None when unknown or already used (single use)."""
    changed = await _changed_rows(
        session,
        update(AuthorizationCode)
        .where(AuthorizationCode.code_hash == code_hash, AuthorizationCode.used_at.is_(None))
        .values(used_at=now),
    )
    if not changed:
        return None
    return await session.get(AuthorizationCode, code_hash)


async def get_code(session: AsyncSession, code_hash: str) -> AuthorizationCode | None:
    return await session.get(AuthorizationCode, code_hash)


# --- refresh tokens ---------------------------------------------------------------------------


async def add_refresh_token(session: AsyncSession, token: RefreshToken) -> None:
    session.add(token)
    await session.flush()


async def get_refresh_token(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    return await session.get(RefreshToken, token_hash)


async def revoke_refresh_family(session: AsyncSession, family: str, now: datetime) -> list[RefreshToken]:
    """Revoke every refresh token descended from one Connect code; the tokens of the family."""
    rows = list((await session.scalars(select(RefreshToken).where(RefreshToken.family == family))).all())
    for row in rows:
        if row.revoked_at is None:
            row.revoked_at = now
    await session.flush()
    return rows


async def user_is_connected(session: AsyncSession, application_id: str, user_id: str) -> bool:
    """Whether the user still has a connection to any vehicle of the application."""
    found = await session.scalar(
        select(Connection.id)
        .where(Connection.application_id == application_id, Connection.user_id == user_id)
        .limit(1)
    )
    return found is not None


# --- signing keys and revocations -------------------------------------------------------------


async def list_signing_keys(session: AsyncSession) -> Sequence[SigningKey]:
    return (await session.scalars(select(SigningKey).order_by(SigningKey.created_at))).all()


async def add_signing_key(session: AsyncSession, key: SigningKey) -> None:
    session.add(key)
    await session.flush()


async def signing_key_ids(session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(SigningKey.kid).order_by(SigningKey.created_at))).all())


async def replace_active_signing_key(session: AsyncSession, key: SigningKey) -> None:
    """Make ``key`` the one key that signs; the others stay, to verify what they signed."""
    await session.execute(update(SigningKey).where(SigningKey.active.is_(True)).values(active=False))
    session.add(key)
    await session.flush()
    # Every other process loads the new key at once, to verify the tokens it signs.
    announce(session, "keys", key.kid)


async def add_revoked_token(session: AsyncSession, jti: str, expires_at: datetime) -> None:
    if await session.get(RevokedToken, jti) is None:
        session.add(RevokedToken(jti=jti, expires_at=expires_at))
    announce(session, "revoked", jti)


async def live_revocations(session: AsyncSession, now: datetime) -> list[str]:
    """The ids of revoked tokens that have not expired yet (a read; polled every second)."""
    query = select(RevokedToken.jti).where(RevokedToken.expires_at >= now)
    return list((await session.scalars(query)).all())


async def prune_revocations(session: AsyncSession, now: datetime) -> None:
    """Forget revocations of tokens that have expired anyway."""
    await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))


@dataclass(frozen=True)
class AccessRow:
    """What the read path needs about one (user, vehicle) pair, fetched in one query."""

    connection_id: str
    permissions: tuple[str, ...]
    vehicle_id: str
    vin: str
    make: str
    model: str
    year: int
    powertrain: str
    mode: str
    seed: int
    state: dict[str, Any]
    version: int
    nickname: str


#: What an access row is read from, in the order :func:`access_row` takes it (a query may put
#: other columns before these).
ACCESS_COLUMNS = (
    Connection.id,
    Connection.permissions,
    Vehicle.id,
    Vehicle.vin,
    Vehicle.make,
    Vehicle.model,
    Vehicle.year,
    Vehicle.powertrain,
    Vehicle.mode,
    Vehicle.seed,
    Vehicle.state,
    Vehicle.version,
    Vehicle.nickname,
)


def access_row(row: Sequence[Any]) -> AccessRow:
    """The access row of a result row holding :data:`ACCESS_COLUMNS`, in their order."""
    return AccessRow(
        connection_id=row[0],
        permissions=tuple(row[1] or ()),
        vehicle_id=row[2],
        vin=row[3],
        make=row[4],
        model=row[5],
        year=row[6],
        powertrain=row[7],
        mode=row[8],
        seed=row[9],
        state=row[10] or {},
        version=row[11],
        nickname=row[12],
    )


#: The read path's query, built once: constructing a statement per call costs more than running it.
_ACCESS_ROWS = (
    select(*ACCESS_COLUMNS)
    .join(Vehicle, Vehicle.id == Connection.vehicle_id)
    .where(
        Connection.application_id == bindparam("application_id"),
        Connection.user_id == bindparam("user_id"),
        Connection.vehicle_id.in_(bindparam("vehicle_ids", expanding=True)),
    )
)


async def access_rows(
    db: AsyncSession | AsyncConnection, application_id: str, user_id: str, vehicle_ids: Sequence[str]
) -> dict[str, AccessRow]:
    """The user's access rows for any number of vehicles in one query, by vehicle id (vehicles
    the user has no connection to are left out). Takes a session or a bare connection."""
    result = await db.execute(
        _ACCESS_ROWS,
        {"application_id": application_id, "user_id": user_id, "vehicle_ids": list(vehicle_ids)},
    )
    return {row[2]: access_row(row) for row in result}


async def vehicle_connected_to_application(
    session: AsyncSession, application_id: str, vehicle_id: str
) -> bool:
    found = await session.scalar(
        select(Connection.id)
        .where(Connection.application_id == application_id, Connection.vehicle_id == vehicle_id)
        .limit(1)
    )
    return found is not None


# --- connect ----------------------------------------------------------------------------------


async def find_user_by_subject(session: AsyncSession, application_id: str, subject: str) -> User | None:
    """The user an owner already is for an application, without creating one."""
    result = await session.scalars(
        select(User).where(User.application_id == application_id, User.subject == subject)
    )
    return result.first()


# --- simulation clocks ------------------------------------------------------------------------


async def read_clock(session: AsyncSession, application_id: str) -> tuple[bool, dict[str, Any] | None]:
    """(whether the application exists, its stored clock or None for real time)."""
    row = (await session.execute(
        select(Application.id, Application.clock).where(Application.id == application_id)
    )).first()
    if row is None:
        return False, None
    return True, row[1]


async def write_clock(session: AsyncSession, application_id: str, clock: dict[str, Any] | None) -> bool:
    """Store an application's clock; every process drops its cached clocks and snapshots."""
    changed = await _changed_rows(
        session,
        update(Application).where(Application.id == application_id).values(clock=clock),
    )
    if changed:
        await bump_generation(session)
    return bool(changed)


# --- command executions -----------------------------------------------------------------------


async def add_execution(session: AsyncSession, execution: CommandExecution) -> None:
    session.add(execution)
    await session.flush()


async def get_execution(
    session: AsyncSession, application_id: str, vehicle_id: str, execution_id: str
) -> CommandExecution | None:
    result = await session.scalars(
        select(CommandExecution).where(
            CommandExecution.id == execution_id,
            CommandExecution.application_id == application_id,
            CommandExecution.vehicle_id == vehicle_id,
        )
    )
    return result.first()


async def finish_execution(
    session: AsyncSession, execution_id: str, *, status: str, error: dict[str, Any] | None, completed_ms: int
) -> None:
    """Record the outcome of a queued command (``error`` goes into its status on the wire)."""
    execution = await session.get(CommandExecution, execution_id)
    if execution is None or execution.status != "PENDING":
        return
    attributes = dict(execution.attributes)
    if error is not None:
        attributes["error"] = error
    execution.attributes = attributes
    execution.status = status
    execution.completed_ms = completed_ms
    await session.flush()


# --- rate limits ------------------------------------------------------------------------------


async def read_rate_limit(session: AsyncSession, application_id: str) -> tuple[bool, dict[str, Any] | None]:
    """(whether the application exists, its stored rate limits or None)."""
    row = (await session.execute(
        select(Application.id, Application.rate_limit).where(Application.id == application_id)
    )).first()
    if row is None:
        return False, None
    return True, row[1]


async def write_rate_limit(session: AsyncSession, application_id: str, limit: dict[str, Any] | None) -> bool:
    """Store an application's rate limits; every process drops its cached copy."""
    changed = await _changed_rows(
        session,
        update(Application).where(Application.id == application_id).values(rate_limit=limit),
    )
    if changed:
        await bump_generation(session)
    return bool(changed)


# --- Connect flows and sign-in failures -------------------------------------------------------


def _flow_insert(session: AsyncSession) -> Any:
    """The dialect's INSERT for flow rows (both have ON CONFLICT … DO UPDATE … RETURNING)."""
    if session.get_bind().dialect.name == "sqlite":
        return sqlite.insert(ConnectFlowUse)
    return postgresql.insert(ConnectFlowUse)


async def flow_failures(session: AsyncSession, flow_id: str) -> int:
    found = await session.scalar(select(ConnectFlowUse.failures).where(ConnectFlowUse.flow_id == flow_id))
    return int(found or 0)


async def add_flow_failure(session: AsyncSession, flow_id: str, expires_at: datetime) -> int:
    """Count one failed sign-in on a flow, atomically; the flow's failures so far."""
    statement = _flow_insert(session).values(flow_id=flow_id, failures=1, expires_at=expires_at)
    statement = statement.on_conflict_do_update(
        index_elements=[ConnectFlowUse.flow_id],
        set_={"failures": ConnectFlowUse.failures + 1},
    ).returning(ConnectFlowUse.failures)
    return int(await session.scalar(statement) or 0)


async def spend_flow(session: AsyncSession, flow_id: str, now: datetime, expires_at: datetime) -> bool:
    """Mark a flow's consent as given; False when it already was (one statement, so two
    submissions at once cannot both succeed). Flows past their expiry are forgotten here."""
    await session.execute(delete(ConnectFlowUse).where(ConnectFlowUse.expires_at < now))
    statement = _flow_insert(session).values(flow_id=flow_id, failures=0, spent_at=now, expires_at=expires_at)
    statement = statement.on_conflict_do_update(
        index_elements=[ConnectFlowUse.flow_id],
        set_={"spent_at": now},
        where=ConnectFlowUse.spent_at.is_(None),
    ).returning(ConnectFlowUse.flow_id)
    return await session.scalar(statement) is not None


async def sign_in_failures_since(session: AsyncSession, email_key: str, since: datetime) -> int:
    query = select(func.count()).select_from(SignInFailure).where(
        SignInFailure.email_key == email_key, SignInFailure.failed_at >= since
    )
    return int(await session.scalar(query) or 0)


async def add_sign_in_failure(session: AsyncSession, email_key: str, now: datetime, forget_before: datetime) -> None:
    """Record a failed sign-in, and forget failures and flows too old to matter."""
    session.add(SignInFailure(email_key=email_key, failed_at=now))
    await session.execute(delete(SignInFailure).where(SignInFailure.failed_at < forget_before))
    await session.execute(delete(ConnectFlowUse).where(ConnectFlowUse.expires_at < now))
    await session.flush()
# --- the whole state: reset and snapshots -------------------------------------------------------

#: Tables that belong to the instance rather than to its state: its keys (so tokens, secrets'
#: hashes and Connect's forms stay valid across a reset or a restore), the cache counter, and the
#: dashboard's sessions (a reset does not sign the operator out; a restore never revives a
#: session signed out since the snapshot).
INSTANCE_TABLES = frozenset({"instance_secrets", "signing_keys", "cache_generations", "dashboard_sessions"})

#: Every row of the state tables, by table name, as plain column values.
StateDump = dict[str, list[dict[str, Any]]]


def _state_tables() -> list[Any]:
    from .models import Base

    return [t for t in Base.metadata.sorted_tables if t.name not in INSTANCE_TABLES]


async def dump_state(session: AsyncSession) -> StateDump:
    """Every row of every state table (applications, owners, vehicles, users, connections,
    codes, tokens, executions), in dependency order."""
    dump: StateDump = {}
    for table in _state_tables():
        rows = await session.execute(select(table))
        dump[str(table.name)] = [dict(row._mapping) for row in rows]
    return dump


async def wipe_state(session: AsyncSession) -> None:
    """Delete every row of the state tables (children first); the instance's keys stay."""
    for table in reversed(_state_tables()):
        await session.execute(delete(table))


async def load_state(session: AsyncSession, dump: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """Replace the state tables' rows with ``dump`` (from :func:`dump_state`), in one
    transaction; caches are told through the change counter."""
    await wipe_state(session)
    for table in _state_tables():
        rows = dump.get(table.name) or []
        if rows:
            await session.execute(insert(table), [dict(row) for row in rows])
    await bump_generation(session)
