"""Connect's requests: ``GET /oauth/authorize`` and ``/oauth/reauthenticate`` parsed and checked
parameter by parameter, and the redirects that answer an application."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from sqlalchemy.ext.asyncio import AsyncSession

from ..sim import catalogue
from ..sim.signals import PERMISSIONS
from ..store import repo
from ..store.models import Application
from .connect_outcomes import ErrorPage, Redirect
from .grants import MODES, Mode, connect_permissions

PKCE_CHALLENGE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
VIN = re.compile(r"^[A-Za-z0-9]{17}$")
FLAG = re.compile(r"^[A-Za-z0-9_\-]+:\S+$")
MAX_IDENTIFIER = 255
AUTHORIZE_PARAMS = (
    "response_type", "client_id", "application_id", "redirect_uri", "scope", "state",
    "approval_prompt", "mode", "make", "single_select", "single_select_vin", "flags", "user",
    "external_id", "code_challenge", "code_challenge_method",
)  # fmt: skip
REAUTH_PARAMS = (
    "response_type", "client_id", "application_id", "vehicle_id", "redirect_uri", "state",
    "external_id", "user", "flags",
)  # fmt: skip


class Refused(Exception):
    """The request cannot be trusted enough to redirect anywhere: show an error page."""

    def __init__(self, message: str, title: str = "This link does not work", status: int = 400):
        super().__init__(message)
        self.page = ErrorPage(title, message, status)


class InvalidRequest(Exception):
    """A bad parameter from an identified application: redirect with ``invalid_request``."""


# --- redirect URLs ----------------------------------------------------------------------------


def with_query(uri: str, params: Sequence[tuple[str, str]]) -> str:
    """``uri`` with ``params`` appended to its query, keeping any query it already has."""
    parts = urlsplit(uri)
    extra = urlencode(list(params), quote_via=quote)
    query = f"{parts.query}&{extra}" if parts.query and extra else parts.query or extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def failure(
    redirect_uri: str, state: str | None, error: str, description: str, **extra: str
) -> Redirect:
    params = [("error", error), ("error_description", description)]
    if state is not None:
        params.append(("state", state))
    params += list(extra.items())
    return Redirect(with_query(redirect_uri, params))


# --- the validated requests -------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorizeRequest:
    """``GET /oauth/authorize``, validated. Carried (signed) from page to page."""

    application_id: str
    application_name: str
    redirect_uri: str
    state: str | None
    mode: Mode
    #: Every requested permission, in the order asked, without duplicates.
    scope: list[str]
    #: The ``required:`` ones among them.
    required: list[str]
    approval_prompt: Literal["auto", "force"]
    make: str | None
    single_select: bool
    single_select_vin: str | None
    flags: dict[str, str]
    user: str | None
    external_id: str | None
    clear_external_id: bool
    code_challenge: str | None


@dataclass(frozen=True)
class ReauthRequest:
    """``GET /oauth/reauthenticate``, validated."""

    application_id: str
    application_name: str
    #: None only with ``response_type=none``: the flow ends on a completion page.
    redirect_uri: str | None
    response_type: Literal["vehicle_id", "none"]
    vehicle_id: str
    state: str | None
    mode: Mode
    make: str
    external_id: str | None
    clear_external_id: bool


# --- parameter parsing ------------------------------------------------------------------------


def single_values(
    query: Sequence[tuple[str, str]], known: Sequence[str]
) -> tuple[dict[str, str], list[str]]:
    """Known parameters as a dict, and the names of those given more than once."""
    values: dict[str, str] = {}
    repeated: list[str] = []
    for name, value in query:
        if name not in known:
            continue  # unknown parameters are ignored, as OAuth servers must (RFC 6749 §3.1)
        if name in values:
            repeated.append(name)
        values[name] = value
    return values, repeated


async def resolve_application(
    session: AsyncSession, client_id: str | None, application_id: str | None
) -> Application:
    """The application named by ``client_id`` or ``application_id`` (both must agree)."""
    if not client_id and not application_id:
        raise Refused("The link is missing the application's client_id or application_id.")
    app: Application | None = None
    if client_id:
        app = await repo.get_application_by_client_id(session, client_id)
        if app is None:
            raise Refused("No application is registered with this client_id.")
    if application_id:
        by_id = await repo.get_application(session, application_id)
        if by_id is None:
            raise Refused("No application is registered with this application_id.")
        if app is not None and app.id != by_id.id:
            raise Refused("client_id and application_id name two different applications.")
        app = by_id
    assert app is not None
    return app


def resolve_redirect_uri(
    app: Application, given: str | None, *, optional: bool = False
) -> str | None:
    """The exact registered redirect URI, or the first registered one when none is given."""
    if given is None:
        if optional:
            return None
        if not app.redirect_uris:
            raise Refused("This application has no registered redirect URI.")
        return str(app.redirect_uris[0])
    # Exact string comparison: a trailing slash, a port, a scheme or a query all differ.
    if given not in app.redirect_uris:
        raise Refused(
            "The redirect_uri is not registered for this application, so Connect will not send "
            "you there. The application's developer must register it exactly as used.",
            title="Unregistered redirect URI",
        )
    return given


def parse_scope(raw: str | None, default: list[str]) -> tuple[list[str], list[str]]:
    """``scope`` as (every permission, the required ones); InvalidRequest when unusable. Without
    one (the official SDKs may omit it), the application's ``default``, none required."""
    if raw is None or not raw.strip():
        if not default:
            raise InvalidRequest("scope is required: this application has no default permissions.")
        return list(default), []
    scope: list[str] = []
    required: list[str] = []
    unknown: list[str] = []
    for item in raw.split():
        is_required = item.startswith("required:")
        name = item.removeprefix("required:")
        if name not in PERMISSIONS:
            unknown.append(name)
            continue
        if name not in scope:
            scope.append(name)
        if is_required and name not in required:
            required.append(name)
    if unknown:
        raise InvalidRequest(f"Unknown permission(s) in scope: {', '.join(unknown)}.")
    return scope, required


