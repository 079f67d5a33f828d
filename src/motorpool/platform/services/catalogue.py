"""The simulated fleet's catalogue as the control plane shows it: every make and model, its
years and powertrain, and what it supports — the permissions it can grant, the commands it
accepts, the signals it reports (``GET /admin/catalogue``, ``motorpool catalogue``)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ValidationFailed
from ..sim import catalogue
from ..sim.compatibility import supported_commands
from ..sim.signals import permissions_for, supported_signals


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    make: str
    make_name: str
    model: str
    years: tuple[int, ...]
    powertrain: str
    body_style: str
    permissions: tuple[str, ...]
    commands: tuple[str, ...]
    signals: tuple[str, ...]


def catalogue_entries(make: str | None = None, powertrain: str | None = None) -> list[CatalogueEntry]:
    """Every model, or those of one make (code or name) and/or one powertrain."""
    try:
        specs = catalogue.models(powertrain)
    except ValueError as exc:
        raise ValidationFailed(str(exc), source={"parameter": "powertrain"}) from None
    if make is not None:
        found = catalogue.find_make(make)
        if found is None:
            names = ", ".join(m.code for m in catalogue.makes())
            raise ValidationFailed(f"No make '{make}' in the catalogue; it has {names}.",
                                   source={"parameter": "make"})  # fmt: skip
        specs = [spec for spec in specs if spec.make == found.code]
    return [
        CatalogueEntry(
            make=spec.make, make_name=spec.make_display, model=spec.model, years=spec.years,
            powertrain=spec.powertrain, body_style=spec.body_style,
            permissions=tuple(sorted(permissions_for(spec))),
            commands=tuple(sorted(supported_commands(spec))),
            signals=tuple(sorted(supported_signals(spec))),
        )
        for spec in specs
    ]
