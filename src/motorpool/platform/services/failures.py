"""Simulated failures from the control plane: break a vehicle's connected-services account, make
a signal fail, repair either.

Each is a plan of :mod:`..sim.plans` applied at the vehicle's application's now with a
compare-and-set (``CommandService.steer``), like the rest of steering; the failures live in the
vehicle's state record (``sim/failures.py``). What follows from them needs nothing here: the
Vehicle API refuses a broken account (``VehicleGate.check_account``), the readings carry a failing
signal's error, and the webhook monitor sees both at the vehicle's next report (``VEHICLE_ERROR``
with ``ERROR``, then ``RESOLVED``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..errors import NotFound, ValidationFailed
from ..sim import failures, plans
from ..sim.state import VehicleState
from ..store import repo
from .access import reauthentication_url
from .commands import CommandService
from .params import parse_uuid

#: What the control plane offers: the account codes, and each signal error as ``TYPE:CODE``
#: (``TYPE`` alone for a type without a code), the default first.
ACCOUNT_CODES: tuple[str, ...] = (
    failures.DEFAULT_ACCOUNT_CODE,
    *(code for code in failures.ACCOUNT_CODES if code != failures.DEFAULT_ACCOUNT_CODE),
)
SIGNAL_ERROR_CHOICES: tuple[str, ...] = tuple(dict.fromkeys((
    "{}:{}".format(*failures.DEFAULT_SIGNAL_ERROR),
    *(f"{kind}:{code}" if code else kind for kind, codes in failures.SIGNAL_ERRORS.items() for code in codes),
)))  # fmt: skip


@dataclass(frozen=True, slots=True)
class FailedSignal:
    code: str
    error_type: str
    error_code: str | None
    since_ms: int


@dataclass(frozen=True, slots=True)
class Failures:
    """A vehicle's simulated failures, as the control plane shows them."""

    vehicle_id: str
    #: The account's ``CONNECTED_SERVICES_ACCOUNT`` code; None while it works.
    account_code: str | None
    account_since_ms: int | None
    #: Where the owner re-authenticates (None unless that is what mends the account).
    reauthentication_url: str | None
    signals: tuple[FailedSignal, ...]


class FailureService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], commands: CommandService, origin: str
    ) -> None:
        self.sessions = sessions
        self.commands = commands
        self.origin = origin

    async def _vehicle(self, vehicle_id: str, application_id: str | None) -> tuple[str, str | None]:
        """The vehicle's id, checked, and its application; one of another application than the
        one named is not found."""
        vehicle_id = parse_uuid(vehicle_id, "vehicleId", parameter="vehicleId")
        if application_id is not None:
            application_id = parse_uuid(application_id, "application", parameter="application")
        async with self.sessions() as session:
            vehicle = await repo.get_vehicle(session, vehicle_id)
        if vehicle is None or (application_id is not None and vehicle.application_id != application_id):
            raise NotFound(
                f"No vehicle with id '{vehicle_id}'"
                + (f" in application '{application_id}'." if application_id else "."),
                code="PATH",
            )
        return vehicle_id, vehicle.application_id

    def _view(self, vehicle_id: str, application_id: str | None, state: VehicleState) -> Failures:
        account = failures.account_failure(state)
        url = None
        if account is not None and account["code"] in failures.REAUTHENTICATE_CODES and application_id:
            url = reauthentication_url(self.origin, application_id, vehicle_id)
        return Failures(
            vehicle_id=vehicle_id,
            account_code=None if account is None else account["code"],
            account_since_ms=None if account is None else account["since"],
            reauthentication_url=url,
            signals=tuple(
                FailedSignal(code, failure["type"], failure["code"], failure["since"])
                for code, failure in sorted(failures.failed_signals(state).items())
            ),
        )

    async def show(self, vehicle_id: str, application_id: str | None = None) -> Failures:
        vehicle_id, owner = await self._vehicle(vehicle_id, application_id)
        async with self.sessions() as session:
            vehicle = await repo.get_vehicle(session, vehicle_id)
        if vehicle is None:
            raise NotFound(f"No vehicle with id '{vehicle_id}'.", code="PATH")
        return self._view(vehicle_id, owner, vehicle.state)  # type: ignore[arg-type]

    async def break_account(
        self, vehicle_id: str, code: str | None = None, application_id: str | None = None
    ) -> Failures:
        """The owner's account stops working (``AUTHENTICATION_FAILED`` unless ``code`` names
        another ``CONNECTED_SERVICES_ACCOUNT`` code) until repaired or re-authenticated."""
        vehicle_id, owner = await self._vehicle(vehicle_id, application_id)
        wanted = (code or failures.DEFAULT_ACCOUNT_CODE).strip().upper()
        state = await self.commands.steer(vehicle_id, partial(plans.break_account, code=wanted))
        return self._view(vehicle_id, owner, state)

    async def fail_signal(
        self, vehicle_id: str, code: str, error: str | None = None, application_id: str | None = None
    ) -> Failures:
        """``code`` fails from now on with ``error`` (``TYPE:CODE``; ``UPSTREAM:UNKNOWN_ISSUE``
        by default)."""
        vehicle_id, owner = await self._vehicle(vehicle_id, application_id)
        try:
            parsed = failures.parse_signal_error(error)
        except ValueError as invalid:
            raise ValidationFailed(str(invalid), source={"pointer": "/error"}) from None
        state = await self.commands.steer(vehicle_id, partial(plans.fail_signal, code=code, error=parsed))
        return self._view(vehicle_id, owner, state)

    async def repair(
        self, vehicle_id: str, signal: str | None = None, application_id: str | None = None
    ) -> Failures:
        """Mend everything, or only the failing ``signal`` (the account stays as it is then)."""
        vehicle_id, owner = await self._vehicle(vehicle_id, application_id)
        plan = (
            partial(plans.repair, account=True, signals=None)
            if signal is None
            else partial(plans.repair, account=False, signals=(signal,))
        )
        state = await self.commands.steer(vehicle_id, plan)
        return self._view(vehicle_id, owner, state)
