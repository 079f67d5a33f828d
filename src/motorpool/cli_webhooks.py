"""``motorpool webhooks …`` (configure, verify, test, follow the delivery log, redeliver) and
``motorpool worker`` (more delivery workers beside ``motorpool serve``).

The platform's origin is ``--platform`` here (MOTORPOOL_URL): ``--url`` is the webhook's
callback, as on Smartcar's dashboard."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer

webhooks_cli = typer.Typer(
    no_args_is_help=True,
    help="Webhooks: configure them, verify their callback, send test events, follow deliveries.",
)

PlatformOption = Annotated[str | None, typer.Option("--platform", metavar="URL", help="Platform origin (MOTORPOOL_URL).")]
TokenOption = Annotated[
    str | None, typer.Option("--admin-token", metavar="TOKEN", help="Admin token (MOTORPOOL_ADMIN_TOKEN).")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document (full ids) instead of text.")]
TriggerOption = Annotated[
    list[str] | None,
    typer.Option("--trigger", metavar="CODE", help="A signal code whose change sends an event (repeatable)."),
]
DataOption = Annotated[
    list[str] | None, typer.Option("--data", metavar="CODE", help="A signal code every event carries (repeatable).")
]
ApplicationOption = Annotated[
    str | None,
    typer.Option("--application", metavar="ID", help="Application id (default: MOTORPOOL_APPLICATION_ID, from .env)."),
]
WebhookArg = Annotated[str, typer.Argument(metavar="WEBHOOK_ID", help="The webhook's id.")]


@dataclass
class Shell:
    """What these commands borrow from the main CLI (its admin API client, its console, its
    tables, how it finds the application), handed over by :func:`install` so that this module
    does not import the CLI back."""

    admin: Callable[[str | None, str | None], Any] | None = None
    application: Callable[[str | None], str] | None = None
    console: Any = None
    table: Callable[..., Any] | None = None


SHELL = Shell()


def install(app: typer.Typer, *, admin: Any, application: Any, console: Any, table: Any) -> None:
    """Add ``webhooks`` and ``worker`` to the CLI ``app``, with its helpers."""
    SHELL.admin, SHELL.application, SHELL.console, SHELL.table = admin, application, console, table
    app.add_typer(webhooks_cli, name="webhooks")
    app.command("worker")(worker)


def _admin(platform: str | None, token: str | None) -> Any:
    assert SHELL.admin is not None, "install() first"
    return SHELL.admin(platform, token)


def _application(application: str | None) -> str:
    assert SHELL.application is not None, "install() first"
    return SHELL.application(application)


def _print(data: Any) -> None:
    SHELL.console.print_json(json.dumps(data))


def _summary(webhook: dict[str, Any]) -> None:
    console = SHELL.console
    attributes, meta = webhook["attributes"], webhook["meta"]
    state = "verified" if meta.get("verified") else f"NOT verified ({meta.get('verifyError')})"
    enabled = "enabled" if attributes["isEnabled"] else "disabled"
    console.print(f"webhook {webhook['id']}  {attributes['name']!r}  {enabled}, {state}", soft_wrap=True)
    console.print(f"  callback  {attributes['callbackUri']}", soft_wrap=True)
    if attributes.get("errorCallbackUri"):
        console.print(f"  errors    {attributes['errorCallbackUri']}", soft_wrap=True)
    console.print(f"  triggers  {', '.join(t['code'] for t in attributes['triggers']) or '-'}")
    console.print(f"  data      {', '.join(d['code'] for d in attributes['data']) or '-'}")
    if attributes["autoSubscribe"]:
        console.print("  subscribes new connections automatically (simulated vehicles excepted)")


@webhooks_cli.command("create")
def create(
    name: Annotated[str, typer.Option("--name", metavar="NAME", help="The webhook's name")],
    url: Annotated[str, typer.Option("--url", metavar="URL", help="Callback URL (http or https)")],
    trigger: TriggerOption = None,
    data: DataOption = None,
    error_url: Annotated[
        str | None, typer.Option("--error-url", metavar="URL", help="Callback for VEHICLE_ERROR events")
    ] = None,
    auto_subscribe: Annotated[bool, typer.Option("--auto-subscribe", help="Subscribe every connected vehicle")] = False,
    application: ApplicationOption = None,
    as_json: JsonFlag = False,
    platform: PlatformOption = None,
    admin_token: TokenOption = None,
) -> None:
    """Create a webhook; its callback gets a VERIFY challenge at once."""
    admin = _admin(platform, admin_token)
    body: dict[str, Any] = {"name": name, "callbackUri": url, "triggers": trigger or [], "data": data or []}
    if error_url:
        body["errorCallbackUri"] = error_url
    if auto_subscribe:
        body["autoSubscribe"] = True
    webhook = admin.call("POST", f"/admin/applications/{_application(application)}/webhooks", json=body)
    _print(webhook) if as_json else _summary(webhook)


@webhooks_cli.command("list")
def list_webhooks(
    application: ApplicationOption = None,
    as_json: JsonFlag = False,
    platform: PlatformOption = None,
    admin_token: TokenOption = None,
) -> None:
    """List an application's webhooks."""
    console, Table = SHELL.console, SHELL.table
    assert Table is not None
    found = _admin(platform, admin_token).call("GET", f"/admin/applications/{_application(application)}/webhooks")
    if as_json:
        _print(found)
        return
    table = Table("id", "name", "callback", "enabled", "verified", "triggers")
    for webhook in found:
        attributes = webhook["attributes"]
        table.add_row(
            webhook["id"], attributes["name"], attributes["callbackUri"], str(attributes["isEnabled"]).lower(),
            str(webhook["meta"]["verified"]).lower(), ", ".join(t["code"] for t in attributes["triggers"]),
        )  # fmt: skip
    console.print(table)