def parse_flags(raw: str | None) -> dict[str, str]:
    """``flags`` as ``{flag: value}`` from space-separated ``flag:value`` pairs."""
    flags: dict[str, str] = {}
    for item in (raw or "").split():
        if not FLAG.match(item):
            raise InvalidRequest(f"flags must be space-separated flag:value pairs; got '{item}'.")
        name, _, value = item.partition(":")
        flags[name] = value
    return flags


def parse_external_id(raw: str | None) -> tuple[str | None, bool]:
    """(the external id, whether to clear it): ``external_id=null`` clears a stored one."""
    if raw is None:
        return None, False
    if raw == "null":
        return None, True
    if not raw.strip() or len(raw) > MAX_IDENTIFIER:
        raise InvalidRequest(f"external_id must be 1 to {MAX_IDENTIFIER} characters.")
    return raw, False


def parse_bool(raw: str | None, name: str) -> bool:
    if raw is None or raw.lower() == "false":
        return False
    if raw.lower() == "true":
        return True
    raise InvalidRequest(f"{name} must be true or false.")


def make_code(raw: str) -> str | None:
    """The catalogue code of a make given by code or display name ("TESLA", "Tesla")."""
    wanted = raw.strip().lower()
    for make in catalogue.makes():
        if make.code.lower() == wanted or make.name.lower() == wanted:
            return str(make.code)
    return None


def authorize_params(
    app: Application, redirect_uri: str, values: dict[str, str]
) -> AuthorizeRequest:
    if values.get("response_type") != "code":
        raise InvalidRequest("response_type must be 'code'.")
    mode = values.get("mode", "live")
    if mode not in MODES:
        raise InvalidRequest("mode must be live, simulated or test.")
    approval_prompt = values.get("approval_prompt", "auto")
    if approval_prompt not in ("auto", "force"):
        raise InvalidRequest("approval_prompt must be auto or force.")
    scope, required = parse_scope(
        values.get("scope"), connect_permissions(app.connect_permissions)
    )
    make: str | None = None
    if values.get("make"):
        make = make_code(values["make"])
        if make is None:
            raise InvalidRequest(f"make '{values['make']}' is not a supported brand.")
    single_select = parse_bool(values.get("single_select"), "single_select")
    vin = values.get("single_select_vin")
    if vin is not None:
        if not VIN.match(vin):
            raise InvalidRequest("single_select_vin must be a 17-character VIN.")
        if not single_select:
            raise InvalidRequest("single_select_vin requires single_select=true.")
        vin = vin.upper()
    user = values.get("user")
    if user is not None and len(user) > MAX_IDENTIFIER:
        raise InvalidRequest(f"user must be at most {MAX_IDENTIFIER} characters.")
    external_id, clear_external_id = parse_external_id(values.get("external_id"))
    challenge = values.get("code_challenge")
    method = values.get("code_challenge_method")
    if challenge is not None or method is not None:
        if method != "S256":
            raise InvalidRequest("code_challenge_method must be S256.")
        if challenge is None or not PKCE_CHALLENGE.match(challenge):
            raise InvalidRequest("code_challenge must be 43 to 128 URL-safe characters (RFC 7636).")
    return AuthorizeRequest(
        application_id=app.id,
        application_name=app.name,
        redirect_uri=redirect_uri,
        state=values.get("state"),
        mode=mode,
        scope=scope,
        required=required,
        approval_prompt=approval_prompt,  # type: ignore[arg-type]
        make=make,
        single_select=single_select,
        single_select_vin=vin,
        flags=parse_flags(values.get("flags")),
        user=user,
        external_id=external_id,
        clear_external_id=clear_external_id,
        code_challenge=challenge,
    )
