"""What Connect answers each step of its flow with: a page to show (with what it shows, not how),
a redirect back to the application, or an error page. The HTTP layer renders them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Step = Literal["preamble", "brand", "login", "permissions", "confirm"]


@dataclass(frozen=True, slots=True)
class Brand:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class VehicleChoice:
    """A vehicle as an owner sees it on a page, and whether it can share what was asked."""

    id: str
    year: int
    brand: Brand
    model: str
    nickname: str
    vin: str
    powertrain: str
    compatible: bool
    #: The required permissions it cannot grant (why it is not compatible, when it is not).
    missing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PermissionChoice:
    name: str
    #: What the permission lets the application do (None: the catalogue has no words for it).
    description: str | None
    required: bool
    checked: bool


@dataclass(frozen=True, slots=True)
class FlowForm:
    """What every page of a flow carries: the sealed flow, the CSRF token, where it stands."""

    flow: str
    csrf_token: str
    step: Step
    step_number: int
    step_count: int
    application_name: str
    mode: str
    reauth: bool


@dataclass(frozen=True)
class PreamblePage:
    """The first page: which application asks, and for what, before anything else happens."""

    form: FlowForm
    permissions: list[PermissionChoice]
    #: The brand the link names (``make``), if any: the owner will sign in there.
    brand: Brand | None
    status: int = 200


@dataclass(frozen=True)
class BrandPage:
    form: FlowForm
    brands: list[Brand]
    error: str | None = None
    status: int = 200
    #: What the owner searched the brands for ("" shows them all).
    query: str = ""


@dataclass(frozen=True)
class LoginPage:
    form: FlowForm
    #: The brand chosen before, if any (the page shows its sign-in).
    brand: Brand | None
    email: str = ""
    error: str | None = None
    status: int = 200


@dataclass(frozen=True)
class PermissionsPage:
    """The approval page: the vehicles to share (a choice when there are several) and what the
    application may do with them, approved at once, as Smartcar's Connect does."""

    form: FlowForm
    vehicles: list[VehicleChoice]
    permissions: list[PermissionChoice]
    #: Only one vehicle may be chosen (``single_select``).
    single_select: bool
    #: The ids of the vehicles that start ticked.
    preselected: frozenset[str]
    error: str | None = None
    #: What the error is about: the choice of vehicles or of permissions.
    error_about: Literal["vehicles", "permissions"] | None = None
    status: int = 200
    #: The brand the owner signed in with (none when the link named a VIN): the page shows it
    #: with a way back to the brand page.
    brand: Brand | None = None

    @property
    def choosing(self) -> bool:
        """Several vehicles: the owner chooses which to share."""
        return len(self.vehicles) > 1


@dataclass(frozen=True)
class ConfirmPage:
    """Re-authentication: the vehicle and what is approved again."""

    form: FlowForm
    vehicle: VehicleChoice
    permissions: list[PermissionChoice]
    status: int = 200


@dataclass(frozen=True)
class DonePage:
    """The end of a re-authentication that has nowhere to redirect."""

    application_name: str
    approved: bool
    status: int = 200


Page = PreamblePage | BrandPage | LoginPage | PermissionsPage | ConfirmPage | DonePage


@dataclass(frozen=True)
class Redirect:
    """Back to the application (always its registered redirect URI)."""

    location: str


@dataclass(frozen=True)
class ErrorPage:
    """A dead end shown to the owner: nothing can be sent back to the application."""

    title: str
    message: str
    status: int = 400


Outcome = Page | Redirect | ErrorPage
