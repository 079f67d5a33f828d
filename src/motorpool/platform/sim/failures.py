"""Simulated failures: a connected-services account that needs the owner to sign in again, and
signals that fail with an error of Smartcar's catalogue (smartcar-v3.md §10.3, §8.5).

Failures are kept in the vehicle's state record (``account_failure``, ``failed_signals``), so they
are stored, snapshotted and compared-and-set with everything else, and a reading stays a pure
function of (state, now): :func:`apply_failures` turns a vehicle's readings into what the car
reports while they hold. Pure; imports only the types of the state."""

from __future__ import annotations

from typing import cast

from .state import AccountFailure, Reading, SignalFailure, VehicleState

CONNECTED_SERVICES_ACCOUNT = "CONNECTED_SERVICES_ACCOUNT"
#: What a broken account answers unless another code is asked for: the owner's credentials no
#: longer work, and re-authenticating through Connect mends it.
DEFAULT_ACCOUNT_CODE = "AUTHENTICATION_FAILED"

#: The codes a connected-services account can fail with (§8.5, §10.3).
ACCOUNT_CODES: tuple[str, ...] = (
    "ACCOUNT_ISSUE", "AUTHENTICATION_FAILED", "NO_VEHICLES", "PERMISSION", "SUBSCRIPTION",
    "VEHICLE_MISSING", "VIRTUAL_KEY_REQUIRED",
)
#: The account codes the owner resolves by going through Connect again.
REAUTHENTICATE_CODES = frozenset({"AUTHENTICATION_FAILED", "PERMISSION"})

#: The errors a single signal can be made to fail with: type → its codes (None: the type has
#: no code, as ``PERMISSION``). Those of the webhooks' catalogue (§8.5) and the upstream ones.
SIGNAL_ERRORS: dict[str, tuple[str | None, ...]] = {
    "UPSTREAM": ("INVALID_DATA", "KNOWN_ISSUE", "NO_RESPONSE", "RATE_LIMIT", "UNKNOWN_ISSUE"),
    "VEHICLE_STATE": ("ASLEEP", "REMOTE_ACCESS_DISABLED", "UNKNOWN", "UNREACHABLE"),
    "CONNECTED_SERVICES_ACCOUNT": ("ACCOUNT_ISSUE", "AUTHENTICATION_FAILED", "PERMISSION", "SUBSCRIPTION", "VIRTUAL_KEY_REQUIRED"),
    "COMPATIBILITY": ("MAKE_NOT_COMPATIBLE", "SMARTCAR_NOT_CAPABLE", "VEHICLE_NOT_CAPABLE"),
    "PERMISSION": (None,),
}
#: What a failing signal reports unless another error is asked for.
DEFAULT_SIGNAL_ERROR: tuple[str, str | None] = ("UPSTREAM", "UNKNOWN_ISSUE")


def parse_signal_error(text: str | None) -> tuple[str, str | None]:
    """``TYPE:CODE`` (or ``TYPE`` for a type whose one code is null) → ``(type, code)``; None or
    empty → :data:`DEFAULT_SIGNAL_ERROR`. Raises ``ValueError`` naming what is allowed."""
    if text is None or not text.strip():
        return DEFAULT_SIGNAL_ERROR
    error_type, _, code = text.strip().upper().partition(":")
    codes = SIGNAL_ERRORS.get(error_type)
    if codes is None:
        raise ValueError(f"'{error_type}' is not a signal error type: one of {', '.join(SIGNAL_ERRORS)}.")
    if not code:
        if len(codes) != 1:
            raise ValueError(f"Give {error_type}:CODE, with CODE one of {', '.join(c or 'null' for c in codes)}.")
        return error_type, codes[0]
    if code not in codes:
        raise ValueError(
            f"'{code}' is not a code of {error_type}: one of {', '.join(c or 'null' for c in codes)}."
        )
    return error_type, code


def account_failure(state: VehicleState) -> AccountFailure | None:
    """The account's failure, if it is broken."""
    return state.get("account_failure")


def failed_signals(state: VehicleState) -> dict[str, SignalFailure]:
    """The failing signals, code → failure."""
    return state.get("failed_signals") or {}


def has_failures(state: VehicleState) -> bool:
    return bool(state.get("account_failure") or state.get("failed_signals"))


def failed_reading(code: str, reading: Reading, state: VehicleState) -> Reading:
    """One reading as the car reports it while its failures hold: a broken account fails every
    signal the model can report, a failing signal reports its own error; either carries no body
    (the webhooks' shape of a failed signal: ``status.error`` instead of ``body``). A code the
    model cannot report keeps its ``COMPATIBILITY`` error."""
    if reading.error is not None and reading.error[0] == "COMPATIBILITY" and reading.body is None:
        return reading
    account = state.get("account_failure")
    if account:
        return Reading(None, reading.oem_updated_at_ms, (CONNECTED_SERVICES_ACCOUNT, account["code"]))
    failure = state.get("failed_signals", {}).get(code)
    if failure is not None:
        return Reading(None, reading.oem_updated_at_ms, (failure["type"], failure["code"]))
    return reading


def apply_failures(readings: dict[str, Reading], state: VehicleState) -> dict[str, Reading]:
    """``readings`` (changed in place and returned) as the car reports them while its failures
    hold."""
    if state.get("account_failure"):
        for code, reading in readings.items():
            readings[code] = failed_reading(code, reading, state)
        return readings
    for code in state.get("failed_signals", {}):
        found = readings.get(code)
        if found is not None:
            readings[code] = failed_reading(code, found, state)
    return readings


def without_account_failure(state: VehicleState) -> VehicleState:
    """The state with its account working again (the owner re-authenticated): a copy."""
    mended = dict(state)
    mended.pop("account_failure", None)
    return cast(VehicleState, mended)
