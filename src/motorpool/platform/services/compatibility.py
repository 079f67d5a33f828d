"""The Compatibility APIs: v2 by VIN and the v2 matrix (behind the application's client
credentials, sent as HTTP Basic), and the v3 list of compatible vehicles (open to anyone).

The answers come from :mod:`..sim.compatibility`, which reads the catalogue and what the
simulation serves; this module checks the credentials and the parameters."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote

from ..errors import AuthenticationError, OAuthError, ValidationFailed
from ..sim import catalogue
from ..sim.compatibility import (
    REGIONS,
    CompatibleVehicle,
    MatrixModel,
    VinCompatibility,
    compatible_vehicles,
    level_compatibility,
    matrix,
    vin_compatibility,
)
from ..sim.signals import PERMISSION_LEVELS, PERMISSIONS
from .grants import MODES
from .oauth import ClientRegistry
from .params import basic_credentials

#: The answers' types, for the routes.
__all__ = ["CompatibilityService", "CompatibleVehicle", "MatrixModel", "VinCompatibility"]

CLIENT_CREDENTIALS = "client_id:client_secret"


def _required(query: Mapping[str, str], name: str) -> str:
    value = query.get(name, "").strip()
    if not value:
        raise ValidationFailed(
            f"The '{name}' parameter is required.", code="MISSING_PARAMETER", source={"parameter": name}
        )
    return value


def _invalid(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, source={"parameter": name})


def parse_permissions(text: str, name: str = "scope") -> list[str]:
    """A space-separated list of permissions (``required:`` prefixes allowed, as Connect takes
    them); an unknown one is a VALIDATION error."""
    permissions = [item.removeprefix("required:") for item in text.replace(",", " ").split()]
    unknown = [p for p in permissions if p not in PERMISSIONS]
    if unknown:
        raise _invalid(name, f"Unknown permission(s) in '{name}': {', '.join(unknown)}.")
    return list(dict.fromkeys(permissions))


def parse_region(text: str, name: str) -> str:
    region = text.strip().upper()
    if region not in REGIONS:
        raise _invalid(name, f"'{name}' must be one of {', '.join(REGIONS)}, not '{text}'.")
    return region


def parse_vin(text: str) -> str:
    vin = text.strip().upper()
    if len(vin) != 17 or not vin.isascii() or not vin.isalnum():
        raise _invalid("vin", f"'{text}' is not a VIN: a VIN is 17 letters and digits.")
    return vin


class CompatibilityService:
    def __init__(self, clients: ClientRegistry) -> None:
        self.clients = clients

    async def _authenticate(self, authorization: str | None) -> None:
        client_id, client_secret = basic_credentials(authorization, CLIENT_CREDENTIALS)
        try:
            await self.clients.authenticate(unquote(client_id), unquote(client_secret))
        except OAuthError:
            raise AuthenticationError(
                "The client id and secret are not valid.",
                code=None,
                headers={"WWW-Authenticate": 'Basic realm="motorpool"'},
            ) from None

    async def by_vin(self, authorization: str | None, query: Mapping[str, str]) -> VinCompatibility:
        """``GET /v2.0/compatibility``: ``vin``, ``scope`` and ``country`` (default US); in test
        mode, ``test_mode_compatibility_level`` answers as Connect's test levels do."""
        await self._authenticate(authorization)
        vin = parse_vin(_required(query, "vin"))
        permissions = parse_permissions(_required(query, "scope"))
        country = query.get("country", "US").strip() or "US"
        if len(country) != 2 or not country.isascii() or not country.isalpha():
            raise _invalid("country", f"'{country}' is not an ISO 3166-1 alpha-2 country code.")
        mode = query.get("mode")
        if mode is not None and mode not in MODES:
            raise _invalid("mode", f"'mode' must be one of {', '.join(MODES)}.")
        level = query.get("test_mode_compatibility_level")
        if level is not None:
            if level not in PERMISSION_LEVELS:
                raise _invalid(
                    "test_mode_compatibility_level",
                    f"'test_mode_compatibility_level' must be one of {', '.join(PERMISSION_LEVELS)}.",
                )
            if mode in (None, "test"):
                return level_compatibility(level, permissions)
        return vin_compatibility(vin, permissions, country)

    async def matrix(
        self, authorization: str | None, query: Mapping[str, str]
    ) -> dict[str, list[MatrixModel]]:
        """``GET /v2.0/compatibility/matrix``: ``region`` (US, CA, EUROPE), and optionally
        ``type`` (a powertrain), ``make`` and ``scope`` (space-separated lists)."""
        await self._authenticate(authorization)
        region = parse_region(_required(query, "region"), "region")
        powertrain = query.get("type")
        if powertrain is not None:
            powertrain = powertrain.strip().upper()
            if powertrain not in catalogue.POWERTRAINS:
                raise _invalid("type", f"'type' must be one of {', '.join(catalogue.POWERTRAINS)}.")
        makes = query["make"].split() if query.get("make", "").strip() else None
        scope = parse_permissions(query["scope"]) if query.get("scope", "").strip() else None
        return matrix(region, makes, powertrain, scope)

    @staticmethod
    def compatible_vehicles(query: Mapping[str, str]) -> list[CompatibleVehicle]:
        """``GET /v3/compatible-vehicles``: ``filter[region]`` and ``filter[make]``, both
        optional."""
        region = query.get("filter[region]")
        if region is not None:
            region = parse_region(region, "filter[region]")
        make = query.get("filter[make]")
        return compatible_vehicles(region, make.strip() if make is not None and make.strip() else None)
