"""How Connect's pages look: each page the flow asks for (:mod:`..services.connect_outcomes`) as a
template and the context it renders with — titles, brand monograms and labels."""

from __future__ import annotations

import re
import zlib
from dataclasses import asdict
from typing import Any

from ..services.connect_outcomes import (
    Brand,
    BrandPage,
    ConfirmPage,
    DonePage,
    ErrorPage,
    FlowForm,
    LoginPage,
    Page,
    PermissionChoice,
    PermissionsPage,
    PreamblePage,
    VehicleChoice,
)

POWERTRAIN_LABELS = {
    "BEV": "Electric",
    "PHEV": "Plug-in hybrid",
    "HEV": "Hybrid",
    "ICE": "Combustion",
}


def initials(name: str) -> str:
    """A brand's monogram: "BMW" stays, "Mercedes-Benz" is "MB", "Tesla" is "T"."""
    if name.isupper() and len(name) <= 4:
        return name
    words = [w for w in re.split(r"[\s\-]+", name) if w]
    return "".join(w[0].upper() for w in words[:2]) or "?"


#: Above this many permissions the preamble folds its list (a ``<details>``, no script needed).
PREAMBLE_OPEN_LIST = 6


def brand_view(brand: Brand) -> dict[str, str]:
    # A stable tone per brand so tiles differ in colour without shipping logos.
    tone = zlib.crc32(brand.code.encode()) % 8
    letters = initials(brand.name)
    return {
        "code": brand.code,
        "name": brand.name,
        "initials": letters,
        "tone": f"tone-{tone}" + (" monogram-long" if len(letters) > 2 else ""),
    }


def _label(permission: str) -> str:
    return permission.removeprefix("read_").removeprefix("control_").replace("_", " ")


def vehicle_view(vehicle: VehicleChoice) -> dict[str, Any]:
    if vehicle.compatible:
        reason = ""
    elif vehicle.missing:
        reason = "Cannot share " + ", ".join(_label(p) for p in vehicle.missing)
    else:
        reason = "Cannot share any of the requested data"
    return {
        "id": vehicle.id,
        "title": f"{vehicle.year} {vehicle.brand.name} {vehicle.model}",
        "make": vehicle.brand.name,
        "brand": brand_view(vehicle.brand),
        "nickname": vehicle.nickname,
        "vin_tail": vehicle.vin[-6:],
        "powertrain": POWERTRAIN_LABELS.get(vehicle.powertrain, vehicle.powertrain),
        "compatible": vehicle.compatible,
        "reason": reason,
    }


def permission_view(permission: PermissionChoice) -> dict[str, Any]:
    name = permission.name
    return {
        "name": name,
        "kind": "control" if name.startswith("control_") else "read",
        "description": permission.description or _label(name).capitalize(),
        "required": permission.required,
        "checked": permission.checked,
    }


def _form(form: FlowForm) -> dict[str, Any]:
    return asdict(form)


def template_of(page: Page | ErrorPage) -> tuple[str, dict[str, Any]]:
    """The template that shows ``page`` and its context."""
    if isinstance(page, ErrorPage):
        return "connect/error.html", {"title": page.title, "message": page.message}
    if isinstance(page, DonePage):
        return "connect/done.html", {"application_name": page.application_name, "approved": page.approved}
    if isinstance(page, PreamblePage):
        return "connect/preamble.html", _form(page.form) | {
            "permissions": [permission_view(p) for p in page.permissions],
            "permissions_open": len(page.permissions) <= PREAMBLE_OPEN_LIST,
            "brand": brand_view(page.brand) if page.brand else None,
        }
    if isinstance(page, BrandPage):
        brands = [brand_view(b) for b in page.brands]
        return "connect/brand.html", _form(page.form) | {
            "brands": brands, "error": page.error, "query": page.query,
        }  # fmt: skip
    if isinstance(page, LoginPage):
        brand = brand_view(page.brand) if page.brand else None
        context = {"brand": brand, "email": page.email, "error": page.error}
        return "connect/login.html", _form(page.form) | context
    if isinstance(page, PermissionsPage):
        views = [vehicle_view(v) for v in page.vehicles]
        return "connect/permissions.html", _form(page.form) | {
            "vehicles": views,
            "choosing": page.choosing,
            "any_compatible": any(v["compatible"] for v in views),
            "single_select": page.single_select,
            "preselected": page.preselected,
            "permissions": [permission_view(p) for p in page.permissions],
            "error": page.error,
            "error_id": f"{page.error_about or 'permissions'}-error",
            "error_about": page.error_about,
            "brand": brand_view(page.brand) if page.brand else None,
        }
    assert isinstance(page, ConfirmPage)
    return "connect/confirm.html", _form(page.form) | {
        "vehicle": vehicle_view(page.vehicle),
        "permissions": [permission_view(p) for p in page.permissions],
    }
