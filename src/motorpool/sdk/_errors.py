"""Exceptions raised by the SDK.

The hierarchy::

    SmartcarError                    every error the SDK raises
    ├── ConfigurationError           missing credentials, unknown mode, bad option (also a ValueError)
    ├── ApiError                     the API answered with an error body (v3 ``errors[]`` or flat v2)
    │   ├── AuthenticationError          AUTHENTICATION, 401
    │   ├── PermissionDeniedError        PERMISSION, 403
    │   ├── ValidationError              VALIDATION, 400
    │   ├── ResourceNotFoundError        RESOURCE_NOT_FOUND, 404
    │   ├── ConnectedServicesAccountError CONNECTED_SERVICES_ACCOUNT, 400
    │   ├── VehicleStateError            VEHICLE_STATE, 409
    │   ├── RateLimitError               RATE_LIMIT, 429 (``retry_after``)
    │   ├── BillingError                 BILLING, 430
    │   ├── CompatibilityError           COMPATIBILITY, 501
    │   ├── UpstreamError                UPSTREAM, 502
    │   └── ServerError                  SERVER, 500 and any other 5xx
    ├── OAuthError                   the token endpoint refused (``{"error", "error_description"}``)
    ├── UnexpectedResponseError      a success answer that is not the documented shape
    ├── TransportError               no HTTP answer at all
    │   ├── ConnectError                 could not connect; nothing was sent
    │   ├── ReadError                    the connection failed after the request was sent
    │   └── RequestTimeoutError          connecting or waiting for the answer took too long
    └── SignatureVerificationError   a webhook body does not match its ``SC-Signature``

The API error class is chosen by the wire ``type``; when a body has no known type, by the HTTP
status. Every ``ApiError`` carries the wire fields one-to-one and formats its message as the
official SDK does: ``TYPE:CODE - description``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar


class SmartcarError(Exception):
    """Base class of every error the SDK raises."""


class ConfigurationError(SmartcarError, ValueError):
    """The SDK was set up wrongly: missing credentials, an unknown mode, a bad option."""


class SignatureVerificationError(SmartcarError):
    """A webhook delivery's body does not match its ``SC-Signature`` header."""


class UnexpectedResponseError(SmartcarError):
    """A success answer whose body is not the documented shape (or not JSON)."""

    def __init__(self, message: str, *, status_code: int, content: bytes) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.content = content


class TransportError(SmartcarError):
    """No HTTP answer arrived: the connection failed, dropped or timed out.

    ``request_sent`` is False only when the request certainly never reached the server, which is
    what makes a retry of a vehicle command safe.
    """

    def __init__(self, message: str, *, request_sent: bool = True) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class ConnectError(TransportError):
    """Could not open a connection to the server; nothing was sent."""

    def __init__(self, message: str) -> None:
        super().__init__(message, request_sent=False)


class ReadError(TransportError):
    """The connection failed after the request was sent (dropped, reset, malformed answer)."""


class RequestTimeoutError(TransportError):
    """Connecting, or waiting for the answer, took longer than the configured timeout."""


class ResponseTooLargeError(ReadError):
    """The answer is larger than the client's ``max_response_bytes`` (as sent or once inflated);
    it was dropped before being held in memory."""

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message, request_sent=True)
        self.limit = limit


class OAuthError(SmartcarError):
    """The token endpoint refused to issue a token (``invalid_client``, ``invalid_request``, …)."""

    def __init__(
        self,
        error: str,
        description: str | None,
        *,
        status_code: int,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        message = f"{error} - {description}" if description else error
        super().__init__(message)
        #: The OAuth ``error`` code, e.g. ``invalid_client``.
        self.error = error
        #: The OAuth ``error_description``.
        self.description = description
        self.status_code = status_code
        self.request_id = request_id
        self.body = body


class ApiError(SmartcarError):
    """The API answered with an error. Carries every field of the wire error body.

    ``errors`` holds every entry of a v3 ``errors[]`` array (validation failures list one per bad
    field); the other attributes describe the first one, completed by the flat v2 fields.
    """

    #: The wire ``type`` this class stands for (None on the base class).
    error_type: ClassVar[str | None] = None

    def __init__(
        self,
        *,
        status_code: int | None,
        type: str | None,
        code: str | None,
        description: str | None,
        request_id: str | None = None,
        resolution: Mapping[str, Any] | None = None,
        suggested_user_message: str | None = None,
        doc_url: str | None = None,
        title: str | None = None,
        detail: Any = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.type = type
        self.code = code
        self.description = description
        self.request_id = request_id
        #: ``{"type": "RETRY_LATER" | "REAUTHENTICATE" | "CONTACT_SUPPORT" | None, "url"?: …}``
        self.resolution: dict[str, Any] = dict(resolution or {})
        self.suggested_user_message = suggested_user_message
        self.doc_url = doc_url
        self.title = title
        self.detail = detail
        self.errors: list[dict[str, Any]] = [dict(error) for error in errors or []]
        self.body = body
        # Lower-case plain strings whichever library read them (aiohttp keys are ``istr``).
        self.headers: dict[str, str] = {str(k).lower(): v for k, v in (headers or {}).items()}
        super().__init__(self._message())

    def _message(self) -> str:
        label = f"{self.type or 'ERROR'}:{self.code}" if self.code else (self.type or "ERROR")
        text = self.description or self.title or f"HTTP {self.status_code}"
        return f"{label} - {text}"

    @property
    def resolution_type(self) -> str | None:
        """What the caller should do next: ``RETRY_LATER``, ``REAUTHENTICATE``, … or None."""
        value = self.resolution.get("type")
        return value if isinstance(value, str) else None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code!r}, type={self.type!r}, "
            f"code={self.code!r}, request_id={self.request_id!r})"
        )


