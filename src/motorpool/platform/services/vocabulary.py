"""The closed sets of values the services accept, for the OpenAPI document: routes declare them
as enums so that the document says what the server refuses (routes never read the simulation
themselves). Each is the very collection the services check against."""

from __future__ import annotations

from ..sim import catalogue
from ..sim.compatibility import REGIONS as _REGIONS
from ..sim.signals import PERMISSION_LEVELS, PERMISSIONS, SIGNALS
from .grants import MODES as _MODES

#: Where models are sold (``filter[region]``, the matrix's ``region``).
REGIONS: tuple[str, ...] = tuple(_REGIONS)
#: Powertrain types.
POWERTRAINS: tuple[str, ...] = tuple(catalogue.POWERTRAINS)
#: Make codes of the catalogue (the services also take a make's name, in any case).
MAKES: tuple[str, ...] = tuple(sorted(make.code for make in catalogue.makes()))
#: Every permission.
PERMISSION_NAMES: tuple[str, ...] = tuple(sorted(PERMISSIONS))
#: Every signal code.
SIGNAL_CODES: tuple[str, ...] = tuple(sorted(SIGNALS))
#: Connection modes.
MODES: tuple[str, ...] = tuple(_MODES)
#: Connect's test-mode compatibility levels.
TEST_LEVELS: tuple[str, ...] = tuple(PERMISSION_LEVELS)
