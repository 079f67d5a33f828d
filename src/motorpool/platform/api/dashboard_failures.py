"""The vehicle page's failure buttons (``templates/dashboard/_failures.html``): make a signal
fail, break the connected-services account, repair. Glue over ``services.failures``, with the
dashboard's session and CSRF check on every form."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from ..errors import ApiError
from ..services.failures import ACCOUNT_CODES, SIGNAL_ERROR_CHOICES
from .common import platform_of
from .dashboard import PAGES, _back, _form, _text

router = APIRouter(prefix="/dashboard", include_in_schema=False)

# What the partial offers in its menus; the service checks what comes back.
PAGES.env.globals["failure_account_codes"] = ACCOUNT_CODES
PAGES.env.globals["failure_signal_errors"] = SIGNAL_ERROR_CHOICES


@router.post("/vehicles/{vehicle_id}/failures")
async def vehicle_failure(request: Request, vehicle_id: str) -> Response:
    form = await _form(request)
    failures = platform_of(request).failures
    action = _text(form, "action")
    page = f"/dashboard/vehicles/{vehicle_id}"
    try:
        if action == "fail-signal":
            code = _text(form, "code")
            shown = await failures.fail_signal(vehicle_id, code, _text(form, "error") or None)
            failed = next(s for s in shown.signals if s.code == code)
            notice = f"{code} now fails with {failed.error_type}/{failed.error_code or 'null'}."
        elif action == "break-account":
            shown = await failures.break_account(vehicle_id, _text(form, "account_code") or None)
            notice = f"The account now answers CONNECTED_SERVICES_ACCOUNT/{shown.account_code}."
        elif action == "repair":
            signal = _text(form, "code") or None
            await failures.repair(vehicle_id, signal)
            notice = f"{signal} repaired." if signal else "Every failure repaired."
        else:
            notice = f"Unknown action '{action}'."
    except ApiError as error:
        notice = error.detail
    return _back(page, notice)
