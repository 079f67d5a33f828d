"""Connect's rules: the consent flow a vehicle owner walks through to share vehicles.

The steps are Smartcar's, in its order, so browser automation written against Smartcar's Connect
walks these pages unchanged: a preamble (who asks, for what) → the brand → the brand's sign-in →
the approval page, where the owner chooses the vehicles to share (when there are several) and the
permissions, and approves both at once → the application's redirect.

``GET /oauth/authorize`` is validated (:mod:`.connect_requests`), then each page posts back a
signed, time-limited *flow* (what was asked, which step comes next, who logged in) and a CSRF
token bound to a cookie. Every step answers an outcome (:mod:`.connect_outcomes`) — a page to show,
a redirect to the application, or an error page — which the HTTP layer renders.

Who may go where:

- an unknown client or an unregistered ``redirect_uri`` ends on an error page: the application
  cannot be trusted to receive anything, so nothing is redirected;
- every other bad parameter redirects with ``error=invalid_request``;
- the owner's decisions end in a redirect carrying ``user_id``/``code`` or an ``error``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..errors import ApiError
from ..sim import catalogue
from ..sim.signals import PERMISSIONS
from ..store import repo
from ..store.models import Application, AuthorizationCode, Vehicle
from . import connect_guard, grants
from .clocks import ClockBook
from .connect_outcomes import (
    Brand,
    BrandPage,
    ConfirmPage,
    DonePage,
    FlowForm,
    LoginPage,
    Outcome,
    PermissionChoice,
    PermissionsPage,
    PreamblePage,
    Redirect,
    Step,
    VehicleChoice,
)
from .connect_requests import (
    AUTHORIZE_PARAMS,
    REAUTH_PARAMS,
    AuthorizeRequest,
    InvalidRequest,
    ReauthRequest,
    Refused,
    authorize_params,
    failure,
    make_code,
    parse_external_id,
    parse_flags,
    resolve_application,
    resolve_redirect_uri,
    single_values,
    with_query,
)
from .grants import MODES, Mode
from .oauth import CODE_TTL, hash_code

#: Seconds a Connect page may stay open before its form is refused as expired.
FLOW_TTL = 30 * 60
CSRF_COOKIE = "motorpool_connect_csrf"
FLOW_SALT = "connect-flow"
CSRF_SALT = "connect-csrf"

MAX_PASSWORD = 1024
AUTHORIZE_STEPS: tuple[Step, ...] = ("preamble", "brand", "login", "permissions")


@dataclass
class Flow:
    """The state carried between pages, signed and bound to the browser's CSRF cookie."""

    kind: Literal["authorize", "reauth"]
    step: Step
    request: dict[str, Any]
    csrf: str
    brand: str | None = None
    subject: str | None = None
    vehicles: list[str] = field(default_factory=list)
    chosen: list[str] = field(default_factory=list)
    #: Names the flow on the server (failed sign-ins, consent given); empty in forms signed
    #: before flows had one, which are refused as expired.
    id: str = ""

    @property
    def authorize(self) -> AuthorizeRequest:
        return AuthorizeRequest(**self.request)

    @property
    def reauth(self) -> ReauthRequest:
        return ReauthRequest(**self.request)


def csrf_hash(cookie_token: str) -> str:
    """What pages carry instead of the cookie itself, so the HTML never reveals the cookie."""
    return hashlib.sha256(cookie_token.encode()).hexdigest()


def new_csrf_cookie() -> str:
    return secrets.token_urlsafe(32)


def seal(signer: URLSafeTimedSerializer, flow: Flow) -> str:
    return signer.dumps(asdict(flow), salt=FLOW_SALT)


def csrf_field(signer: URLSafeTimedSerializer, flow: Flow) -> str:
    return signer.dumps(flow.csrf, salt=CSRF_SALT)


