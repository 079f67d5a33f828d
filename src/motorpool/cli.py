"""The ``motorpool`` command: a thin shell over the platform factory and the admin API."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(no_args_is_help=True, help="motorpool: a self-hosted connected-car platform.")
apps_cli = typer.Typer(no_args_is_help=True, help="Applications, redirect URIs and client secrets.")
owners_cli = typer.Typer(no_args_is_help=True, help="Live-mode owner accounts.")
vehicles_cli = typer.Typer(no_args_is_help=True, help="Simulated and live vehicles.")
db_cli = typer.Typer(no_args_is_help=True, help="The database.")
app.add_typer(apps_cli, name="apps")
app.add_typer(owners_cli, name="owners")
app.add_typer(vehicles_cli, name="vehicles")
app.add_typer(db_cli, name="db")
console = Console()
err = Console(stderr=True)

HostOption = Annotated[str, typer.Option("--host", help="Interface to listen on.")]
PortOption = Annotated[int, typer.Option("--port", help="Port to listen on.")]
DbOption = Annotated[
    str | None,
    typer.Option("--database-url", help="SQLAlchemy URL (default: sqlite ./motorpool.db, or MOTORPOOL_DATABASE_URL)."),
]


def _settings(**values: Any) -> Any:
    from .platform.settings import Settings

    return Settings(**{k: v for k, v in values.items() if v is not None})


@app.command()
def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 4000,
    database_url: DbOption = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
) -> None:
    """Start the platform (IAM, Connect, Vehicle API, Management API, admin)."""
    import uvicorn

    from .platform.app import create_app

    settings = _settings(host=host, port=port, database_url=database_url)
    err.print(f"motorpool platform on [bold]{settings.origin}[/bold] — database {settings.database_url}")
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_level=log_level,
        access_log=False,
        lifespan="on",
    )


@db_cli.command("upgrade")
def db_upgrade(database_url: DbOption = None) -> None:
    """Apply pending migrations."""
    from .platform.store import db

    settings = _settings(database_url=database_url)

    async def run() -> None:
        engine = db.create_engine(settings.database_url)
        await db.upgrade(engine)
        await engine.dispose()

    asyncio.run(run())
    console.print(f"database at head: {settings.database_url}")


# --- admin API commands -----------------------------------------------------------------------


def _dotenv(path: Path = Path(".env")) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


class Admin:
    """Calls the admin API of a running platform (MOTORPOOL_URL, MOTORPOOL_ADMIN_TOKEN)."""

    def __init__(self, url: str | None, token: str | None) -> None:
        dotenv = _dotenv()
        self.url = (url or os.environ.get("MOTORPOOL_URL") or dotenv.get("MOTORPOOL_URL") or "http://127.0.0.1:4000").rstrip("/")
        self.token = token or os.environ.get("MOTORPOOL_ADMIN_TOKEN") or dotenv.get("MOTORPOOL_ADMIN_TOKEN")
        if not self.token:
            err.print("No admin token: set MOTORPOOL_ADMIN_TOKEN (first start writes it to .env).")
            raise typer.Exit(2)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        try:
            response = httpx.request(
                method,
                self.url + path,
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=30,
                **kwargs,
            )
        except httpx.HTTPError as exc:
            err.print(f"[red]cannot reach {self.url}: {exc}[/red]")
            raise typer.Exit(1) from None
        body = response.json() if response.content else {}
        if response.status_code >= 400:
            err.print(f"[red]{response.status_code} {body.get('type', '')}: {body.get('description', body)}[/red]")
            raise typer.Exit(1)
        return body.get("data", body)


UrlOption = Annotated[str | None, typer.Option("--url", help="Platform origin (MOTORPOOL_URL).")]
TokenOption = Annotated[str | None, typer.Option("--admin-token", help="Admin token (MOTORPOOL_ADMIN_TOKEN).")]


@apps_cli.command("list")
def apps_list(url: UrlOption = None, admin_token: TokenOption = None) -> None:
    """List applications."""
    table = Table("id", "name", "client id", "redirect URIs", "live secrets")
    for item in Admin(url, admin_token).call("GET", "/admin/applications"):
        live = sum(1 for s in item["secrets"] if not s["revokedAt"])
        table.add_row(item["id"], item["name"], item["clientId"], "\n".join(item["redirectUris"]), str(live))
    console.print(table)


@apps_cli.command("create")
def apps_create(
    name: str,
    redirect_uri: Annotated[list[str] | None, typer.Option("--redirect-uri")] = None,
    url: UrlOption = None,
    admin_token: TokenOption = None,
) -> None:
    """Create an application; prints its client id and secret (shown once)."""
    data = Admin(url, admin_token).call(
        "POST", "/admin/applications", json={"name": name, "redirectUris": redirect_uri or []}
    )
    console.print(f"application id  {data['id']}")
    console.print(f"SMARTCAR_CLIENT_ID={data['clientId']}")
    console.print(f"SMARTCAR_CLIENT_SECRET={data['clientSecret']}  (shown once)")


@apps_cli.command("add-redirect-uri")
def apps_add_redirect(application_id: str, uri: str, url: UrlOption = None, admin_token: TokenOption = None) -> None:
    """Register a redirect URI."""
    data = Admin(url, admin_token).call("POST", f"/admin/applications/{application_id}/redirect-uris", json={"uri": uri})
    console.print("\n".join(data["redirectUris"]))


@apps_cli.command("create-secret")
def apps_create_secret(application_id: str, url: UrlOption = None, admin_token: TokenOption = None) -> None:
    """Create a client secret (at most three live ones)."""
    data = Admin(url, admin_token).call("POST", f"/admin/applications/{application_id}/secrets")
    console.print(f"secret id {data['id']}")
    console.print(f"SMARTCAR_CLIENT_SECRET={data['secret']}  (shown once)")


@apps_cli.command("revoke-secret")
def apps_revoke_secret(application_id: str, secret_id: str, url: UrlOption = None, admin_token: TokenOption = None) -> None:
    """Revoke a client secret; it stops working at once."""
    data = Admin(url, admin_token).call("DELETE", f"/admin/applications/{application_id}/secrets/{secret_id}")
    console.print(f"revoked {data['id']} at {data['revokedAt']}")


@owners_cli.command("list")
def owners_list(url: UrlOption = None, admin_token: TokenOption = None) -> None:
    """List live-mode owner accounts."""
    table = Table("id", "email", "name")
    for item in Admin(url, admin_token).call("GET", "/admin/owners"):
        table.add_row(item["id"], item["email"], item["name"])
    console.print(table)


@owners_cli.command("create")
def owners_create(
    email: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    name: str = "",
    url: UrlOption = None,
    admin_token: TokenOption = None,
) -> None:
    """Create a live-mode owner account."""
    data = Admin(url, admin_token).call("POST", "/admin/owners", json={"email": email, "password": password, "name": name})
    console.print(f"owner {data['id']} {data['email']}")


@vehicles_cli.command("create")
def vehicles_create(
    application: Annotated[str | None, typer.Option("--application", help="Application id (simulated fleet).")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Owner e-mail (live vehicle).")] = None,
    make: str | None = None,
    model: str | None = None,
    powertrain: Annotated[str | None, typer.Option(help="BEV, PHEV, HEV or ICE")] = None,
    year: int | None = None,
    vin: str | None = None,
    nickname: str = "",
    url: UrlOption = None,
    admin_token: TokenOption = None,
) -> None:
    """Create a vehicle in an application's simulated fleet or for a live owner."""
    admin = Admin(url, admin_token)
    if application is None and owner is None:
        application = os.environ.get("MOTORPOOL_APPLICATION_ID") or _dotenv().get("MOTORPOOL_APPLICATION_ID")
    body = {
        "applicationId": application,
        "ownerEmail": owner,
        "make": make,
        "model": model,
        "powertrainType": powertrain,
        "year": year,
        "vin": vin,
        "nickname": nickname,
    }
    data = admin.call("POST", "/admin/vehicles", json={k: v for k, v in body.items() if v not in (None, "")})
    console.print(f"vehicle {data['id']}  {data['year']} {data['make']} {data['model']} ({data['powertrainType']})  VIN {data['vin']}")


@vehicles_cli.command("list")
def vehicles_list(application: Annotated[str | None, typer.Option("--application")] = None, url: UrlOption = None, admin_token: TokenOption = None) -> None:
    """List an application's simulated fleet."""
    admin = Admin(url, admin_token)
    application = application or os.environ.get("MOTORPOOL_APPLICATION_ID") or _dotenv().get("MOTORPOOL_APPLICATION_ID")
    if not application:
        err.print("Give --application (or set MOTORPOOL_APPLICATION_ID).")
        raise typer.Exit(2)
    table = Table("id", "vehicle", "powertrain", "VIN", "nickname")
    for item in admin.call("GET", f"/admin/applications/{application}/vehicles"):
        table.add_row(item["id"], f"{item['year']} {item['make']} {item['model']}", item["powertrainType"], item["vin"], item["nickname"])
    console.print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
