"""Server errors. Each class carries its wire ``type``, ``code`` and HTTP status; one handler
writes the body in the documented shape (v3 ``errors[]`` plus the flat v2 fields)."""

from __future__ import annotations

from types import EllipsisType
from typing import Any

DOCS = "https://smartcar.com/docs/errors/api-errors"

_DOC_PAGES = {
    "AUTHENTICATION": "authentication-errors",
    "PERMISSION": "permission-errors",
    "VALIDATION": "validation-errors",
    "RESOURCE_NOT_FOUND": "resource-not-found-errors",
    "CONNECTED_SERVICES_ACCOUNT": "connected-services-account-errors",
    "VEHICLE_STATE": "vehicle-state-errors",
    "RATE_LIMIT": "rate-limit-errors",
    "BILLING": "billing-errors",
    "COMPATIBILITY": "compatibility-errors",
    "UPSTREAM": "upstream-errors",
    "SERVER": "server-errors",
}

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    429: "Too Many Requests",
    430: "Billing Limit",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
}


def doc_url(error_type: str, code: str | None) -> str:
    page = _DOC_PAGES.get(error_type, "")
    anchor = (code or "null").lower().replace("_", "-")
    return f"{DOCS}/{page}#{anchor}"


class ApiError(Exception):
    """An error answered to an API client in the documented error shape."""

    status: int = 500
    type: str = "SERVER"
    code: str | None = "INTERNAL"
    resolution: str | None = None
    suggested_user_message: str = "Something went wrong. Please try again later."
    #: Whether the body lists every validation problem in a v2 ``detail`` array (v2's routes).
    lists_detail: bool = False
    #: Where the user resolves it (``resolution.url``): the re-authentication link.
    resolution_url: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        code: str | None | EllipsisType = ...,
        status: int | None = None,
        resolution: str | None | EllipsisType = ...,
        suggested_user_message: str | None = None,
        headers: dict[str, str] | None = None,
        extra_errors: list[ApiError] | None = None,
        source: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if not isinstance(code, EllipsisType):  # ``...``: the class's own code
            self.code = code
        if status is not None:
            self.status = status
        if not isinstance(resolution, EllipsisType):
            self.resolution = resolution
        if suggested_user_message is not None:
            self.suggested_user_message = suggested_user_message
        self.headers = headers or {}
        self.extra_errors = extra_errors or []
        self.source = source

    def error_object(self, request_id: str) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "status": str(self.status),
            "type": self.type,
            "code": self.code,
            "title": _TITLES.get(self.status, "Error"),
            "detail": self.detail,
            "resolution": self.resolution_member(),
            "suggestedUserMessage": self.suggested_user_message,
            "links": {"about": doc_url(self.type, self.code)},
            "meta": {"requestId": request_id},
        }
        if self.source:
            obj["source"] = self.source
        return obj

    def resolution_member(self) -> dict[str, str | None]:
        """``resolution``: its type, and its ``url`` when the user resolves it at one."""
        if self.resolution_url is None:
            return {"type": self.resolution}
        return {"type": self.resolution, "url": self.resolution_url}

    def detail_entry(self) -> dict[str, str | None]:
        """This problem as an entry of v2's ``detail`` array: the field it is about, and why."""
        source = self.source or {}
        field = source.get("pointer", source.get("parameter"))
        return {"field": field.lstrip("/") if field else None, "message": self.detail}

    def body(self, request_id: str) -> dict[str, Any]:
        errors = [self.error_object(request_id)]
        errors += [e.error_object(request_id) for e in self.extra_errors]
        body: dict[str, Any] = {
            "errors": errors,
            "type": self.type,
            "code": self.code,
            "description": self.detail,
            "statusCode": self.status,
            "requestId": request_id,
            "resolution": self.resolution_member(),
            "suggestedUserMessage": self.suggested_user_message,
            "docURL": doc_url(self.type, self.code),
        }
        if self.lists_detail and self.type == "VALIDATION":
            body["detail"] = [e.detail_entry() for e in (self, *self.extra_errors)]
        return body


class AuthenticationError(ApiError):
    status = 401
    type = "AUTHENTICATION"
    code = "UNAUTHORIZED"
    suggested_user_message = "Your application's credentials are not valid."


class PermissionDenied(ApiError):
    status = 403
    type = "PERMISSION"
    code = None
    resolution = "REAUTHENTICATE"
    suggested_user_message = "This application needs more permissions. Please reconnect your vehicle."


class ValidationFailed(ApiError):
    status = 400
    type = "VALIDATION"
    code = "INVALID_INPUT_FORMAT"
    suggested_user_message = "The request was not valid."


class NotFound(ApiError):
    status = 404
    type = "RESOURCE_NOT_FOUND"
    code = "PATH"
    suggested_user_message = "What you asked for could not be found."


class MethodNotAllowed(ApiError):
    """A path that exists, asked with a method it does not answer.

    Smartcar documents no error type for a 405. ``VALIDATION`` is the closest: it is Smartcar's
    type for a request that is wrong as sent and fails the same way however often it is retried;
    ``RESOURCE_NOT_FOUND`` would tell a client the path does not exist, which it does. The code
    names the fault."""

    status = 405
    type = "VALIDATION"
    code = "METHOD_NOT_ALLOWED"
    suggested_user_message = "The request was not valid."


class VehicleStateError(ApiError):
    status = 409
    type = "VEHICLE_STATE"
    code = "UNKNOWN"
    suggested_user_message = "Your vehicle could not do this right now."


class ConnectedServicesAccountError(ApiError):
    """The owner's connected-services account needs attention; with ``REAUTHENTICATE`` the owner
    signs in again through Connect at ``resolution_url``."""

    status = 400
    type = "CONNECTED_SERVICES_ACCOUNT"
    code = "AUTHENTICATION_FAILED"
    resolution = "REAUTHENTICATE"
    suggested_user_message = (
        "Your vehicle's connected-services account needs attention. Please reconnect your vehicle."
    )

    def __init__(self, detail: str, *, url: str | None = None, **options: Any) -> None:
        super().__init__(detail, **options)
        self.resolution_url = url


class RateLimited(ApiError):
    status = 429
    type = "RATE_LIMIT"
    code = "SMARTCAR_API"
    resolution = "RETRY_LATER"
    suggested_user_message = "Too many requests. Please wait and try again."


class Incompatible(ApiError):
    status = 501
    type = "COMPATIBILITY"
    code = "VEHICLE_NOT_CAPABLE"
    resolution = "CONTACT_SUPPORT"
    suggested_user_message = "Your vehicle cannot do this."


class ServerError(ApiError):
    status = 500
    type = "SERVER"
    code = "INTERNAL"
    resolution = "RETRY_LATER"


class OAuthError(Exception):
    """An RFC 6749 error answered by the token, introspection and revocation endpoints."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}