@webhooks_cli.command("show")
def show(webhook_id: WebhookArg, as_json: JsonFlag = False, platform: PlatformOption = None, admin_token: TokenOption = None) -> None:
    """Show a webhook and how many of its events are pending, delivered or failed."""
    console = SHELL.console
    webhook = _admin(platform, admin_token).call("GET", f"/admin/webhooks/{webhook_id}")
    if as_json:
        _print(webhook)
        return
    _summary(webhook)
    counts = webhook["meta"].get("events") or {}
    console.print("  events    " + (", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none yet"))


@webhooks_cli.command("update")
def update(
    webhook_id: WebhookArg,
    name: Annotated[str | None, typer.Option("--name", metavar="NAME", help="A new name")] = None,
    url: Annotated[str | None, typer.Option("--url", metavar="URL", help="A new callback (verified again)")] = None,
    error_url: Annotated[str | None, typer.Option("--error-url", metavar="URL", help="'' removes it")] = None,
    trigger: TriggerOption = None,
    data: DataOption = None,
    enabled: Annotated[bool | None, typer.Option("--enable/--disable", help="Disabling stops monitoring and deliveries")] = None,
    auto_subscribe: Annotated[bool | None, typer.Option("--auto-subscribe/--no-auto-subscribe")] = None,
    as_json: JsonFlag = False,
    platform: PlatformOption = None,
    admin_token: TokenOption = None,
) -> None:
    """Change a webhook; options left out stay as they are (--trigger/--data replace the lists)."""
    body: dict[str, Any] = {}
    for key, value in (("name", name), ("callbackUri", url), ("triggers", trigger), ("data", data),
                       ("isEnabled", enabled), ("autoSubscribe", auto_subscribe)):  # fmt: skip
        if value is not None:
            body[key] = value
    if error_url is not None:
        body["errorCallbackUri"] = error_url or None
    webhook = _admin(platform, admin_token).call("PATCH", f"/admin/webhooks/{webhook_id}", json=body)
    _print(webhook) if as_json else _summary(webhook)


@webhooks_cli.command("delete")
def delete(
    webhook_id: WebhookArg, as_json: JsonFlag = False, platform: PlatformOption = None, admin_token: TokenOption = None
) -> None:
    """Delete a webhook, its subscriptions and its log."""
    console = SHELL.console
    _admin(platform, admin_token).call("DELETE", f"/admin/webhooks/{webhook_id}")
    if as_json:
        _print({"id": webhook_id, "deleted": True})
        return
    console.print(f"deleted {webhook_id}")


@webhooks_cli.command("verify")
def verify(
    webhook_id: WebhookArg, as_json: JsonFlag = False, platform: PlatformOption = None, admin_token: TokenOption = None
) -> None:
    """Send the callback a VERIFY challenge again; exits 1 when it does not pass."""
    webhook = _admin(platform, admin_token).call("POST", f"/admin/webhooks/{webhook_id}/verify")
    _print(webhook) if as_json else _summary(webhook)
    if not webhook["meta"]["verified"]:
        raise typer.Exit(1)