class AuthenticationError(ApiError):
    """AUTHENTICATION: the access token is missing, invalid, expired or revoked."""

    error_type = "AUTHENTICATION"


class PermissionDeniedError(ApiError):
    """PERMISSION: the application was not granted the permission this call needs."""

    error_type = "PERMISSION"


class ValidationError(ApiError):
    """VALIDATION: a parameter, header or body field is missing or malformed."""

    error_type = "VALIDATION"


class ResourceNotFoundError(ApiError):
    """RESOURCE_NOT_FOUND: the path, vehicle, connection or signal does not exist."""

    error_type = "RESOURCE_NOT_FOUND"


class ConnectedServicesAccountError(ApiError):
    """CONNECTED_SERVICES_ACCOUNT: the owner's account with the manufacturer needs attention.

    When the owner mends it by signing in again (``AUTHENTICATION_FAILED``, resolution
    ``REAUTHENTICATE``), :attr:`needs_reauthentication` is true and
    :attr:`reauthentication_url` is Smartcar's re-authentication link, partial as sent: complete
    it with :meth:`reauthentication_link`."""

    error_type = "CONNECTED_SERVICES_ACCOUNT"

    @property
    def needs_reauthentication(self) -> bool:
        """Whether the owner must go through Connect again to mend the account."""
        return self.resolution_type == "REAUTHENTICATE"

    @property
    def reauthentication_url(self) -> str | None:
        """The re-authentication link of ``resolution.url`` (None when none was sent)."""
        url = self.resolution.get("url")
        return url if isinstance(url, str) and url else None

    def reauthentication_link(self, redirect_uri: str, state: str | None = None) -> str | None:
        """The re-authentication link with the application's ``redirect_uri`` (and ``state``)
        added, ready to send the owner to; None when the error carries no link."""
        url = self.reauthentication_url
        if url is None:
            return None
        from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("redirect_uri", "state")]
        query.append(("redirect_uri", redirect_uri))
        if state is not None:
            query.append(("state", state))
        return urlunsplit(parts._replace(query=urlencode(query)))


class VehicleStateError(ApiError):
    """VEHICLE_STATE: the vehicle cannot do this now (asleep, in motion, not plugged in, …)."""

    error_type = "VEHICLE_STATE"


class RateLimitError(ApiError):
    """RATE_LIMIT: too many requests. ``retry_after`` is the wait the server asked for, in seconds."""

    error_type = "RATE_LIMIT"

    @property
    def retry_after(self) -> float | None:
        """Seconds to wait before trying again, from the ``retry-after`` header (None if absent)."""
        return parse_retry_after(self.headers.get("retry-after"))


class BillingError(ApiError):
    """BILLING: the plan does not cover this request (vehicle or request limits, suspension)."""

    error_type = "BILLING"


class CompatibilityError(ApiError):
    """COMPATIBILITY: the make, the vehicle or the platform cannot provide this."""

    error_type = "COMPATIBILITY"


class UpstreamError(ApiError):
    """UPSTREAM: the manufacturer's service failed or answered nonsense."""

    error_type = "UPSTREAM"


class ServerError(ApiError):
    """SERVER: the platform failed (also any 5xx without a more specific type)."""

    error_type = "SERVER"


