"""``/admin/vehicles/{id}/failures``: simulated failures — a connected-services account that
needs re-authentication, failing signals — and their repair (``motorpool failures …``, the
dashboard's failure buttons)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from ..services.clocks import iso_ms
from ..services.failures import Failures
from ..services.vocabulary import SIGNAL_CODES
from .admin import ADMIN_ERRORS, require_admin
from .common import json_response, platform_of

router = APIRouter(prefix="/admin", tags=["Admin"], dependencies=[Depends(require_admin)], responses=ADMIN_ERRORS)

ApplicationQuery = Annotated[
    str | None,
    Query(description="The application the vehicle must belong to (a vehicle of another is not found)"),
]
SignalCode = Annotated[str, Path(description="A signal code", json_schema_extra={"enum": list(SIGNAL_CODES)})]


def failures_view(failures: Failures) -> dict[str, Any]:
    account = None
    if failures.account_code is not None:
        assert failures.account_since_ms is not None
        account = {
            "type": "CONNECTED_SERVICES_ACCOUNT",
            "code": failures.account_code,
            "since": iso_ms(failures.account_since_ms),
            "reauthenticationUrl": failures.reauthentication_url,
        }
    return {
        "data": {
            "vehicleId": failures.vehicle_id,
            "account": account,
            "signals": [
                {"code": s.code, "type": s.error_type, "errorCode": s.error_code, "since": iso_ms(s.since_ms)}
                for s in failures.signals
            ],
        }
    }


class AccountFailureRequest(BaseModel):
    code: str | None = Field(
        default=None,
        description="A CONNECTED_SERVICES_ACCOUNT code; AUTHENTICATION_FAILED (re-authentication) by default",
    )
    model_config = {"extra": "forbid"}


class SignalFailureRequest(BaseModel):
    error: str | None = Field(
        default=None, description="TYPE:CODE of the error the signal reports; UPSTREAM:UNKNOWN_ISSUE by default"
    )
    model_config = {"extra": "forbid"}


class RepairRequest(BaseModel):
    signal: str | None = Field(default=None, description="Repair only this signal; everything by default")
    model_config = {"extra": "forbid"}


@router.get("/vehicles/{vehicle_id}/failures", summary="A vehicle's simulated failures")
async def show_failures(request: Request, vehicle_id: str, application: ApplicationQuery = None) -> Response:
    return json_response(failures_view(await platform_of(request).failures.show(vehicle_id, application)))


@router.post("/vehicles/{vehicle_id}/failures/account", summary="Break a vehicle's connected-services account")
async def break_account(
    request: Request, vehicle_id: str, body: AccountFailureRequest | None = None,
    application: ApplicationQuery = None,
) -> Response:  # fmt: skip
    """Until repaired, or until the owner re-authenticates through Connect, the Vehicle API
    answers `CONNECTED_SERVICES_ACCOUNT` about the vehicle, with `resolution.type`
    `REAUTHENTICATE` and the re-authentication link in `resolution.url`."""
    code = body.code if body else None
    return json_response(failures_view(await platform_of(request).failures.break_account(vehicle_id, code, application)))


@router.post("/vehicles/{vehicle_id}/failures/signals/{code}", summary="Make a signal fail")
async def fail_signal(
    request: Request, vehicle_id: str, code: SignalCode, body: SignalFailureRequest | None = None,
    application: ApplicationQuery = None,
) -> Response:  # fmt: skip
    """The signal reports `status.error` instead of a value; the others read normally."""
    error = body.error if body else None
    return json_response(failures_view(await platform_of(request).failures.fail_signal(vehicle_id, code, error, application)))


@router.post("/vehicles/{vehicle_id}/failures/repair", summary="Repair a vehicle's simulated failures")
async def repair(
    request: Request, vehicle_id: str, body: RepairRequest | None = None, application: ApplicationQuery = None
) -> Response:
    signal = body.signal if body else None
    return json_response(failures_view(await platform_of(request).failures.repair(vehicle_id, signal, application)))