@webhooks_cli.command("test")
def test(
    webhook_id: WebhookArg, as_json: JsonFlag = False, platform: PlatformOption = None, admin_token: TokenOption = None
) -> None:
    """Queue a TEST event (meta.mode "TEST"), like the dashboard's test button."""
    console = SHELL.console
    data = _admin(platform, admin_token).call("POST", f"/admin/webhooks/{webhook_id}/test")
    if as_json:
        _print(data)
        return
    console.print(f"queued test event {data['eventId']}")


def _line(delivery: dict[str, Any]) -> str:
    answer = delivery["statusCode"] if delivery["statusCode"] is not None else "---"
    problem = f"  {delivery['error']}" if delivery["error"] else ""
    return (
        f"{delivery['createdAt']}  {delivery['eventType']:<13} {delivery['eventId']}  "
        f"attempt {delivery['attempt']}  → {answer}  {delivery['latencyMs']} ms  [{delivery['eventStatus']}]{problem}"
    )


@webhooks_cli.command("deliveries")
def deliveries(
    webhook_id: WebhookArg,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing attempts as they are made")] = False,
    limit: Annotated[int, typer.Option("--limit", metavar="N", min=1, max=500, help="The latest N attempts")] = 20,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON array of the attempts; with --follow, one JSON object a line.")
    ] = False,
    interval: Annotated[
        float, typer.Option("--interval", metavar="SECONDS", min=0.1, help="Seconds between looks when following")
    ] = 1.0,
    platform: PlatformOption = None,
    admin_token: TokenOption = None,
) -> None:
    """The delivery log: each attempt's event, answer, latency and error (--json: the bodies too)."""
    console = SHELL.console
    admin = _admin(platform, admin_token)
    path = f"/admin/webhooks/{webhook_id}/deliveries"
    found = admin.call("GET", path, params={"limit": limit})
    if as_json and not follow:
        _print(found)
        return
    last: str | None = None
    while True:
        for delivery in found:
            if as_json:
                console.print(json.dumps(delivery), soft_wrap=True)
            else:
                console.print(_line(delivery), soft_wrap=True, highlight=False)
            last = delivery["createdAt"]
        if not follow:
            return
        try:
            time.sleep(interval)
        except KeyboardInterrupt:
            return
        params: dict[str, Any] = {"limit": 500}
        if last:
            params["after"] = last
        found = admin.call("GET", path, params=params)


@webhooks_cli.command("redeliver")
def redeliver(
    event_id: Annotated[str, typer.Argument(metavar="EVENT_ID", help="The event's id (from the delivery log).")],
    as_json: JsonFlag = False,
    platform: PlatformOption = None,
    admin_token: TokenOption = None,
) -> None:
    """Send an event again now, with its original eventId."""
    console = SHELL.console
    data = _admin(platform, admin_token).call("POST", f"/admin/events/{event_id}/redeliver")
    if as_json:
        _print(data or {"eventId": event_id})
        return
    console.print(f"queued {event_id} again")


def worker(
    database_url: Annotated[
        str | None, typer.Option("--database-url", metavar="URL", help="The platform's database (MOTORPOOL_DATABASE_URL).")
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Once running, print its start-up facts (database, process id) as one JSON document."),
    ] = False,
) -> None:
    """Run a webhook delivery worker (and monitor) on the platform's database, beside `motorpool
    serve`. On PostgreSQL any number run at once; on SQLite keep to the one inside serve."""
    import asyncio

    from .platform.services.runtime import start_platform
    from .platform.settings import Settings

    values: dict[str, Any] = {"bootstrap": False, "env_file": None, "print_credentials": False}
    if database_url:
        values["database_url"] = database_url
    settings = Settings(**values)

    async def run() -> None:
        platform = await start_platform(settings)
        platform.start_webhooks()
        typer.echo(f"motorpool worker on {settings.database_url}", err=True)
        if as_json:
            typer.echo(json.dumps({"database": settings.database_url, "pid": os.getpid(),
                                   "dataFolder": str(settings.data_dir.resolve())}))  # fmt: skip
        try:
            await asyncio.Event().wait()
        finally:
            await platform.close()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
