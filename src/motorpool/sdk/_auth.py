"""``AuthClient``: the Connect URL an owner is sent to, PKCE, and (on motorpool) code exchange.

Compatible with the official SDK: the same argument order and environment fallbacks, the same
``get_auth_url(scope, options)`` with the same option names and query parameters.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from ._config import (
    DEFAULT_TIMEOUT,
    Origins,
    RetryPolicy,
    Timeout,
    resolve_credential,
    validate_mode,
)
from ._core import (
    USER_AGENT,
    Prepared,
    drive,
    drive_async,
    parse_model,
    read_token_error,
    request_flow,
)
from ._errors import ConfigurationError
from ._models import CodeExchange
from ._transport import RawResponse

if TYPE_CHECKING:
    import httpx

#: Every key ``get_auth_url`` understands in ``options``.
AUTH_URL_OPTIONS = frozenset(
    {
        "force_prompt",
        "state",
        "make_bypass",
        "single_select",
        "flags",
        "user",
        "external_id",
        "code_challenge",
        "code_challenge_method",
    }
)


@dataclass(frozen=True, slots=True)
class PkcePair:
    """A PKCE verifier (keep it) and its S256 challenge (send it to Connect)."""

    verifier: str
    challenge: str
    method: str = "S256"


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of ``verifier`` (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def create_pkce_pair() -> PkcePair:
    """A fresh random PKCE verifier (43 characters) and its S256 challenge."""
    verifier = secrets.token_urlsafe(32)
    return PkcePair(verifier=verifier, challenge=pkce_challenge(verifier))


def _flag_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _scope_text(scope: Iterable[str] | str | None) -> str | None:
    if scope is None:
        return None
    if isinstance(scope, str):
        return scope
    permissions = [permission for permission in scope if permission]
    return " ".join(permissions) if permissions else None


class AuthClient:
    """Builds the Connect URL that sends a vehicle owner to grant the application access.

    ``AuthClient(client_id, client_secret, redirect_uri, mode)``: arguments left out come from
    ``SMARTCAR_CLIENT_ID``, ``SMARTCAR_CLIENT_SECRET`` and ``SMARTCAR_REDIRECT_URI``; ``mode``
    is ``live`` (default), ``simulated`` or ``test``. Connect is at ``connect_origin``, else
    ``base_url``, else ``SMARTCAR_CONNECT_ORIGIN``, else ``https://connect.smartcar.com``.

    Example::

        client = AuthClient(mode="simulated")
        url = client.get_auth_url(["read_vehicle_info", "required:read_odometer"], {"state": state})
    """

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        redirect_uri: str | None = None,
        mode: str = "live",
        *,
        test_mode: bool | None = None,
        base_url: str | None = None,
        connect_origin: str | None = None,
        auth_origin: str | None = None,
        timeout: Timeout | float | None = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        resolved_id = resolve_credential(client_id, "SMARTCAR_CLIENT_ID")
        if not resolved_id:
            raise ConfigurationError("client_id is required: pass it, or set SMARTCAR_CLIENT_ID.")
        if test_mode is not None:
            warnings.warn(
                "test_mode is deprecated: pass mode='test' (or 'simulated') instead",
                DeprecationWarning,
                stacklevel=2,
            )
            mode = "test" if test_mode else "live"
        #: The application's client id.
        self.client_id = resolved_id
        #: The client secret (only needed to exchange a code).
        self.client_secret = resolve_credential(client_secret, "SMARTCAR_CLIENT_SECRET")
        #: Where Connect sends the owner back (must be registered with the application).
        self.redirect_uri = resolve_credential(redirect_uri, "SMARTCAR_REDIRECT_URI")
        #: ``live``, ``simulated`` or ``test``.
        self.mode = validate_mode(mode)
        #: Where Connect and the token endpoint are.
        self.origins = Origins.resolve(
            base_url=base_url, connect_origin=connect_origin, auth_origin=auth_origin
        )
        self._timeout = Timeout.of(timeout)
        self._transport = transport
        self._async_transport = async_transport

    def get_auth_url(
        self, scope: Iterable[str] | str | None = None, options: Mapping[str, Any] | None = None
    ) -> str:
        """The Connect URL to redirect the owner to.

        ``scope`` lists permissions (``"required:read_odometer"`` makes one mandatory); when left
        out, the application's configured permissions apply. ``options``:

        - ``force_prompt`` (bool): ask for approval even if it was given before
          (``approval_prompt=force``);
        - ``state`` (str): echoed back in the redirect;
        - ``make_bypass`` (str): skip the brand selector (``make``);
        - ``single_select`` (bool, or ``{"vin": VIN}`` / ``{"enabled": bool}``): let the owner
          pick one vehicle, optionally this VIN (``single_select_vin``);
        - ``flags`` (dict): feature flags, sent as ``key:value`` pairs;
        - ``user`` (str): your own id of the owner, for analytics;
        - ``external_id`` (str): your own id of the owner, stored on the connection;
        - ``code_challenge`` and ``code_challenge_method`` (default ``S256``): PKCE.
        """
        options = dict(options or {})
        unknown = set(options) - AUTH_URL_OPTIONS
        if unknown:
            raise ConfigurationError(
                f"unknown get_auth_url option(s): {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(AUTH_URL_OPTIONS))}"
            )
        params: list[tuple[str, str]] = [("response_type", "code"), ("client_id", self.client_id)]
        if self.redirect_uri:
            params.append(("redirect_uri", self.redirect_uri))
        scope_text = _scope_text(scope)
        if scope_text:
            params.append(("scope", scope_text))
        params.append(("approval_prompt", "force" if options.get("force_prompt") else "auto"))
        params.append(("mode", self.mode))
        if options.get("state") is not None:
            params.append(("state", str(options["state"])))
        if options.get("make_bypass"):
            params.append(("make", str(options["make_bypass"])))
        params.extend(self._single_select(options.get("single_select")))
        flags = options.get("flags")
        if flags:
            if not isinstance(flags, Mapping):
                raise ConfigurationError("flags must be a dict of flag name to value")
            params.append(("flags", " ".join(f"{key}:{_flag_value(value)}" for key, value in flags.items())))
        if options.get("user"):
            params.append(("user", str(options["user"])))
        if options.get("external_id") is not None:
            params.append(("external_id", str(options["external_id"])))
        if options.get("code_challenge"):
            params.append(("code_challenge", str(options["code_challenge"])))
            params.append(("code_challenge_method", str(options.get("code_challenge_method") or "S256")))
        return f"{self.origins.authorize_url}?{urlencode(params, quote_via=quote)}"

    @staticmethod
    def _single_select(value: Any) -> list[tuple[str, str]]:
        if value is None:
            return []
        if isinstance(value, bool):
            return [("single_select", str(value).lower())]
        if isinstance(value, Mapping):
            if value.get("vin"):
                return [("single_select", "true"), ("single_select_vin", str(value["vin"]))]
            return [("single_select", "true" if value.get("enabled") is True else "false")]
        raise ConfigurationError("single_select must be a bool or a dict like {'vin': VIN}")

    # --- motorpool: redeeming the code ----------------------------------------------------------

    def _exchange(self, code: str, code_verifier: str | None, redirect_uri: str | None) -> Prepared[CodeExchange]:
        if not self.client_secret:
            raise ConfigurationError(
                "client_secret is required to exchange a code: pass it, or set SMARTCAR_CLIENT_SECRET."
            )
        target = redirect_uri or self.redirect_uri
        if not target:
            raise ConfigurationError("redirect_uri is required to exchange a code")
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": target}
        if code_verifier:
            form["code_verifier"] = code_verifier
        credentials = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()

        def parse(response: RawResponse) -> CodeExchange:
            result: CodeExchange = parse_model(CodeExchange, response)
            return result

        return Prepared(
            method="POST",
            url=self.origins.token_url,
            headers={
                "accept": "application/json",
                "user-agent": USER_AGENT,
                "content-type": "application/x-www-form-urlencoded",
                "authorization": f"Basic {credentials}",
            },
            content=urlencode(form).encode(),
            parse=parse,
            read_error=read_token_error,
            authenticated=False,
            # A code is single-use: a repeated redemption after a lost answer would be refused.
            idempotent=False,
        )

    def exchange_code(
        self, code: str, *, code_verifier: str | None = None, redirect_uri: str | None = None
    ) -> CodeExchange:
        """Redeem the ``code`` Connect put in the redirect (motorpool's authorization-code grant).

        Proves that the redirect really came from Connect and answers the user's access token
        and refresh token, with the ``user_id``, ``vehicle_ids`` and ``scope`` of the grant on
        motorpool. Smartcar's v3 never needs the code (application tokens read every user's
        vehicles); the v2 API runs on user tokens. Pass the PKCE ``code_verifier`` when the
        Connect URL carried a ``code_challenge``.
        """
        flow = request_flow(self._exchange(code, code_verifier, redirect_uri), RetryPolicy())
        from ._httpx import HttpxSender  # httpx loads when first needed

        sender = HttpxSender(transport=self._transport)
        try:
            return drive(flow, lambda request: sender.send(request, self._timeout))
        finally:
            sender.close()

    async def exchange_code_async(
        self, code: str, *, code_verifier: str | None = None, redirect_uri: str | None = None
    ) -> CodeExchange:
        """:meth:`exchange_code`, awaited."""
        flow = request_flow(self._exchange(code, code_verifier, redirect_uri), RetryPolicy())
        from ._httpx import AsyncHttpxSender  # httpx loads when first needed

        sender = AsyncHttpxSender(transport=self._async_transport)
        try:
            return await drive_async(flow, lambda request: sender.send(request, self._timeout))
        finally:
            await sender.aclose()


__all__ = [
    "AuthClient",
    "PkcePair",
    "create_pkce_pair",
    "pkce_challenge",
]
