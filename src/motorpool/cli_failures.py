"""``motorpool failures …``: simulated failures of a vehicle over the admin API — its
connected-services account needing re-authentication, a signal failing — and their repair."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer

failures_cli = typer.Typer(
    no_args_is_help=True,
    help="Simulated failures: break a vehicle's account, make a signal fail, repair them.",
)

VehicleArg = Annotated[str, typer.Argument(metavar="VEHICLE_ID", help="The vehicle's id.")]
UrlOption = Annotated[str | None, typer.Option("--url", metavar="URL", help="Platform origin (MOTORPOOL_URL).")]
TokenOption = Annotated[
    str | None, typer.Option("--admin-token", metavar="TOKEN", help="Admin token (MOTORPOOL_ADMIN_TOKEN).")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document (full ids) instead of text.")]
ApplicationOption = Annotated[
    str | None,
    typer.Option(
        "--application", metavar="ID",
        help="Application id: the vehicle must belong to it (default: no check).",
    ),
]  # fmt: skip


@dataclass
class Shell:
    """What these commands borrow from the main CLI (its admin API client and console), handed
    over by :func:`install` so that this module does not import the CLI back."""

    admin: Callable[[str | None, str | None], Any] | None = None
    console: Any = None


SHELL = Shell()


def install(app: typer.Typer, *, admin: Any, console: Any) -> None:
    """Add ``failures`` to the CLI ``app``, with its helpers."""
    SHELL.admin, SHELL.console = admin, console
    app.add_typer(failures_cli, name="failures")


def _call(url: str | None, token: str | None, path: str, application: str | None, body: dict[str, Any] | None = None) -> Any:
    assert SHELL.admin is not None, "install() first"
    params = {"application": application} if application else None
    method = "GET" if body is None else "POST"
    return SHELL.admin(url, token).call(method, path, params=params, **({} if body is None else {"json": body}))


def _print(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    console = SHELL.console
    account = data["account"]
    if account is None:
        console.print("account  works", highlight=False)
    else:
        console.print(f"account  {account['type']}/{account['code']} since {account['since']}", soft_wrap=True, highlight=False)
        if account["reauthenticationUrl"]:
            console.print(f"  re-authenticate at {account['reauthenticationUrl']}", soft_wrap=True, highlight=False)
    if not data["signals"]:
        console.print("signals  none failing", highlight=False)
    for signal in data["signals"]:
        error = f"{signal['type']}/{signal['errorCode'] or 'null'}"
        console.print(f"signal   {signal['code']} fails with {error} since {signal['since']}", soft_wrap=True, highlight=False)


@failures_cli.command("show")
def show(
    vehicle_id: VehicleArg, application: ApplicationOption = None, url: UrlOption = None,
    admin_token: TokenOption = None, as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """A vehicle's simulated failures."""
    _print(_call(url, admin_token, f"/admin/vehicles/{vehicle_id}/failures", application), as_json)


@failures_cli.command("break-account")
def break_account(
    vehicle_id: VehicleArg,
    code: Annotated[
        str | None,
        typer.Option("--code", metavar="CODE", help="A CONNECTED_SERVICES_ACCOUNT code (default AUTHENTICATION_FAILED)."),
    ] = None,
    application: ApplicationOption = None, url: UrlOption = None, admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Break the owner's connected-services account: reads and commands answer
    CONNECTED_SERVICES_ACCOUNT with a re-authentication link until repaired or re-connected."""
    body = {} if code is None else {"code": code}
    _print(_call(url, admin_token, f"/admin/vehicles/{vehicle_id}/failures/account", application, body), as_json)


@failures_cli.command("fail-signal")
def fail_signal(
    vehicle_id: VehicleArg,
    code: Annotated[str, typer.Argument(metavar="CODE", help="A signal code, e.g. odometer-traveleddistance.")],
    error: Annotated[
        str | None,
        typer.Option("--error", metavar="TYPE:CODE", help="The error it reports (default UPSTREAM:UNKNOWN_ISSUE)."),
    ] = None,
    application: ApplicationOption = None, url: UrlOption = None, admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Make one signal fail: reads show its status.error, the others read normally."""
    body = {} if error is None else {"error": error}
    _print(_call(url, admin_token, f"/admin/vehicles/{vehicle_id}/failures/signals/{code}", application, body), as_json)


@failures_cli.command("repair")
def repair(
    vehicle_id: VehicleArg,
    signal: Annotated[
        str | None, typer.Option("--signal", metavar="CODE", help="Repair only this signal (default: everything).")
    ] = None,
    application: ApplicationOption = None, url: UrlOption = None, admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Repair the account and every failing signal (or only --signal)."""
    body = {} if signal is None else {"signal": signal}
    _print(_call(url, admin_token, f"/admin/vehicles/{vehicle_id}/failures/repair", application, body), as_json)