def open_flow(
    signer: URLSafeTimedSerializer,
    form: Mapping[str, list[str]],
    cookie_token: str | None,
    now: float | None = None,
) -> Flow:
    """Check the CSRF token against the cookie, then unseal the flow; Refused otherwise."""
    forbidden = Refused(
        "This form's security check failed (cookies may be blocked, or the form came from "
        "another site). Go back to the application and start connecting again.",
        title="Security check failed",
        status=403,
    )
    token = _one(form, "csrf_token")
    if not cookie_token or not token:
        raise forbidden
    expected = csrf_hash(cookie_token)
    try:
        signed = signer.loads(token, salt=CSRF_SALT, max_age=FLOW_TTL)
    except SignatureExpired:
        raise _expired() from None
    except BadSignature:
        raise forbidden from None
    if not isinstance(signed, str) or not hmac.compare_digest(signed, expected):
        raise forbidden
    sealed = _one(form, "flow")
    if not sealed:
        raise Refused("The form is incomplete. Go back to the application and start again.")
    try:
        data = signer.loads(sealed, salt=FLOW_SALT, max_age=FLOW_TTL)
        flow = Flow(**data)
    except SignatureExpired:
        raise _expired() from None
    except (BadSignature, TypeError, zlib.error):
        raise Refused("The form was altered. Go back to the application and start again.") from None
    if not hmac.compare_digest(flow.csrf, expected):
        raise forbidden
    if not flow.id:
        raise _expired()
    return flow


def new_flow_id() -> str:
    return secrets.token_urlsafe(24)


SIGN_IN_PAUSED = (
    "Sign-in paused: there were too many failed attempts for this e-mail address. "
    f"Try again in {connect_guard.EMAIL_WINDOW.seconds // 60} minutes."
)


def _too_many_failures() -> Refused:
    return Refused(
        "There were too many failed sign-in attempts. Go back to the application and start "
        "connecting again.",
        title="Too many sign-in attempts",
        status=429,
    )


def _already_given() -> Refused:
    return Refused(
        "This consent was already given, and a form is accepted once. Go back to the "
        "application and start connecting again.",
        title="Already submitted",
        status=409,
    )


def _expired() -> Refused:
    return Refused(
        "This page was open for too long and has expired. Go back to the application and start "
        "connecting again.",
        title="This page has expired",
    )


def _one(form: Mapping[str, list[str]], name: str) -> str | None:
    values = form.get(name) or []
    return values[0] if values else None


# --- what the pages show -----------------------------------------------------------------------


def brands(query: str = "") -> list[Brand]:
    """The brands of the catalogue whose name or code contains ``query`` (all without one), by
    name."""
    wanted = query.strip().lower()
    return sorted(
        (
            Brand(str(m.code), str(m.name))
            for m in catalogue.makes()
            if wanted in m.name.lower() or wanted in m.code.lower()
        ),
        key=lambda b: b.name.lower(),
    )


def brand_of(code: str) -> Brand:
    for make in catalogue.makes():
        if make.code == code:
            return Brand(code, str(make.name))
    return Brand(code, code.title())


def vehicle_choice(vehicle: Vehicle, scope: list[str], required: list[str]) -> VehicleChoice:
    return VehicleChoice(
        id=vehicle.id,
        year=vehicle.year,
        brand=brand_of(vehicle.make),
        model=vehicle.model,
        nickname=vehicle.nickname,
        vin=vehicle.vin,
        powertrain=vehicle.powertrain,
        compatible=_compatible(vehicle, scope, required),
        missing=tuple(p for p in required if not grants.grantable(vehicle, [p])),
    )


def permission_choice(name: str, required: bool, checked: bool) -> PermissionChoice:
    description = PERMISSIONS.get(name)
    return PermissionChoice(
        name=name,
        description=str(description) if description else None,
        required=required,
        checked=checked or required,
    )


def _compatible(vehicle: Vehicle, scope: list[str], required: list[str]) -> bool:
    """Compatible: it can grant every required permission and at least one requested one."""
    return grants.is_compatible(vehicle, required) and bool(grants.grantable(vehicle, scope))


# --- the pages --------------------------------------------------------------------------------