_BY_TYPE: dict[str, type[ApiError]] = {
    cls.error_type: cls
    for cls in (
        AuthenticationError,
        PermissionDeniedError,
        ValidationError,
        ResourceNotFoundError,
        ConnectedServicesAccountError,
        VehicleStateError,
        RateLimitError,
        BillingError,
        CompatibilityError,
        UpstreamError,
        ServerError,
    )
    if cls.error_type
}

_BY_STATUS: dict[int, type[ApiError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: ResourceNotFoundError,
    409: VehicleStateError,
    429: RateLimitError,
    430: BillingError,
    501: CompatibilityError,
    502: UpstreamError,
}


def error_class(error_type: str | None, status_code: int | None) -> type[ApiError]:
    """The exception class for a wire ``type``, falling back to the HTTP status."""
    if error_type and error_type in _BY_TYPE:
        return _BY_TYPE[error_type]
    if status_code is not None:
        if status_code in _BY_STATUS:
            return _BY_STATUS[status_code]
        if status_code >= 500:
            return ServerError
    return ApiError


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``retry-after`` header: a number of seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    from datetime import UTC, datetime

    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _decode(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def api_error_from_response(
    status_code: int, headers: Mapping[str, str], content: bytes
) -> ApiError:
    """Build the exception for an error answer of the Vehicle or Management API.

    Reads the v3 ``errors[]`` array and the flat v2 fields, whichever are present (motorpool
    sends both); a body that is neither, or not JSON, still gives an error of the right class.
    """
    body = _decode(content)
    fields: dict[str, Any] = body if isinstance(body, dict) else {}
    raw_errors = fields.get("errors")
    errors = [e for e in raw_errors if isinstance(e, dict)] if isinstance(raw_errors, list) else []
    first: dict[str, Any] = errors[0] if errors else {}
    error_meta = first.get("meta") if isinstance(first.get("meta"), dict) else {}
    links = first.get("links") if isinstance(first.get("links"), dict) else {}

    error_type = _text(first.get("type")) or _text(fields.get("type"))
    code = _text(first.get("code")) or _text(fields.get("code"))
    description = (
        _text(fields.get("description"))
        or _text(first.get("detail"))
        or _text(first.get("title"))
        or _text(fields.get("message"))
    )
    resolution = first.get("resolution", fields.get("resolution"))
    if isinstance(resolution, str):
        # Some v2 bodies send the resolution as a bare string; keep it rather than drop it.
        resolution = {"type": resolution}
    request_id = (
        headers.get("sc-request-id")
        or _text(fields.get("requestId"))
        or _text(error_meta.get("requestId") if isinstance(error_meta, dict) else None)
    )
    doc_url = _text(fields.get("docURL")) or _text(
        links.get("about") if isinstance(links, dict) else None
    )
    cls = error_class(error_type, status_code)
    return cls(
        status_code=status_code,
        type=error_type or cls.error_type,
        code=code,
        description=description,
        request_id=request_id,
        resolution=resolution if isinstance(resolution, dict) else None,
        suggested_user_message=_text(first.get("suggestedUserMessage"))
        or _text(fields.get("suggestedUserMessage")),
        doc_url=doc_url,
        title=_text(first.get("title")),
        detail=fields.get("detail", first.get("detail")),
        errors=errors,
        body=body,
        headers=headers,
    )


def oauth_error_from_response(
    status_code: int, headers: Mapping[str, str], content: bytes
) -> SmartcarError:
    """Build the exception for an error answer of the token endpoint.

    OAuth-shaped bodies (``{"error": "invalid_client", "error_description": …}``) become
    :class:`OAuthError`; anything else (a gateway's 5xx page, an API-shaped body) is read as an
    API error so that retries and messages still work.
    """
    body = _decode(content)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return OAuthError(
            body["error"],
            _text(body.get("error_description")),
            status_code=status_code,
            request_id=headers.get("sc-request-id"),
            body=body,
        )
    return api_error_from_response(status_code, headers, content)


__all__ = [
    "ApiError",
    "AuthenticationError",
    "BillingError",
    "CompatibilityError",
    "ConfigurationError",
    "ConnectError",
    "ConnectedServicesAccountError",
    "OAuthError",
    "PermissionDeniedError",
    "RateLimitError",
    "ReadError",
    "RequestTimeoutError",
    "ResourceNotFoundError",
    "ResponseTooLargeError",
    "ServerError",
    "SignatureVerificationError",
    "SmartcarError",
    "TransportError",
    "UnexpectedResponseError",
    "UpstreamError",
    "ValidationError",
    "VehicleStateError",
]
