"""Named scenarios: a declarative file (TOML, YAML or JSON) of applications, owners, fleets,
connections, pinned signals, simulated failures and the clock, applied through the same services the admin API
calls (``POST /admin/scenario``, ``motorpool scenario load``, the test fixture's mark).

The whole document is checked before anything is created; then it is applied in order —
applications, clock, owners, fleets, connections, signals, failures — and the answer names every id it
made, by the labels the file gave them."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ValidationFailed
from ..sim import failures as sim_failures
from ..sim.pinning import pin_problem
from ..sim.signals import SIGNALS
from .admin import AdminService
from .clocks import ClockBook
from .failures import FailureService
from .steering import Steering

Format = Literal["toml", "yaml", "json"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ScenarioApplication(_Strict):
    name: str = Field(min_length=1, max_length=200)
    redirect_uris: list[str] = Field(default_factory=list, alias="redirectUris")


class ScenarioClock(_Strict):
    #: 0 freezes simulated time, 1 runs it at real pace.
    rate: float | None = Field(default=None, ge=0, le=10_000)
    #: Jump forward to this instant (never back).
    now: datetime | None = None


class ScenarioOwner(_Strict):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=8, max_length=200)
    name: str = ""


class ScenarioFleet(_Strict):
    #: A label that connections and signals use to name these vehicles.
    name: str | None = None
    #: The application's name in this file; default: the file's first application, else the
    #: development application (the oldest one).
    application: str | None = None
    #: A live owner's e-mail instead of an application: the vehicles are that owner's.
    owner: str | None = None
    count: int = Field(default=1, ge=1, le=1000)
    make: str | None = None
    model: str | None = None
    powertrain: Literal["BEV", "PHEV", "HEV", "ICE"] | None = Field(default=None, alias="powertrainType")
    year: int | None = Field(default=None, ge=1990, le=2100)


class ScenarioConnection(_Strict):
    email: str = Field(min_length=3, max_length=320)
    application: str | None = None
    mode: Literal["live", "simulated", "test"] = "simulated"
    #: Fleet labels; default: every vehicle the owner has in that mode.
    vehicles: list[str] | None = None
    permissions: list[str] | None = None


class ScenarioSignal(_Strict):
    #: A fleet label: every vehicle of that fleet gets the signal pinned.
    vehicles: str
    code: str = Field(min_length=3, max_length=100)
    body: dict[str, Any]


class ScenarioFailure(_Strict):
    #: A fleet label: every vehicle of that fleet gets the failure.
    vehicles: str
    #: Break the connected-services account with this code (``AUTHENTICATION_FAILED``: the
    #: owner must re-authenticate).
    account: str | None = None
    #: Make this signal fail, with ``error`` (``TYPE:CODE``; ``UPSTREAM:UNKNOWN_ISSUE`` by default).
    signal: str | None = None
    error: str | None = None


class Scenario(_Strict):
    name: str | None = None
    description: str | None = None
    applications: list[ScenarioApplication] = Field(default_factory=list)
    clock: ScenarioClock | None = None
    owners: list[ScenarioOwner] = Field(default_factory=list)
    fleets: list[ScenarioFleet] = Field(default_factory=list)
    connections: list[ScenarioConnection] = Field(default_factory=list)
    signals: list[ScenarioSignal] = Field(default_factory=list)
    failures: list[ScenarioFailure] = Field(default_factory=list)


def parse_scenario(text: str, format: Format) -> Scenario:
    """Read a scenario document; a malformed one is a ``ValidationFailed`` saying where."""
    import yaml  # imported here: only scenarios need it

    try:
        if format == "toml":
            document: Any = tomllib.loads(text)
        elif format == "yaml":
            document = yaml.safe_load(text)
        else:
            document = json.loads(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError, ValueError) as exc:
        raise ValidationFailed(f"The scenario is not valid {format.upper()}: {exc}") from None
    return scenario_from(document)


def scenario_from(document: Any) -> Scenario:
    if not isinstance(document, dict):
        raise ValidationFailed("A scenario is a table (a mapping) at its top level.")
    try:
        scenario = Scenario.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "/" + "/".join(str(part) for part in first["loc"])
        raise ValidationFailed(
            f"The scenario is not valid at {where}: {first['msg']}", source={"pointer": where}
        ) from None
    labels = {fleet.name for fleet in scenario.fleets if fleet.name}
    names = {app.name for app in scenario.applications}
    for index, fleet in enumerate(scenario.fleets):
        if fleet.application is not None and fleet.application not in names:
            raise _unknown(f"/fleets/{index}/application", "application", fleet.application)
        if fleet.owner is not None and fleet.application is not None:
            raise ValidationFailed(
                "A fleet belongs to an application (simulated) or to an owner (live), not both.",
                source={"pointer": f"/fleets/{index}"},
            )
    for index, connection in enumerate(scenario.connections):
        if connection.application is not None and connection.application not in names:
            raise _unknown(f"/connections/{index}/application", "application", connection.application)
        for label in connection.vehicles or ():
            if label not in labels:
                raise _unknown(f"/connections/{index}/vehicles", "fleet", label)
    for index, signal in enumerate(scenario.signals):
        if signal.vehicles not in labels:
            raise _unknown(f"/signals/{index}/vehicles", "fleet", signal.vehicles)
        problem = pin_problem(signal.code, signal.body)
        if problem is not None:
            raise ValidationFailed(problem, source={"pointer": f"/signals/{index}"})
    for index, failure in enumerate(scenario.failures):
        if failure.vehicles not in labels:
            raise _unknown(f"/failures/{index}/vehicles", "fleet", failure.vehicles)
        problem = failure_problem(failure)
        if problem is not None:
            raise ValidationFailed(problem, source={"pointer": f"/failures/{index}"})
    return scenario


def failure_problem(failure: ScenarioFailure) -> str | None:
    """What is wrong with a ``[[failures]]`` entry, if anything (before anything is made)."""
    if failure.account is None and failure.signal is None:
        return "A failure breaks the account (account = CODE), fails a signal (signal = CODE), or both."
    if failure.account is not None and failure.account.upper() not in sim_failures.ACCOUNT_CODES:
        return f"'{failure.account}' is not a CONNECTED_SERVICES_ACCOUNT code: one of {', '.join(sim_failures.ACCOUNT_CODES)}."
    if failure.signal is None:
        return "error goes with signal." if failure.error is not None else None
    if failure.signal not in SIGNALS:
        return f"There is no signal with code '{failure.signal}'."
    try:
        sim_failures.parse_signal_error(failure.error)
    except ValueError as invalid:
        return str(invalid)
    return None


def _unknown(pointer: str, kind: str, name: str) -> ValidationFailed:
    return ValidationFailed(
        f"The scenario names {kind} '{name}', which it does not define.", source={"pointer": pointer}
    )


class ScenarioLoader:
    def __init__(
        self, admin: AdminService, clocks: ClockBook, steering: Steering, failures: FailureService
    ) -> None:
        self.admin = admin
        self.clocks = clocks
        self.steering = steering
        self.failures = failures

    async def apply(self, scenario: Scenario) -> dict[str, Any]:
        """Create what ``scenario`` describes; the ids made, by the file's labels."""
        applications: dict[str, dict[str, str]] = {}
        for new in scenario.applications:
            app, issued = await self.admin.create_application(new.name, new.redirect_uris)
            applications[new.name] = {
                "id": app.id, "clientId": app.client_id, "clientSecret": issued.plaintext,
                "managementToken": app.management_token,
            }  # fmt: skip
        default_app = await self._default_application(scenario, applications)
        touched = {default_app, *(a["id"] for a in applications.values())}
        if scenario.clock is not None:
            moment = scenario.clock.now
            if moment is not None and moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            to_ms = int(moment.timestamp() * 1000) if moment is not None else None
            for application_id in sorted(touched):
                await self.clocks.change(application_id, rate=scenario.clock.rate, to_ms=to_ms)
        for owner in scenario.owners:
            await self.admin.create_owner(owner.email, owner.password, owner.name)
        vehicles: dict[str, list[str]] = {}
        for index, fleet in enumerate(scenario.fleets):
            label = fleet.name or f"fleet-{index}"
            app_id = None
            if fleet.owner is None:
                app_id = applications[fleet.application]["id"] if fleet.application else default_app
            made = vehicles.setdefault(label, [])
            for _ in range(fleet.count):
                record = await self.admin.create_vehicle(
                    application_id=app_id, owner_email=fleet.owner, make=fleet.make,
                    model=fleet.model, powertrain=fleet.powertrain, year=fleet.year,
                )  # fmt: skip
                made.append(record.id)
        users: dict[str, str] = {}
        for connection in scenario.connections:
            app_id = applications[connection.application]["id"] if connection.application else default_app
            ids = None
            if connection.vehicles is not None:
                ids = [vehicle for label in connection.vehicles for vehicle in vehicles[label]]
            stored = await self.admin.direct_connect(
                app_id, mode=connection.mode, email=connection.email,
                permissions=connection.permissions, vehicle_ids=ids, external_id=None,
            )  # fmt: skip
            users[connection.email] = stored.user_id
        for signal in scenario.signals:
            for vehicle_id in vehicles[signal.vehicles]:
                await self.steering.pin_signal(vehicle_id, signal.code, signal.body)
        for failure in scenario.failures:
            for vehicle_id in vehicles[failure.vehicles]:
                if failure.account is not None:
                    await self.failures.break_account(vehicle_id, failure.account)
                if failure.signal is not None:
                    await self.failures.fail_signal(vehicle_id, failure.signal, failure.error)
        return {
            "name": scenario.name,
            "applicationId": default_app,
            "applications": applications,
            "vehicles": vehicles,
            "users": users,
        }

    async def _default_application(
        self, scenario: Scenario, created: dict[str, dict[str, str]]
    ) -> str:
        if scenario.applications:
            return created[scenario.applications[0].name]["id"]
        existing = await self.admin.list_applications()
        if not existing:
            raise ValidationFailed("The scenario defines no application and there is none yet.")
        return min(existing, key=lambda app: app.created_at).id