class Connect:
    """The Connect flow over a platform's sessions, form signer and simulation clocks."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        signer: URLSafeTimedSerializer,
        clocks: ClockBook,
    ) -> None:
        self.sessions = sessions
        self.signer = signer
        self.clocks = clocks

    # ---- entry points ----

    async def authorize(self, query: Sequence[tuple[str, str]], cookie_token: str) -> Outcome:
        """``GET /oauth/authorize``: validate, then show the first page."""
        values, repeated = single_values(query, AUTHORIZE_PARAMS)
        try:
            async with self.sessions() as session:
                for trusted in ("client_id", "application_id", "redirect_uri"):
                    if trusted in repeated:
                        raise Refused(f"The parameter {trusted} is given more than once.")
                app = await resolve_application(
                    session, values.get("client_id"), values.get("application_id")
                )
                redirect_uri = resolve_redirect_uri(app, values.get("redirect_uri"))
                assert redirect_uri is not None
        except Refused as refused:
            return refused.page
        state = values.get("state")
        try:
            if repeated:
                raise InvalidRequest(f"Parameter(s) given more than once: {', '.join(repeated)}.")
            request = authorize_params(app, redirect_uri, values)
        except InvalidRequest as problem:
            return failure(redirect_uri, state, "invalid_request", str(problem))
        flow = Flow(
            kind="authorize", step="preamble", request=asdict(request), csrf=csrf_hash(cookie_token),
            id=new_flow_id(),
        )
        # single_select_vin takes precedence over make, as Smartcar documents.
        flow.brand = None if request.single_select_vin else request.make
        return self._preamble_page(flow)

    async def reauthenticate(self, query: Sequence[tuple[str, str]], cookie_token: str) -> Outcome:
        """``GET /oauth/reauthenticate``: the owner logs in again and re-approves one vehicle."""
        values, repeated = single_values(query, REAUTH_PARAMS)
        try:
            async with self.sessions() as session:
                for trusted in ("client_id", "application_id", "redirect_uri", "response_type"):
                    if trusted in repeated:
                        raise Refused(f"The parameter {trusted} is given more than once.")
                response_type = values.get("response_type")
                if response_type not in ("vehicle_id", "none"):
                    raise Refused("response_type must be vehicle_id or none.")
                app = await resolve_application(
                    session, values.get("client_id"), values.get("application_id")
                )
                redirect_uri = resolve_redirect_uri(
                    app, values.get("redirect_uri"), optional=response_type == "none"
                )
                state = values.get("state")
                try:
                    if repeated:
                        raise InvalidRequest(
                            f"Parameter(s) given more than once: {', '.join(repeated)}."
                        )
                    vehicle = await self._reauth_vehicle(session, app, values.get("vehicle_id"))
                    external_id, clear = parse_external_id(values.get("external_id"))
                    parse_flags(values.get("flags"))
                except InvalidRequest as problem:
                    if redirect_uri is None:
                        raise Refused(str(problem)) from None
                    return failure(redirect_uri, state, "invalid_request", str(problem))
        except Refused as refused:
            return refused.page
        request = ReauthRequest(
            application_id=app.id,
            application_name=app.name,
            redirect_uri=redirect_uri,
            response_type=response_type,  # type: ignore[arg-type]
            vehicle_id=vehicle.id,
            state=state,
            mode=vehicle.mode,  # type: ignore[arg-type]
            make=vehicle.make,
            external_id=external_id,
            clear_external_id=clear,
        )
        flow = Flow(
            kind="reauth", step="login", request=asdict(request), csrf=csrf_hash(cookie_token),
            brand=vehicle.make, id=new_flow_id(),
        )  # fmt: skip
        return self._login_page(flow)

    @staticmethod
    async def _reauth_vehicle(
        session: AsyncSession, app: Application, vehicle_id: str | None
    ) -> Vehicle:
        if not vehicle_id:
            raise InvalidRequest("vehicle_id is required to re-authenticate.")
        vehicle = await repo.get_vehicle(session, vehicle_id)
        if (
            vehicle is None
            or vehicle.mode not in MODES
            or not await repo.vehicle_connected_to_application(session, app.id, vehicle_id)
        ):
            raise InvalidRequest("vehicle_id is not a vehicle connected to this application.")
        return vehicle

    async def submit(
        self, step: str, form: Mapping[str, list[str]], cookie_token: str | None
    ) -> Outcome:
        """A page's form posted back: check it, then take the owner to the next page."""
        try:
            flow = open_flow(self.signer, form, cookie_token)
            if flow.step != step:
                raise Refused(
                    "This form was already submitted or belongs to another step. Go back to the "
                    "application and start again."
                )
            action = _one(form, "action") or "continue"
            if action in ("cancel", "deny"):
                return self._declined(flow)
            if action == "change_brand" and flow.kind == "authorize" and flow.brand:
                return await self._change_brand(flow)
            if flow.kind == "reauth":
                if step == "login":
                    return await self._reauth_login(flow, form)
                return await self._reauth_confirm(flow)
            if step == "preamble":
                return await self._after_preamble(flow)
            if step == "brand":
                return await self._choose_brand(flow, form, action)
            if step == "login":
                return await self._login(flow, form)
            return await self._approve(flow, form, action)
        except Refused as refused:
            return refused.page

    # ---- authorize steps ----

    async def _after_preamble(self, flow: Flow) -> Outcome:
        request = flow.authorize
        if request.single_select_vin or request.make:
            flow.step = "login"  # the link named the vehicle or the brand: no brand page
            return self._login_page(flow)
        flow.step = "brand"
        return await self._brand_page(flow)

    async def _change_brand(self, flow: Flow) -> Outcome:
        """Back to the brand page from the sign-in or the approval page: whoever signed in and
        what they were offered belong to the brand left behind."""
        flow.brand, flow.subject, flow.vehicles, flow.step = None, None, [], "brand"
        return await self._brand_page(flow)

    async def _choose_brand(self, flow: Flow, form: Mapping[str, list[str]], action: str) -> Outcome:
        if action == "search":
            return await self._brand_page(flow, query=(_one(form, "brand_search") or "")[:100])
        code = make_code(_one(form, "make") or "")
        if code is None:
            return await self._brand_page(flow, error="Choose your vehicle's brand.", status=400)
        flow.brand, flow.step = code, "login"
        return self._login_page(flow)

    async def _login(self, flow: Flow, form: Mapping[str, list[str]]) -> Outcome:
        request = flow.authorize
        async with self.sessions() as session, session.begin():
            result = await self._check_login(
                flow, session, request.application_id, request.mode, form, brand=flow.brand,
                vin=request.single_select_vin,
            )  # fmt: skip
            if not isinstance(result, grants.Login):
                return result
            vehicles = self._matching(result.vehicles, request, flow.brand)
            if not vehicles and request.mode == "simulated" and flow.brand:
                # A developer who picks a brand in simulated mode expects a car of that brand.
                now_ms = await self.clocks.now_ms(request.application_id)
                vehicles = [
                    await grants.simulated_vehicle(
                        session, request.application_id, flow.brand, now_ms
                    )
                ]
            if not vehicles:
                return failure(
                    request.redirect_uri,
                    request.state,
                    "no_vehicles",
                    self._no_vehicles(request, flow.brand),
                )
            flow.subject = result.subject
            flow.vehicles, flow.step = [v.id for v in vehicles], "permissions"
            if (
                request.approval_prompt == "auto"
                and not self._choice_needed(request, vehicles)
                and await self._approved_before(session, request, result.subject, vehicles)
            ):
                return await self._finish(session, flow, vehicles, request.scope)
        return self._permissions_page(flow, vehicles)

    async def _check_login(
        self,
        flow: Flow,
        session: AsyncSession,
        application_id: str,
        mode: Mode,
        form: Mapping[str, list[str]],
        brand: str | None = None,
        vin: str | None = None,
    ) -> grants.Login | Outcome:
        email = (_one(form, "email") or "").strip()
        password = _one(form, "password") or ""
        if not email:
            return self._login_page(
                flow, email=email, error="Enter your e-mail address.", status=400
            )
        if len(password) > MAX_PASSWORD:
            return self._login_page(
                flow, email=email, error="That password is too long.", status=400
            )
        if mode == "live":
            # Only live mode checks passwords. Pages are returned, not raised, so that the
            # failures they record are committed.
            if await connect_guard.flow_ended(session, flow.id):
                return _too_many_failures().page
            if await connect_guard.sign_in_paused(session, email):
                return self._login_page(flow, email=email, status=429, error=SIGN_IN_PAUSED)
        try:
            now_ms = await self.clocks.now_ms(application_id)
            return await grants.login(
                session, application_id, mode, email, password, now_ms, brand=brand, vin=vin
            )
        except grants.LoginRefused as problem:
            if await connect_guard.note_failure(session, flow.id, email) >= connect_guard.MAX_FLOW_FAILURES:
                return _too_many_failures().page
            return self._login_page(flow, email=email, error=problem.detail, status=problem.status)
        except ApiError as problem:
            return self._login_page(flow, email=email, error=problem.detail, status=problem.status)

    @staticmethod
    def _matching(
        vehicles: list[Vehicle], request: AuthorizeRequest, brand: str | None
    ) -> list[Vehicle]:
        """The vehicles the owner is offered, of those their login found.

        ``brand`` is the one chosen on the brand page or named by the link's ``make``. In test
        mode the login already drew the cars in that brand (an e-mail naming a VIN keeps its
        VIN's make), so nothing is filtered; in simulated mode the fleet's cars of that brand are
        offered; in live mode the brand filters only when the link named a ``make``, as the
        owner's account is what holds their cars."""
        # single_select_vin takes precedence over make, as Smartcar documents.
        if request.single_select_vin:
            return [v for v in vehicles if v.vin.upper() == request.single_select_vin]
        wanted = {"test": None, "simulated": brand, "live": brand if request.make else None}[
            request.mode
        ]
        if wanted:
            return [v for v in vehicles if v.make == wanted]
        return vehicles

    @staticmethod
    def _no_vehicles(request: AuthorizeRequest, brand: str | None) -> str:
        if request.single_select_vin:
            return (
                f"The vehicle owner's account has no vehicle with VIN {request.single_select_vin}."
            )
        if brand:
            return f"The vehicle owner's account has no {brand} vehicles."
        return "The vehicle owner's account has no vehicles."

    @staticmethod
    def _choice_needed(request: AuthorizeRequest, vehicles: list[Vehicle]) -> bool:
        """Whether the owner has something to decide about the vehicles: approval_prompt=auto
        skips the approval page only when they have not."""
        if request.single_select and len(vehicles) > 1:
            return True
        return not all(_compatible(v, request.scope, request.required) for v in vehicles)

    @staticmethod
    def _incompatible(request: AuthorizeRequest, vehicle: Vehicle) -> Redirect:
        return failure(
            request.redirect_uri,
            request.state,
            "vehicle_incompatible",
            "The vehicle is not compatible with the permissions this application requested.",
            vin=vehicle.vin,
            make=vehicle.make,
            model=vehicle.model,
            year=str(vehicle.year),
        )

    @staticmethod
    async def _approved_before(
        session: AsyncSession, request: AuthorizeRequest, subject: str, vehicles: list[Vehicle]
    ) -> bool:
        """True when this owner already granted every requested permission for each vehicle."""
        user = await repo.find_user_by_subject(session, request.application_id, subject)
        if user is None:
            return False
        granted = {
            c.vehicle_id: set(c.permissions) for c in await repo.user_connections(session, user.id)
        }
        return all(
            v.id in granted and set(grants.grantable(v, request.scope)) <= granted[v.id]
            for v in vehicles
        )

    async def _approve(self, flow: Flow, form: Mapping[str, list[str]], action: str) -> Outcome:
        request = flow.authorize
        ticked = set(form.get("permission") or [])
        # Required permissions are granted whatever the form says: they cannot be unchecked.
        permissions = [p for p in request.scope if p in request.required or p in ticked]
        async with self.sessions() as session, session.begin():
            vehicles = await self._offered(session, flow)
            if action == "incompatible":
                # The owner has only incompatible vehicles and chose to go back to the app.
                rejected = [
                    v for v in vehicles if not _compatible(v, request.scope, request.required)
                ]
                if not rejected:
                    return self._permissions_page(
                        flow, vehicles, error="Choose a vehicle.", about="vehicles", status=400
                    )
                return self._incompatible(request, rejected[0])
            chosen = vehicles
            if len(vehicles) > 1:
                chosen_ids = list(dict.fromkeys(form.get("vehicle") or []))
                if any(vid not in flow.vehicles for vid in chosen_ids):
                    raise Refused(
                        "The form was altered. Go back to the application and start again."
                    )
                problem = None
                if not chosen_ids:
                    problem = "Choose at least one vehicle to share."
                elif request.single_select and len(chosen_ids) > 1:
                    problem = "Choose only one vehicle."
                    chosen_ids = chosen_ids[:1]  # one radio button can be shown ticked
                if problem is not None:
                    return self._permissions_page(
                        flow, vehicles, error=problem, about="vehicles", status=400,
                        ticked=ticked, chosen=set(chosen_ids),
                    )  # fmt: skip
                chosen = [v for v in vehicles if v.id in chosen_ids]
            for vehicle in chosen:
                if not _compatible(vehicle, request.scope, request.required):
                    return self._incompatible(request, vehicle)
            if not permissions:
                return self._permissions_page(
                    flow, vehicles, error="Allow at least one permission, or choose Deny.",
                    about="permissions", status=400, ticked=ticked, chosen={v.id for v in chosen},
                )  # fmt: skip
            return await self._finish(session, flow, chosen, permissions)

    @staticmethod
    async def _offered(session: AsyncSession, flow: Flow) -> list[Vehicle]:
        """The vehicles the sign-in offered, in the order the page shows them."""
        found = {v.id: v for v in await repo.get_vehicles(session, flow.vehicles)}
        return [found[vid] for vid in flow.vehicles if vid in found]

    async def _finish(
        self, session: AsyncSession, flow: Flow, vehicles: list[Vehicle], permissions: list[str]
    ) -> Redirect:
        """Store the user, the connections and a single-use code; redirect with them."""
        request = flow.authorize
        if not await connect_guard.spend(session, flow.id):
            raise _already_given()
        user, _ = await grants.grant(
            session,
            application_id=request.application_id,
            subject=flow.subject or "",
            vehicles=vehicles,
            permissions=permissions,
            external_id=request.external_id,
            replace_external_id=request.clear_external_id,
        )
        code = secrets.token_urlsafe(32)
        await repo.add_code(
            session,
            AuthorizationCode(
                code_hash=hash_code(code),
                application_id=request.application_id,
                user_id=user.id,
                redirect_uri=request.redirect_uri,
                scope=permissions,
                vehicle_ids=[v.id for v in vehicles],
                code_challenge=request.code_challenge,
                expires_at=datetime.now(UTC) + CODE_TTL,
            ),
        )
        params = [("user_id", user.id), ("code", code)]
        if request.state is not None:
            params.append(("state", request.state))
        if request.external_id is not None:
            params.append(("external_id", request.external_id))
        return Redirect(with_query(request.redirect_uri, params))

    def _declined(self, flow: Flow) -> Outcome:
        description = "The vehicle owner denied access to the application."
        if flow.kind == "authorize":
            request = flow.authorize
            return failure(request.redirect_uri, request.state, "access_denied", description)
        reauth = flow.reauth
        if reauth.redirect_uri is None:
            return self._done_page(reauth, approved=False)
        return failure(reauth.redirect_uri, reauth.state, "access_denied", description)

    # ---- reauthenticate steps ----

    async def _reauth_login(self, flow: Flow, form: Mapping[str, list[str]]) -> Outcome:
        request = flow.reauth
        async with self.sessions() as session, session.begin():
            reconnected = await repo.get_vehicle(session, request.vehicle_id)
            # A test car drawn in a brand is found again only by signing in with that brand.
            brand = grants.test_brand_of(reconnected) if reconnected is not None else None
            # A simulated sign-in holds the whole fleet: the car is looked up by its VIN rather
            # than among the few cars a sign-in offers.
            vin = reconnected.vin if reconnected is not None and request.mode == "simulated" else None
            result = await self._check_login(
                flow, session, request.application_id, request.mode, form, brand=brand, vin=vin
            )
            if not isinstance(result, grants.Login):
                return result
            if request.vehicle_id not in {v.id for v in result.vehicles}:
                return self._login_page(
                    flow,
                    email=(_one(form, "email") or "").strip(),
                    error="This account does not hold the vehicle being reconnected. Sign in with "
                    "the account you used to connect it.",
                    status=403,
                )
            vehicle = await repo.get_vehicle(session, request.vehicle_id)
            permissions = await self._reauth_permissions(session, request, result.subject)
        assert vehicle is not None
        flow.subject, flow.step = result.subject, "confirm"
        flow.chosen = [request.vehicle_id]
        return self._confirm_page(flow, vehicle, permissions)

    @staticmethod
    async def _reauth_permissions(
        session: AsyncSession, request: ReauthRequest, subject: str
    ) -> list[str]:
        """What is re-approved: this owner's grant for the vehicle, else its latest grant here."""
        user = await repo.find_user_by_subject(session, request.application_id, subject)
        if user is not None:
            own = await repo.find_connection(
                session, request.application_id, user.id, request.vehicle_id
            )
            if own is not None:
                return list(own.permissions)
        latest = await repo.connections_for_vehicle(
            session, request.application_id, request.vehicle_id
        )
        return list(latest[0].permissions) if latest else []

    async def _reauth_confirm(self, flow: Flow) -> Outcome:
        request = flow.reauth
        async with self.sessions() as session, session.begin():
            vehicle = await repo.get_vehicle(session, request.vehicle_id)
            if vehicle is None:
                raise Refused("The vehicle no longer exists.")
            if not await connect_guard.spend(session, flow.id):
                raise _already_given()
            permissions = await self._reauth_permissions(session, request, flow.subject or "")
            await grants.grant(
                session,
                application_id=request.application_id,
                subject=flow.subject or "",
                vehicles=[vehicle],
                permissions=permissions,
                external_id=request.external_id,
                replace_external_id=request.clear_external_id,
            )
        if request.redirect_uri is None:
            return self._done_page(request, approved=True)
        params = [("vehicle_id", request.vehicle_id)]
        if request.state is not None:
            params.append(("state", request.state))
        if request.external_id is not None:
            params.append(("external_id", request.external_id))
        return Redirect(with_query(request.redirect_uri, params))

    # ---- pages ----

    def _form(self, flow: Flow) -> FlowForm:
        steps: Sequence[Step] = AUTHORIZE_STEPS if flow.kind == "authorize" else ("login", "confirm")
        return FlowForm(
            flow=seal(self.signer, flow),
            csrf_token=csrf_field(self.signer, flow),
            step=flow.step,
            step_number=steps.index(flow.step) + 1,
            step_count=len(steps),
            application_name=flow.request["application_name"],
            mode=flow.request["mode"],
            reauth=flow.kind == "reauth",
        )

    def _preamble_page(self, flow: Flow) -> PreamblePage:
        request = flow.authorize
        permissions = [permission_choice(p, p in request.required, True) for p in request.scope]
        brand = brand_of(flow.brand) if flow.brand else None
        return PreamblePage(self._form(flow), permissions, brand)

    async def _brand_page(
        self, flow: Flow, error: str | None = None, status: int = 200, query: str = ""
    ) -> BrandPage:
        listed = brands(query)
        if flow.request["mode"] == "simulated":
            # The fleet's own brands first: those offer cars that exist (and the development
            # fleet is the first click of the tutorial's flow), any other makes one.
            async with self.sessions() as session:
                codes = [b.code for b in listed]
                own = set(
                    await repo.fleet_makes(session, flow.request["application_id"], codes)
                )
            listed = [b for b in listed if b.code in own] + [b for b in listed if b.code not in own]
        return BrandPage(self._form(flow), listed, error, status, query.strip())

    def _login_page(
        self, flow: Flow, email: str = "", error: str | None = None, status: int = 200
    ) -> LoginPage:
        brand = brand_of(flow.brand) if flow.brand else None
        return LoginPage(self._form(flow), brand, email, error, status)

    def _permissions_page(
        self,
        flow: Flow,
        vehicles: list[Vehicle],
        error: str | None = None,
        about: Literal["vehicles", "permissions"] | None = None,
        status: int = 200,
        ticked: set[str] | None = None,
        chosen: set[str] | None = None,
    ) -> PermissionsPage:
        """The approval page; ``ticked`` and ``chosen`` keep what the owner ticked when it is
        shown again."""
        request = flow.authorize
        choices = [vehicle_choice(v, request.scope, request.required) for v in vehicles]
        permissions = [
            permission_choice(p, p in request.required, ticked is None or p in ticked)
            for p in request.scope
        ]
        if chosen is None:
            # Compatible vehicles start ticked; a single choice starts on the first of them.
            compatible = [c.id for c in choices if c.compatible]
            chosen = set(compatible[:1] if request.single_select else compatible)
        return PermissionsPage(
            self._form(flow), choices, permissions, request.single_select, frozenset(chosen),
            error, about, status, brand_of(flow.brand) if flow.brand else None,
        )  # fmt: skip

    def _confirm_page(self, flow: Flow, vehicle: Vehicle, permissions: list[str]) -> ConfirmPage:
        return ConfirmPage(
            self._form(flow),
            vehicle_choice(vehicle, permissions, []),
            [permission_choice(p, True, True) for p in permissions],
        )

    @staticmethod
    def _done_page(request: ReauthRequest, approved: bool) -> DonePage:
        return DonePage(request.application_name, approved)
