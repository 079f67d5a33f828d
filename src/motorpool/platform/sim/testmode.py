"""Test-mode vehicles derived from the owner's e-mail (smartcar-v3.md §12, DESIGN.md §5), and VINs.

- ``<n>-vehicles@…`` (1 ≤ n ≤ 999) → n vehicles;
- ``<VIN>@<level>.…`` with level ``compatible``/``phev`` (every permission), ``bev`` (battery
  ones), ``fuel`` (gasoline ones) or ``incompatible`` (none) → that VIN at that level;
- ``smartcar@successful-request.com`` → VIN ``0SCAUDI037A5ADB1C``;
- anything else → one vehicle that grants every permission (Smartcar's test account).

With a brand chosen in Connect, the vehicles an e-mail draws are of that make (as in Smartcar's
test mode, where the brand picked is the brand of the test cars); an e-mail that names a VIN keeps
the make its VIN names, as ``single_select_vin`` wins over ``make``.

Everything is a function of the e-mail (case-insensitive), so logging in twice gives the same
cars. A count outside 1–999 is not the convention and gives one vehicle, like any other address."""

from __future__ import annotations

import functools
import hashlib
import operator
import random
import re
from dataclasses import dataclass

from . import catalogue
from .catalogue import ModelSpec
from .signals import PERMISSION_LEVELS, level_for, permissions_for

SUCCESSFUL_REQUEST_EMAIL = "smartcar@successful-request.com"
SUCCESSFUL_REQUEST_VIN = "0SCAUDI037A5ADB1C"
MAX_TEST_VEHICLES = 999

VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"  # no I, O or Q
_TRANSLITERATION = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9))), **dict(zip("JKLMN", range(1, 6))), "P": 7, "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10))),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
#: Position 10 of a VIN, repeating every 30 years from 1980.
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"

_VEHICLES_EMAIL = re.compile(r"(\d{1,6})-vehicles")
_VIN_LOCAL = re.compile(r"[a-z0-9]{17}")
_LEVEL_POWERTRAINS: dict[str, tuple[str, ...]] = {
    "bev": ("BEV",),
    "fuel": ("ICE", "HEV"),
    "phev": ("PHEV",),
    "compatible": ("BEV", "PHEV", "HEV", "ICE"),
    "incompatible": ("BEV", "PHEV", "HEV", "ICE"),
}


@dataclass(frozen=True, slots=True)
class TestVehicle:
    """A vehicle a test-mode owner has: what to create, and which permissions it can grant."""

    __test__ = False  # not a pytest test class

    vin: str
    spec: ModelSpec
    year: int
    seed: int
    permissions: frozenset[str]
    level: str
    #: The brand it was drawn in (chosen in Connect), ``None`` when the e-mail alone made it.
    brand: str | None = None


def vin_check_digit(vin: str) -> str:
    """The ISO 3779 / North American check digit (position 9) of a 17-character VIN."""
    # map rather than a generator: a seed of a million cars computes a million of these.
    total = sum(map(operator.mul, map(_TRANSLITERATION.__getitem__, vin.upper()), _WEIGHTS))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def year_code(year: int) -> str:
    return _YEAR_CODES[(year - 1980) % 30]


def years_for_code(code: str) -> list[int]:
    """Model years a VIN's tenth character can stand for (1980–2039)."""
    index = _YEAR_CODES.find(code.upper())
    return [] if index < 0 else [1980 + index, 2010 + index]


def model_code(spec: ModelSpec) -> str:
    """Two VIN characters naming the model within its make (positions 4 and 5, where a real
    VIN's descriptor names the line): a stable function of the model's name, so a VIN made here
    tells its model again (``sim.compatibility.decode_vin``)."""
    return _model_code(spec.make, spec.model)


@functools.cache
def _model_code(make: str, model: str) -> str:
    digest = hashlib.sha256(f"{make}/{model}".encode()).digest()
    return VIN_ALPHABET[digest[0] % len(VIN_ALPHABET)] + VIN_ALPHABET[digest[1] % len(VIN_ALPHABET)]


