"""motorpool: a self-hosted connected-car platform and its Python SDK.

The SDK's public names live here: ``from motorpool import AuthClient, Client, AsyncClient``.
They are loaded on first use, so importing ``motorpool.platform`` or the CLI does not pay for
the SDK's HTTP stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .sdk import *

__version__ = "0.1.0"

__all__ = [
    "AccessToken",
    "ApiError",
    "AsyncClient",
    "AsyncPage",
    "AsyncPager",
    "AuthClient",
    "AuthenticationError",
    "BillingError",
    "ChargeStatus",
    "Client",
    "CodeExchange",
    "CommandExecution",
    "CompatibilityError",
    "ConfigurationError",
    "ConnectError",
    "ConnectedServicesAccountError",
    "Connection",
    "Deleted",
    "DeliveryInfo",
    "Door",
    "EventUser",
    "EventVehicle",
    "FleetResult",
    "Fuel",
    "Location",
    "LockStatus",
    "OAuthError",
    "Odometer",
    "Origins",
    "Page",
    "PermissionDeniedError",
    "PkcePair",
    "Range",
    "RangeEstimate",
    "RateLimitError",
    "ReadError",
    "RequestTimeoutError",
    "Resolution",
    "ResourceNotFoundError",
    "ResponseMeta",
    "ResponseTooLargeError",
    "RetryPolicy",
    "ServerError",
    "Signal",
    "SignalErrorInfo",
    "SignalList",
    "SignalRef",
    "SignalStatus",
    "SignatureVerificationError",
    "SmartcarError",
    "SmartcarModel",
    "StateOfCharge",
    "Subscription",
    "SubscriptionRequest",
    "SyncPage",
    "Timeout",
    "TirePressure",
    "TirePressures",
    "TransportError",
    "Trigger",
    "UnexpectedResponseError",
    "UpstreamError",
    "ValidationError",
    "Vehicle",
    "VehicleErrorDetail",
    "VehicleErrorEvent",
    "VehicleInfo",
    "VehicleStateError",
    "VehicleStateEvent",
    "VerifyEvent",
    "Webhook",
    "WebhookEvent",
    "construct_event",
    "create_pkce_pair",
    "hash_challenge",
    "parse_event",
    "pkce_challenge",
    "verify_payload",
    "verify_signature",
]

_PUBLIC = frozenset(__all__)


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        from . import sdk

        value = getattr(sdk, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'motorpool' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
