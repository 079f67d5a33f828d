"""Making vehicles: a catalogue model, a VIN, a seed, and the state the simulation starts from.

The admin API (one car, or a fleet at once) and Connect (a simulated car of the brand an owner
chose) build them the same way."""

from __future__ import annotations

import random
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from ..errors import ValidationFailed
from ..sim import catalogue
from ..sim.signals import permissions_for
from ..sim.testmode import make_vin
from ..sim.vehicle import new_vehicle_state
from ..store.models import Vehicle


def build_vehicle(
    *,
    application_id: str | None,
    owner_id: str | None,
    make: str | None = None,
    model: str | None = None,
    powertrain: str | None = None,
    year: int | None = None,
    vin: str | None = None,
    nickname: str | None = None,
    seed: int | None = None,
    now_ms: int | None = None,
) -> Vehicle:
    """A vehicle of an application's simulated fleet (``application_id``) or of a live owner
    (``owner_id``), drawn from ``seed`` where a detail is not given. Without a ``nickname`` it
    keeps the one its simulation draws (often none): the stored nickname is the one its signal
    reports."""
    return Vehicle(**vehicle_row(
        application_id=application_id, owner_id=owner_id, make=make, model=model,
        powertrain=powertrain, year=year, vin=vin, nickname=nickname, seed=seed, now_ms=now_ms,
    ))  # fmt: skip


def vehicle_row(
    *,
    application_id: str | None,
    owner_id: str | None,
    make: str | None = None,
    model: str | None = None,
    powertrain: str | None = None,
    year: int | None = None,
    vin: str | None = None,
    nickname: str | None = None,
    seed: int | None = None,
    now_ms: int | None = None,
) -> dict[str, Any]:
    """The columns of :func:`build_vehicle`'s vehicle, without building the ORM object (a
    third of the cost when a fleet of a million is made)."""
    if powertrain is not None and powertrain.upper() not in catalogue.POWERTRAINS:
        raise ValidationFailed(f"powertrain must be one of {', '.join(catalogue.POWERTRAINS)}.")
    seed = seed if seed is not None else secrets.randbits(48)
    rng = random.Random(seed)
    spec = pick_spec(rng, make, model, powertrain)
    if year is None:
        year = rng.choice(list(spec.years))
    elif year not in spec.years:
        raise ValidationFailed(
            f"The {spec.make_display} {spec.model} was built in {spec.years[0]}–{spec.years[-1]}."
        )
    if vin is not None:
        vin = vin.strip().upper()
        if len(vin) != 17 or not vin.isalnum():
            raise ValidationFailed("A VIN is 17 letters and digits.")
    named = {} if nickname is None else {"nickname": nickname}
    state = new_vehicle_state(spec, seed, now_ms or int(time.time() * 1000), year=year, **named)
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "vin": vin or make_vin(rng, spec),
        "make": spec.make,
        "model": spec.model,
        "year": year,
        "powertrain": spec.powertrain,
        "mode": "simulated" if application_id else "live",
        "application_id": application_id,
        "owner_id": owner_id,
        "nickname": state["nickname"],
        "seed": seed,
        # A simulated car grants what its powertrain can serve (no read_fuel on a BEV).
        "capabilities": sorted(permissions_for(spec)),
        "state": state,
        "version": 1,
        "created_at": datetime.now(UTC),
    }


def pick_spec(
    rng: random.Random, make: str | None, model: str | None, powertrain: str | None
) -> catalogue.ModelSpec:
    """The catalogue model asked for, or one drawn from those of ``make`` and ``powertrain``."""
    if make and model:
        spec = catalogue.find_model(make, model)
        if spec is None:
            raise ValidationFailed(f"'{make} {model}' is not in the vehicle catalogue.")
        if powertrain and spec.powertrain != powertrain.upper():
            raise ValidationFailed(f"The {spec.model} is a {spec.powertrain}, not a {powertrain}.")
        return spec
    candidates = catalogue.models(powertrain.upper() if powertrain else None)
    if make:
        candidates = [
            m for m in candidates
            if m.make == make.upper() or m.make_display.lower() == make.lower()
        ]  # fmt: skip
    if not candidates:
        raise ValidationFailed("No catalogue model matches that make and powertrain.")
    return rng.choice(candidates)