def make_vin(rng: random.Random, spec: ModelSpec, year: int | None = None) -> str:
    """A plausible VIN for the model: the make's WMI, the model's code (:func:`model_code`), the
    model year code and a valid check digit."""
    make = catalogue.find_make(spec.make)
    assert make is not None, spec.make
    if year is None:
        year = rng.choice(spec.years)
    letters = VIN_ALPHABET
    # Five draws as before, so a seed's later draws (plant, serial) stay what they were.
    descriptor = model_code(spec) + "".join(rng.choice(letters) for _ in range(5))[2:]
    plant = rng.choice(letters[:23])
    serial = f"{rng.randrange(1_000_000):06d}"
    draft = f"{rng.choice(make.wmis)}{descriptor}0{year_code(year)}{plant}{serial}"
    return draft[:8] + vin_check_digit(draft) + draft[9:]


def _seed(email: str, index: int) -> int:
    digest = hashlib.sha256(f"motorpool-test:{email}#{index}".encode()).digest()
    return int.from_bytes(digest[:6], "big")


def _derived(
    email: str, index: int, level: str | None = None, make: str | None = None
) -> TestVehicle:
    """A vehicle drawn from the e-mail (of ``make`` when given); it grants what its powertrain
    serves, or what ``level`` names."""
    # The brand is part of the seed: one e-mail signed in with two brands owns two sets of cars.
    seed = _seed(email if make is None else f"{email}/{make}", index)
    rng = random.Random(seed)
    spec = rng.choice(catalogue.models_of(make)) if make else catalogue.pick_model(rng)
    year = rng.choice(spec.years)
    if level is None:
        return TestVehicle(make_vin(rng, spec, year), spec, year, seed, permissions_for(spec), level_for(spec), make)
    return TestVehicle(make_vin(rng, spec, year), spec, year, seed, PERMISSION_LEVELS[level], level, make)


def _for_vin(email: str, vin: str, level: str, make_hint: str | None = None) -> TestVehicle:
    seed = _seed(email, 0)
    rng = random.Random(seed)
    powertrains = _LEVEL_POWERTRAINS[level]
    make = catalogue.find_make(make_hint) if make_hint else catalogue.make_for_wmi(vin[:3])
    candidates = [m for m in catalogue.models_of(make.code) if m.powertrain in powertrains] if make else []
    if not candidates:
        candidates = [m for m in catalogue.models() if m.powertrain in powertrains]
    # Prefer a model that was built in the year the VIN's tenth character names.
    codes = years_for_code(vin[9])
    fitting = [m for m in candidates if any(y in m.years for y in codes)]
    spec = rng.choice(fitting or candidates)
    decoded = [y for y in codes if y in spec.years]
    year = decoded[-1] if decoded else rng.choice(spec.years)
    return TestVehicle(vin, spec, year, seed, PERMISSION_LEVELS[level], level)


def vehicles_for_test_email(email: str, make: str | None = None) -> list[TestVehicle]:
    """The test-mode vehicles of an owner's e-mail, deterministically; of ``make`` (a catalogue
    code) when the owner chose that brand, except for an e-mail that names a VIN."""
    email = email.strip().lower()
    local, _, domain = email.rpartition("@")
    if email == SUCCESSFUL_REQUEST_EMAIL:
        return [_for_vin(email, SUCCESSFUL_REQUEST_VIN, "compatible", make_hint="AUDI")]
    count = _VEHICLES_EMAIL.fullmatch(local)
    if count is not None and 1 <= int(count.group(1)) <= MAX_TEST_VEHICLES:
        return [_derived(email, index, make=make) for index in range(int(count.group(1)))]
    level = domain.split(".", 1)[0]
    if _VIN_LOCAL.fullmatch(local) and level in PERMISSION_LEVELS:
        return [_for_vin(email, local.upper(), level)]
    # Any other e-mail is Smartcar's test account: one vehicle that grants every permission, so
    # the official SDKs' end-to-end suites (read_fuel and read_battery both required) connect it.
    return [_derived(email, 0, "compatible", make=make)]
