"""The ``motorpool`` command: a thin shell over the platform factory and the admin API."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table as RichTable

app = typer.Typer(no_args_is_help=True, help="motorpool: a self-hosted connected-car platform.")
apps_cli = typer.Typer(no_args_is_help=True, help="Applications, redirect URIs and client secrets.")
owners_cli = typer.Typer(no_args_is_help=True, help="Live-mode owner accounts.")
vehicles_cli = typer.Typer(no_args_is_help=True, help="Simulated and live vehicles.")
db_cli = typer.Typer(no_args_is_help=True, help="The database.")
app.add_typer(apps_cli, name="apps")
app.add_typer(owners_cli, name="owners")
app.add_typer(vehicles_cli, name="vehicles")
app.add_typer(db_cli, name="db")


def _print_version(given: bool) -> None:
    if given:
        from importlib.metadata import version

        typer.echo(f"motorpool {version('motorpool')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", help="Print motorpool's version and exit.", is_eager=True,
                     callback=_print_version),
    ] = False,
) -> None:  # fmt: skip
    """motorpool: a local Smartcar emulator — the connected-car platform, its SDK and tools."""


class _LazyConsole:
    """A rich ``Console`` made on first use: importing rich is a noticeable share of the start-up
    of ``motorpool serve``, which prints without it."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            import sys

            from rich.console import Console

            options = dict(self._options)
            if not options.get("stderr") and not sys.stdout.isatty():
                # In a pipe or a file every id is printed whole: no width to fit tables into.
                options.setdefault("width", 10_000)
            self._console = Console(**options)
        return getattr(self._console, name)


def Table(*columns: str, **options: Any) -> RichTable:
    """A rich ``Table``, imported on first use like the consoles (named like the class it
    stands in for, so the commands read as before)."""
    from rich.table import Table as RichTable

    return RichTable(*columns, **options)


console: Console = _LazyConsole()  # type: ignore[assignment]
err: Console = _LazyConsole(stderr=True)  # type: ignore[assignment]

HostOption = Annotated[
    str | None, typer.Option("--host", metavar="HOST", help="Interface to listen on (default 127.0.0.1, or MOTORPOOL_HOST).")
]
PortOption = Annotated[int | None, typer.Option("--port", metavar="PORT", help="Port to listen on (default 4000, or MOTORPOOL_PORT).")]
DbOption = Annotated[
    str | None,
    typer.Option("--database-url", metavar="URL", help="SQLAlchemy URL (default: sqlite ./motorpool.db, or MOTORPOOL_DATABASE_URL)."),
]


def _settings(**values: Any) -> Any:
    from .platform.settings import Settings

    return Settings(**{k: v for k, v in values.items() if v is not None})


TlsFlag = Annotated[
    bool,
    typer.Option(
        "--tls",
        help="Serve HTTPS with a certificate of motorpool's local CA, made on first use "
        "(or MOTORPOOL_TLS=1); `motorpool ca trust-help` says how clients trust it.",
    ),
]
TlsCertOption = Annotated[
    Path | None, typer.Option("--tls-cert", metavar="FILE", help="Serve HTTPS with your own certificate (PEM).")
]
TlsKeyOption = Annotated[Path | None, typer.Option("--tls-key", metavar="FILE", help="…and its key (PEM).")]
ProxyPortOption = Annotated[
    int | None,
    typer.Option(
        "--proxy-port", metavar="PORT",
        help="Also run a CONNECT proxy on 127.0.0.1:PORT tunnelling Smartcar's host names to "
        "motorpool (needs --tls): HTTPS_PROXY=http://127.0.0.1:PORT runs code unchanged.",
    ),
]

WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers", metavar="N", min=1, max=64,
        help="Server processes on the one port (or MOTORPOOL_WORKERS); more than one needs PostgreSQL.",
    ),
]  # fmt: skip


@app.command()
def serve(
    host: HostOption = None,
    port: PortOption = None,
    database_url: DbOption = None,
    log_level: Annotated[str, typer.Option("--log-level", metavar="LEVEL", help="uvicorn log level")] = "info",
    tls: TlsFlag = False,
    tls_cert: TlsCertOption = None,
    tls_key: TlsKeyOption = None,
    proxy_port: ProxyPortOption = None,
    memory: Annotated[
        bool,
        typer.Option(
            "--memory",
            help="Keep nothing: the database in a temporary folder in RAM, removed on exit; "
            "no .env written (the credentials are printed).",
        ),
    ] = False,
    workers: WorkersOption = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Once serving, print the start-up facts (URLs, application, credentials of a "
            "first start, data folder) as one JSON document on stdout; the rest goes to stderr.",
        ),
    ] = False,
) -> None:
    """Start the platform (IAM, Connect, the Vehicle API with commands, admin). Options left out
    come from the MOTORPOOL_* environment, then the defaults."""
    import shutil

    from .platform.scratch import scratch_dir

    scratch = None
    if memory:
        if database_url is not None:
            err.print("[red]--memory and --database-url exclude each other: give one[/red]")
            raise typer.Exit(2)
        scratch = scratch_dir()
    try:
        _serve_platform(
            host, port, database_url, log_level, tls, tls_cert, tls_key, proxy_port, scratch, workers, as_json
        )
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _serve_platform(
    host: str | None, port: int | None, database_url: str | None, log_level: str, tls: bool,
    tls_cert: Path | None, tls_key: Path | None, proxy_port: int | None, scratch: Path | None,
    workers: int | None = None, as_json: bool = False,
) -> None:  # fmt: skip
    import uvicorn

    from .platform.app import create_app
    from .platform.head_timeout import HeadTimeoutProtocol
    from .platform.scratch import scratch_database_url

    extra: dict[str, Any] = {}
    if scratch is not None:
        database_url = scratch_database_url(scratch)
        extra = {"env_file": None, "data_dir": scratch / "data"}
    settings = _serving_settings(
        host=host, port=port, database_url=database_url, tls=tls or None, tls_cert=tls_cert,
        tls_key=tls_key, proxy_port=proxy_port, workers=workers,
    )  # fmt: skip
    if as_json:
        # The credentials of a first start go in the JSON document, not on stdout as text.
        extra["print_credentials"] = False
    if extra:
        settings = settings.model_copy(update=extra)
    files = _tls_files(settings) if settings.tls else None

    def announce(first: Any) -> None:
        if as_json:
            _print_json(_startup_facts(settings, first, files, in_memory=scratch is not None))

    if settings.workers > 1:
        from .cli_workers import serve_workers

        typer.echo(f"motorpool platform on {settings.origin} — database {settings.database_url}", err=True)
        serve_workers(settings, log_level, _uvicorn_tls(files), announce)
        return
    proxy_socket = _proxy_socket(settings)
    try:
        platform_socket = _bound(settings.host, settings.port)
    except OSError as exc:
        err.print(f"[red]cannot listen on {settings.host}:{settings.port}: {exc.strerror} "
                  "(another motorpool? --port picks another)[/red]", soft_wrap=True)  # fmt: skip
        raise typer.Exit(1) from None
    # typer's own styling, not rich's: serving never needs rich (see _LazyConsole).
    origin = typer.style(settings.origin, bold=True)
    where = "in memory, removed on exit" if scratch is not None else settings.database_url
    typer.echo(f"motorpool platform on {origin} — database {where}", err=True)
    _echo_zero_change(settings, files)
    asgi_app = create_app(settings)
    config = uvicorn.Config(
        asgi_app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http=HeadTimeoutProtocol,  # uvicorn's httptools protocol, with a deadline for the head
        ws="none",  # no WebSocket routes: importing a WebSocket stack would only slow the start
        log_level=log_level,
        access_log=False,
        lifespan="on",
        **_uvicorn_tls(files),
    )
    def started() -> None:
        announce(asgi_app.state.platform.first_start)

    server = _with_proxy(config, settings, proxy_socket, started)
    try:
        server.run(sockets=[platform_socket])
    except KeyboardInterrupt:
        pass
    if not server.started:
        raise typer.Exit(3)  # as uvicorn.run exits when the app fails to start


# --- TLS and the zero-change proxy of serve and up ----------------------------------------------


def _serving_settings(**values: Any) -> Any:
    """The platform's settings for ``serve`` and ``up``; a bad combination of the TLS and proxy
    options is told in one line (exit 2), not as a traceback."""
    from pydantic import ValidationError

    try:
        settings = _settings(**values)
    except ValidationError as exc:
        for problem in exc.errors():
            err.print(f"[red]{problem['msg'].removeprefix('Value error, ')}[/red]", soft_wrap=True)
        raise typer.Exit(2) from None
    if settings.proxy_port is not None and not settings.tls:
        err.print("[red]the proxy tunnels HTTPS to the platform's TLS listener: turn TLS on as well "
                  "(--tls, or MOTORPOOL_TLS=1)[/red]", soft_wrap=True)  # fmt: skip
        raise typer.Exit(2)
    return settings


def _tls_files(settings: Any) -> Any:
    """The certificate and key to serve (the local CA's, made or renewed as needed, or the
    user's own), or an exit naming what is wrong."""
    from urllib.parse import urlsplit

    from .platform import tls

    try:
        if settings.tls_cert is not None:
            return tls.own_files(settings.tls_cert, settings.tls_key)
        public_host = urlsplit(settings.public_url).hostname if settings.public_url else None
        return tls.ensure_server_files(settings.data_dir, [public_host] if public_host else [])
    except tls.TlsSetupError as exc:
        err.print(f"[red]TLS: {exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from None


def _uvicorn_tls(files: Any) -> dict[str, Any]:
    """uvicorn's options serving ``files`` (none without TLS)."""
    if files is None:
        return {}
    return {"ssl_certfile": str(files.certfile), "ssl_keyfile": str(files.keyfile)}


def _proxy_socket(settings: Any) -> Any:
    """The proxy's listening socket, bound before anything starts (a busy port is told at
    once), or None without a proxy."""
    if settings.proxy_port is None:
        return None
    try:
        return _bound(settings.proxy_host, settings.proxy_port)
    except OSError as exc:
        err.print(f"[red]cannot listen on {settings.proxy_host}:{settings.proxy_port} for the proxy: "
                  f"{exc.strerror}[/red]")  # fmt: skip
        raise typer.Exit(1) from None


def _bound(host: str, port: int) -> Any:
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _data_dir() -> Path:
    """motorpool's data folder, as the platform's settings would find it (without checking the
    rest of the MOTORPOOL_* environment)."""
    from .platform.settings import Settings

    default: Path = Settings.model_fields["data_dir"].default
    return Path(os.environ.get("MOTORPOOL_DATA_DIR") or default)


def _verify_for(origin: str) -> Any:
    """What an httpx client checks ``origin``'s certificate against: for an https origin, the
    local CA's bundle when the data folder has one (it holds the system's CAs too)."""
    if not origin.startswith("https://"):
        return True
    import ssl

    from .platform import tls

    bundle = tls.tls_folder(_data_dir()) / tls.BUNDLE_FILE
    return ssl.create_default_context(cafile=str(bundle)) if bundle.exists() else True


def _tunnel_target(settings: Any) -> tuple[str, int]:
    """Where the proxy sends its tunnels: the platform's own TLS listener."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(settings.host, settings.host)
    return host, settings.port


def _startup_facts(settings: Any, first: Any, files: Any, in_memory: bool = False, **more: Any) -> dict[str, Any]:
    """What a script needs from ``serve --json`` or ``up --json``: where everything answers, the
    development application, and the credentials when this start made them (shown once)."""
    known = first.env(settings.origin) if first is not None else (
        _dotenv(settings.env_file) if settings.env_file else {}
    )
    application_id = known.get("MOTORPOOL_APPLICATION_ID")
    client_id = known.get("SMARTCAR_CLIENT_ID")
    return {
        "url": settings.origin,
        "docs": f"{settings.origin}/docs",
        "dashboard": f"{settings.origin}/dashboard",
        "database": "memory" if in_memory else settings.database_url,
        "dataFolder": str(Path(settings.data_dir).resolve()),
        "envFile": str(settings.env_file.resolve()) if settings.env_file and not in_memory else None,
        "application": {"id": application_id, "clientId": client_id} if application_id or client_id else None,
        "credentials": known if first is not None else None,
        "tls": {"ca": str(files.ca.resolve())} if files is not None and files.ca is not None else None,
        "proxy": f"http://{settings.proxy_host}:{settings.proxy_port}" if settings.proxy_port else None,
        "pid": os.getpid(),
        **more,
    }


def _echo_zero_change(settings: Any, files: Any) -> None:
    """Tell how clients reach and trust the platform, under the start-up line of ``serve``."""
    if files is not None and files.ca is not None:
        typer.echo(f"  TLS: certificates of the local CA {files.ca.resolve()} "
                   "(how to trust it: motorpool ca trust-help)", err=True)  # fmt: skip
    if settings.proxy_port is not None:
        proxy = f"http://{settings.proxy_host}:{settings.proxy_port}"
        typer.echo(f"  proxy: HTTPS_PROXY={proxy} reaches motorpool under Smartcar's host names "
                   "(motorpool env prints every variable)", err=True)  # fmt: skip


def _with_proxy(config: Any, settings: Any, proxy_socket: Any, started: Any = None) -> Any:
    """A uvicorn server that also runs the CONNECT proxy on ``proxy_socket`` (when there is
    one), in its loop, from its start-up to its shutdown, and calls ``started()`` once it
    serves."""
    import uvicorn

    from .platform.proxy import ConnectProxy

    class ServerWithProxy(uvicorn.Server):
        proxy: ConnectProxy | None = None

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started and proxy_socket is not None:
                self.proxy = ConnectProxy(*_tunnel_target(settings))
                await self.proxy.start(sock=proxy_socket)
            if self.started and started is not None:
                started()

        async def shutdown(self, sockets: Any = None) -> None:
            if self.proxy is not None:
                await self.proxy.close()
            await super().shutdown(sockets)

    return ServerWithProxy(config)


@db_cli.command("upgrade")
def db_upgrade(database_url: DbOption = None, as_json: JsonFlag = False) -> None:
    """Apply pending migrations."""
    from .platform.store import db

    settings = _settings(database_url=database_url)

    async def run() -> None:
        engine = db.create_engine(settings.database_url)
        await db.upgrade(engine)
        await engine.dispose()

    asyncio.run(run())
    if as_json:
        return _print_json({"database": settings.database_url, "atHead": True})
    console.print(f"database at head: {settings.database_url}")


# --- motorpool up: the platform and the tutorial's demo in one process -------------------------


@app.command()
def up(
    platform_port: Annotated[int, typer.Option("--platform-port", metavar="PORT", help="Port of the platform.")] = 4000,
    demo_port: Annotated[int, typer.Option("--demo-port", metavar="PORT", help="Port of the demo app.")] = 8000,
    database_url: DbOption = None,
    log_level: Annotated[str, typer.Option("--log-level", metavar="LEVEL", help="uvicorn log level")] = "warning",
    tls: TlsFlag = False,
    proxy_port: ProxyPortOption = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Once both serve, print the start-up facts (URLs, application, data folder) as "
            "one JSON document on stdout instead of the banner.",
        ),
    ] = False,
) -> None:
    """Start the platform and the tutorial's demo app together; Ctrl-C stops both."""
    import uvloop

    settings = _serving_settings(
        host="127.0.0.1", port=platform_port, database_url=database_url, tls=tls or None,
        proxy_port=proxy_port, print_credentials=False if as_json else None,
    )  # fmt: skip
    files = _tls_files(settings) if settings.tls else None
    if files is not None and files.bundle is not None:
        # The demo's SDK reaches the platform over HTTPS: it must trust the local CA (the
        # bundle holds the system's CAs too).
        os.environ["SSL_CERT_FILE"] = str(files.bundle.resolve())
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        code = runner.run(_run_up(settings, files, demo_port, log_level, as_json))
    raise typer.Exit(code)


class _StartupFailed(Exception):
    """A server of ``motorpool up`` could not start; the message says why."""


def _listen(port: int) -> Any:
    """A socket bound to 127.0.0.1:``port``, so a busy port is reported before anything starts."""
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise _StartupFailed(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def _server(asgi_app: Any, log_level: str, **options: Any) -> Any:
    """A uvicorn server that leaves signals to ``up``, which stops both servers itself."""
    import contextlib

    import uvicorn

    class SharedLoopServer(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Any:  # uvicorn would re-raise SIGINT once it stopped
            yield

    from .platform.head_timeout import HeadTimeoutProtocol

    config = uvicorn.Config(
        asgi_app, http=HeadTimeoutProtocol, lifespan="on", log_level=log_level, access_log=False, **options
    )
    return SharedLoopServer(config)


async def _serve(server: Any, sock: Any, name: str) -> None:
    try:
        await server.serve(sockets=[sock])
    except SystemExit:  # uvicorn's way of saying the app's start-up failed
        raise _StartupFailed(f"the {name} failed to start (see the log above)") from None


async def _until_started(server: Any, task: asyncio.Task[None], stop: asyncio.Event) -> None:
    while not server.started:
        if task.done():
            task.result()
            raise _StartupFailed("a server stopped while starting")
        if stop.is_set():
            return
        await asyncio.sleep(0.02)


def _up_credentials(settings: Any, first: Any) -> dict[str, str]:
    """The development application's credentials: from this first start, else from the env
    file first start wrote, else from the environment."""
    if first is not None:
        written: dict[str, str] = first.env(settings.origin)
        return written
    values = _dotenv(settings.env_file) if settings.env_file else {}
    for name in ("SMARTCAR_CLIENT_ID", "SMARTCAR_CLIENT_SECRET", "MOTORPOOL_APPLICATION_ID", "MOTORPOOL_ADMIN_TOKEN",
                 "APPLICATION_MANAGEMENT_TOKEN"):  # fmt: skip
        if not values.get(name) and os.environ.get(name):
            values[name] = os.environ[name]
    if settings.admin_token:
        values["MOTORPOOL_ADMIN_TOKEN"] = settings.admin_token
    if not values.get("SMARTCAR_CLIENT_ID") or not values.get("SMARTCAR_CLIENT_SECRET"):
        raise _StartupFailed(
            f"the database {settings.database_url} already holds the development application, "
            f"but its credentials are not in {settings.env_file} (nor SMARTCAR_CLIENT_ID and "
            "SMARTCAR_CLIENT_SECRET). Set them, or remove the database to start afresh."
        )
    return values


async def _register_redirect_uri(settings: Any, credentials: dict[str, str], uri: str) -> None:
    """Register the demo's redirect URI on the development application (a no-op when it is
    already there), through the admin API of the platform just started."""
    import httpx

    token = credentials.get("MOTORPOOL_ADMIN_TOKEN")
    if not token:
        if not uri.endswith("localhost:8000/exchange"):
            err.print(f"[yellow]no admin token: register {uri} yourself (motorpool apps add-redirect-uri)[/yellow]")
        return
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=settings.origin, headers=headers, timeout=10, verify=_verify_for(settings.origin)
    ) as admin:
        application_id = credentials.get("MOTORPOOL_APPLICATION_ID")
        if not application_id:
            listing = (await admin.get("/admin/applications")).json().get("data", [])
            matches = [a["id"] for a in listing if a["clientId"] == credentials["SMARTCAR_CLIENT_ID"]]
            application_id = matches[0] if matches else None
        if application_id is None:
            raise _StartupFailed("the development application is not in the database")
        response = await admin.post(f"/admin/applications/{application_id}/redirect-uris", json={"uri": uri})
        if response.status_code >= 400:
            raise _StartupFailed(f"could not register {uri}: {response.status_code} {response.text}")


def _print_up_banner(settings: Any, demo_settings: Any, demo_port: int, files: Any = None) -> None:
    def line(text: str) -> None:
        console.print(text, soft_wrap=True, highlight=False)

    line("")
    line(f"[bold green]motorpool is up[/bold green] — open [bold]http://localhost:{demo_port}/login[/bold]")
    line(f"  demo       http://localhost:{demo_port}   the tutorial's app; Connect in {demo_settings.mode} mode")
    line(f"  platform   {settings.origin}   Connect, IAM, Vehicle API, admin; API docs at /docs")
    line(f"  dashboard  {settings.origin}/dashboard   sign in with MOTORPOOL_ADMIN_TOKEN from .env")
    line(f"  client id  {demo_settings.client_id}   secret in {settings.env_file or 'the environment'}")
    line(f"  redirect   {demo_settings.redirect_uri}")
    line(f"  databases  {settings.database_url} · sessions {demo_settings.database_url}")
    if files is not None and files.ca is not None:
        line(f"  TLS        the local CA {files.ca.resolve()} (motorpool ca trust-help)")
    if settings.proxy_port is not None:
        line(f"  proxy      HTTPS_PROXY=http://{settings.proxy_host}:{settings.proxy_port} "
             "for Smartcar's host names (motorpool env)")  # fmt: skip
    line("Press Ctrl-C to stop.")
    console.file.flush()


async def _run_up(settings: Any, files: Any, demo_port: int, log_level: str, as_json: bool = False) -> int:
    import signal

    from .demo.app import create_app as create_demo
    from .demo.settings import DemoSettings
    from .platform.app import create_app as create_platform
    from .platform.proxy import ConnectProxy

    platform_port = settings.port
    stop = asyncio.Event()
    proxy: ConnectProxy | None = None
    servers: list[Any] = []

    def on_signal() -> None:
        if stop.is_set():  # a second Ctrl-C: stop waiting for open connections
            for server in servers:
                server.force_exit = True
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)

    tasks: list[asyncio.Task[None]] = []
    try:
        platform_socket, demo_socket = _listen(platform_port), _listen(demo_port)
        proxy_socket = None
        if settings.proxy_port is not None:
            try:
                proxy_socket = _bound(settings.proxy_host, settings.proxy_port)
            except OSError as exc:
                raise _StartupFailed(
                    f"cannot listen on {settings.proxy_host}:{settings.proxy_port}: {exc.strerror}"
                ) from None
        platform_app = create_platform(settings)
        servers.append(_server(platform_app, log_level, **_uvicorn_tls(files)))
        tasks.append(asyncio.create_task(_serve(servers[0], platform_socket, "platform")))
        await _until_started(servers[0], tasks[0], stop)
        if not stop.is_set():
            credentials = _up_credentials(settings, platform_app.state.platform.first_start)
            env_file = settings.env_file
            if env_file and env_file.exists() and credentials.get("MOTORPOOL_URL") != settings.origin:
                from .platform.services.bootstrap import write_env_file

                # Keep `.env` pointing the CLI and the tutorial's code at the platform as started now.
                write_env_file(env_file, {"MOTORPOOL_URL": settings.origin})
            redirect_uri = f"http://localhost:{demo_port}/exchange"
            await _register_redirect_uri(settings, credentials, redirect_uri)
            if proxy_socket is not None:
                proxy = ConnectProxy(*_tunnel_target(settings))
                await proxy.start(sock=proxy_socket)
            demo_settings = DemoSettings(
                client_id=credentials["SMARTCAR_CLIENT_ID"],
                client_secret=credentials["SMARTCAR_CLIENT_SECRET"],
                redirect_uri=redirect_uri,
                base_url=settings.origin,
                # The demo's POST /webhooks answers VERIFY and checks signatures with it.
                management_token=credentials.get("APPLICATION_MANAGEMENT_TOKEN"),
            )
            servers.append(_server(create_demo(demo_settings), log_level))
            tasks.append(asyncio.create_task(_serve(servers[1], demo_socket, "demo")))
            await _until_started(servers[1], tasks[1], stop)
            if not stop.is_set() and as_json:
                first = platform_app.state.platform.first_start
                _print_json(_startup_facts(
                    settings, first, files, demo=f"http://localhost:{demo_port}",
                    login=f"http://localhost:{demo_port}/login", redirectUri=redirect_uri,
                    connectMode=demo_settings.mode, demoDatabase=demo_settings.database_url,
                ))  # fmt: skip
                sys.stdout.flush()
            elif not stop.is_set():
                _print_up_banner(settings, demo_settings, demo_port, files)
        # Run until Ctrl-C, or until a server stops by itself.
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        failed = [task for task in tasks if task.done() and task.exception() is not None]
        if failed:
            raise failed[0].exception()  # type: ignore[misc]
        return 0
    except _StartupFailed as exc:
        err.print(f"[red]motorpool up: {exc}[/red]", soft_wrap=True, highlight=False)
        return 1
    finally:
        if proxy is not None:
            await proxy.close()
        # The demo first, so no page is half-way through a platform call when it stops.
        for server, task in reversed(list(zip(servers, tasks, strict=True))):
            server.should_exit = True
            await asyncio.gather(task, return_exceptions=True)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


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

    def call(
        self, method: str, path: str, headers: dict[str, str] | None = None, *, whole: bool = False, **kwargs: Any
    ) -> Any:
        """The answer's ``data`` (its whole body with ``whole``), or exit with its error."""
        import httpx

        try:
            response = httpx.request(
                method,
                self.url + path,
                headers={"Authorization": f"Bearer {self.token}", **(headers or {})},
                timeout=30,
                verify=_verify_for(self.url),
                **kwargs,
            )
        except httpx.HTTPError as exc:
            err.print(f"[red]cannot reach {self.url}: {exc}[/red]")
            raise typer.Exit(1) from None
        body = response.json() if response.content else {}
        if response.status_code >= 400:
            # One line, whatever the width: scripts read it, and a wrapped message reads as two.
            from rich.markup import escape

            said = escape(f"{response.status_code} {body.get('type', '')}: {body.get('description', body)}")
            err.print(f"[red]{said}[/red]", soft_wrap=True, highlight=False)
            raise typer.Exit(1)
        return body if whole else body.get("data", body)

    def pages(self, path: str, most: int | None = None) -> Iterator[dict[str, Any]]:
        """The items of a listing that pages by cursor (``meta.nextCursor``), page after page,
        ``most`` of them at most."""
        cursor: str | None = None
        taken = 0
        while True:
            params: dict[str, Any] = {} if cursor is None else {"cursor": cursor}
            if most is not None:
                params["limit"] = min(most - taken, LISTING_PAGE)
            body = self.call("GET", path, params=params, whole=True)
            for item in body["data"]:
                yield item
                taken += 1
            cursor = (body.get("meta") or {}).get("nextCursor")
            if cursor is None or (most is not None and taken >= most):
                return


#: The most items the admin API's cursor listings hand out per page.
LISTING_PAGE = 1_000

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document (full ids) instead of text.")]


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2))


UrlOption = Annotated[str | None, typer.Option("--url", metavar="URL", help="Platform origin (MOTORPOOL_URL).")]
TokenOption = Annotated[str | None, typer.Option("--admin-token", metavar="TOKEN", help="Admin token (MOTORPOOL_ADMIN_TOKEN).")]
ApplicationArg = Annotated[str, typer.Argument(metavar="APPLICATION_ID", help="The application's id.")]
OptionalApplicationArg = Annotated[
    str | None, typer.Argument(metavar="APPLICATION_ID", help="Application id (default: MOTORPOOL_APPLICATION_ID, from .env).")
]
VehicleArg = Annotated[str, typer.Argument(metavar="VEHICLE_ID", help="The vehicle's id.")]


@apps_cli.command("list")
def apps_list(url: UrlOption = None, admin_token: TokenOption = None, as_json: JsonFlag = False) -> None:
    """List applications."""
    items = Admin(url, admin_token).call("GET", "/admin/applications")
    if as_json:
        return _print_json(items)
    table = Table("id", "name", "client id", "redirect URIs", "live secrets")
    for item in items:
        live = sum(1 for s in item["secrets"] if not s["revokedAt"])
        table.add_row(item["id"], item["name"], item["clientId"], "\n".join(item["redirectUris"]), str(live))
    console.print(table)


@apps_cli.command("create")
def apps_create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The application's name.")],
    redirect_uri: Annotated[
        list[str] | None, typer.Option("--redirect-uri", metavar="URI", help="A redirect URI; repeat for more.")
    ] = None,
    url: UrlOption = None,
    admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an application; prints its client id and secret (shown once)."""
    data = Admin(url, admin_token).call(
        "POST", "/admin/applications", json={"name": name, "redirectUris": redirect_uri or []}
    )
    if as_json:
        return _print_json(data)
    console.print(f"application id  {data['id']}")
    console.print(f"SMARTCAR_CLIENT_ID={data['clientId']}")
    console.print(f"SMARTCAR_CLIENT_SECRET={data['clientSecret']}  (shown once)")


@apps_cli.command("add-redirect-uri")
def apps_add_redirect(
    application_id: ApplicationArg,
    uri: Annotated[str, typer.Argument(metavar="URI", help="The redirect URI to register.")],
    url: UrlOption = None, admin_token: TokenOption = None, as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Register a redirect URI."""
    data = Admin(url, admin_token).call("POST", f"/admin/applications/{application_id}/redirect-uris", json={"uri": uri})
    if as_json:
        return _print_json(data)
    console.print("\n".join(data["redirectUris"]))


@apps_cli.command("create-secret")
def apps_create_secret(
    application_id: ApplicationArg, url: UrlOption = None, admin_token: TokenOption = None, as_json: JsonFlag = False
) -> None:
    """Create a client secret (at most three live ones)."""
    data = Admin(url, admin_token).call("POST", f"/admin/applications/{application_id}/secrets")
    if as_json:
        return _print_json(data)
    console.print(f"secret id {data['id']}")
    console.print(f"SMARTCAR_CLIENT_SECRET={data['secret']}  (shown once)")


@apps_cli.command("revoke-secret")
def apps_revoke_secret(
    application_id: ApplicationArg,
    secret_id: Annotated[str, typer.Argument(metavar="SECRET_ID", help="The secret's id (apps list --json shows them).")],
    url: UrlOption = None, admin_token: TokenOption = None, as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Revoke a client secret; it stops working at once."""
    data = Admin(url, admin_token).call("DELETE", f"/admin/applications/{application_id}/secrets/{secret_id}")
    if as_json:
        return _print_json(data)
    console.print(f"revoked {data['id']} at {data['revokedAt']}")


@apps_cli.command("management-token")
def apps_management_token(
    application: OptionalApplicationArg = None,
    rotate: Annotated[bool, typer.Option("--rotate", help="Replace it; the old one stops working at once")] = False,
    url: UrlOption = None,
    admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Show (or rotate) an application's management token, the credential of the v2 management
    API and the key that signs webhook deliveries."""
    admin = Admin(url, admin_token)
    application_id = _application(application)
    if not rotate:
        data = admin.call("GET", f"/admin/applications/{application_id}")
        if as_json:
            return _print_json({"applicationId": application_id, "managementToken": data["managementToken"]})
        console.print(f"APPLICATION_MANAGEMENT_TOKEN={data['managementToken']}", soft_wrap=True)
        return
    data = admin.call("POST", f"/admin/applications/{application_id}/management-token")
    token = data["managementToken"]
    if as_json:
        _print_json({"applicationId": application_id, "managementToken": token})
    else:
        console.print(f"APPLICATION_MANAGEMENT_TOKEN={token}", soft_wrap=True)
    env_file = Path(".env")
    if _dotenv(env_file).get("MOTORPOOL_APPLICATION_ID") == application_id and _replace_in_dotenv(
        env_file, "APPLICATION_MANAGEMENT_TOKEN", token
    ):
        err.print(f"The old token no longer works; {env_file} has the new one.")
    else:
        err.print("The old token no longer works; put the new one wherever you keep it.")


def _replace_in_dotenv(path: Path, key: str, value: str) -> bool:
    """Set an existing ``KEY=value`` line of a dotenv file in place; False when there is none."""
    lines = path.read_text().splitlines()
    for index, line in enumerate(lines):
        if line.partition("=")[0].strip().removeprefix("export ").strip() == key:
            lines[index] = f"{key}={value}"
            path.write_text("\n".join(lines) + "\n")
            return True
    return False


@apps_cli.command("rate-limit")
def apps_rate_limit(
    application: OptionalApplicationArg = None,
    requests: Annotated[int | None, typer.Option("--requests", metavar="N", help="The application's bucket: requests at once")] = None,
    refill_per_minute: Annotated[
        float | None, typer.Option("--refill-per-minute", metavar="N", help="…refilled by this many a minute")
    ] = None,
    vehicle_per_minute: Annotated[
        int | None, typer.Option("--vehicle-per-minute", metavar="N", help="Each vehicle's throttle, a minute")
    ] = None,
    smartcar: Annotated[bool, typer.Option("--smartcar", help="Smartcar's default: 120, refilling 2 a minute")] = False,
    off: Annotated[bool, typer.Option("--off", help="Lift every limit")] = False,
    url: UrlOption = None,
    admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Show or set an application's Vehicle API rate limits (none by default)."""
    admin = Admin(url, admin_token)
    path = f"/admin/applications/{_application(application)}/rate-limit"
    body: dict[str, Any] = {"requests": requests, "refillPerMinute": refill_per_minute,
                            "vehicleRequestsPerMinute": vehicle_per_minute}
    body = {key: value for key, value in body.items() if value is not None}
    if smartcar:
        body["preset"] = "smartcar"
    if off and body:
        err.print("--off lifts every limit; give it alone.")
        raise typer.Exit(2)
    data = admin.call("PUT", path, json=body) if body or off else admin.call("GET", path)
    if as_json:
        return _print_json(data)
    if not data["enabled"]:
        console.print("no rate limits")
        return
    parts = []
    if data["requests"] is not None:
        parts.append(f"{data['requests']} requests, refilling {data['refillPerMinute']:g} a minute")
    if data["vehicleRequestsPerMinute"] is not None:
        parts.append(f"{data['vehicleRequestsPerMinute']} a minute per vehicle")
    console.print("; ".join(parts))


@apps_cli.command("connect-permissions")
def apps_connect_permissions(
    application: OptionalApplicationArg = None,
    permission: Annotated[
        list[str] | None, typer.Option("--permission", "-p", metavar="PERMISSION", help="A permission; repeat for more")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every permission (the default)")] = False,
    url: UrlOption = None,
    admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Show or set what Connect asks for when a link has no scope (every permission by default)."""
    if permission and every:
        err.print("--all asks for every permission; give it without --permission.")
        raise typer.Exit(2)
    admin = Admin(url, admin_token)
    path = f"/admin/applications/{_application(application)}/connect-permissions"
    if permission or every:
        data = admin.call("PUT", path, json={"permissions": permission or None})
    else:
        data = admin.call("GET", path)
    if as_json:
        return _print_json(data)
    console.print(" ".join(data["permissions"]) + ("  (every permission: the default)" if data["default"] else ""))


@owners_cli.command("list")
def owners_list(url: UrlOption = None, admin_token: TokenOption = None, as_json: JsonFlag = False) -> None:
    """List live-mode owner accounts."""
    items = Admin(url, admin_token).call("GET", "/admin/owners")
    if as_json:
        return _print_json(items)
    table = Table("id", "email", "name")
    for item in items:
        table.add_row(item["id"], item["email"], item["name"])
    console.print(table)


@owners_cli.command("create")
def owners_create(
    email: Annotated[str, typer.Argument(metavar="EMAIL")],
    password: Annotated[
        str | None,
        typer.Option("--password", metavar="PASSWORD",
                     help="At least 8 characters; asked for (hidden, twice) when left out at a terminal."),
    ] = None,
    name: Annotated[str, typer.Option("--name", metavar="NAME", help="The owner's name.")] = "",
    url: UrlOption = None,
    admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Create a live-mode owner account."""
    if password is None:
        if not os.isatty(0):
            err.print("Give --password: there is no terminal to ask for it on.")
            raise typer.Exit(2)
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    data = Admin(url, admin_token).call("POST", "/admin/owners", json={"email": email, "password": password, "name": name})
    if as_json:
        return _print_json(data)
    console.print(f"owner {data['id']} {data['email']}")


@vehicles_cli.command("create")
def vehicles_create(
    application: Annotated[
        str | None, typer.Option("--application", metavar="ID", help="Application id (simulated fleet; default: .env's).")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", metavar="EMAIL", help="Owner e-mail (live vehicle).")] = None,
    make: Annotated[str | None, typer.Option("--make", metavar="MAKE", help="A make of the catalogue (TESLA, Tesla).")] = None,
    model: Annotated[str | None, typer.Option("--model", metavar="MODEL", help="One of the make's models.")] = None,
    powertrain: Annotated[str | None, typer.Option("--powertrain", metavar="TYPE", help="BEV, PHEV, HEV or ICE")] = None,
    year: Annotated[int | None, typer.Option("--year", metavar="YEAR", help="A model year the catalogue has.")] = None,
    vin: Annotated[str | None, typer.Option("--vin", metavar="VIN", help="17 characters (default: drawn).")] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", metavar="SEED", min=0, help="The same seed draws the same car (default: random).")
    ] = None,
    nickname: Annotated[
        str | None, typer.Option("--nickname", metavar="NAME", help="Its nickname signal (default: drawn, often none)")
    ] = None,
    url: UrlOption = None,
    admin_token: TokenOption = None,
    as_json: JsonFlag = False,
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
        "seed": seed,
    }
    data = admin.call("POST", "/admin/vehicles", json={k: v for k, v in body.items() if v not in (None, "")})
    if as_json:
        return _print_json(data)
    console.print(f"vehicle {data['id']}  {data['year']} {data['make']} {data['model']} ({data['powertrainType']})  VIN {data['vin']}")


@vehicles_cli.command("list")
def vehicles_list(
    application: ApplicationOption = None, url: UrlOption = None, admin_token: TokenOption = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, metavar="N", help="List the first N vehicles only (default: all, a page at a time).")] = None,
    as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """List an application's simulated fleet, oldest first."""
    path = f"/admin/applications/{_application(application)}/vehicles"
    items = list(Admin(url, admin_token).pages(path, limit))
    if as_json:
        return _print_json(items)
    table = Table("id", "vehicle", "powertrain", "VIN", "nickname")
    for item in items:
        table.add_row(item["id"], f"{item['year']} {item['make']} {item['model']}", item["powertrainType"], item["vin"], item["nickname"])
    console.print(table)


# --- steering the simulation ------------------------------------------------------------------

clock_cli = typer.Typer(no_args_is_help=True, help="An application's simulation clock.")
signals_cli = typer.Typer(no_args_is_help=True, help="Pin a simulated vehicle's signals.")
app.add_typer(clock_cli, name="clock")
app.add_typer(signals_cli, name="signals")
ApplicationOption = Annotated[
    str | None,
    typer.Option("--application", metavar="ID", help="Application id (default: MOTORPOOL_APPLICATION_ID, from .env)."),
]


def _application(application: str | None) -> str:
    """``--application``, else ``MOTORPOOL_APPLICATION_ID`` (the environment, then ``.env``),
    saying on stderr which one it took: acting on the development application unawares is a
    surprise."""
    if application:
        return application
    from_env = os.environ.get("MOTORPOOL_APPLICATION_ID")
    found = from_env or _dotenv().get("MOTORPOOL_APPLICATION_ID")
    if not found:
        err.print("Give --application (or set MOTORPOOL_APPLICATION_ID).")
        raise typer.Exit(2)
    source = "MOTORPOOL_APPLICATION_ID" if from_env else ".env's MOTORPOOL_APPLICATION_ID"
    err.print(f"application {found} (from {source}; --application picks another)", soft_wrap=True, highlight=False)
    return found


def _print_clock(data: dict[str, Any], as_json: bool = False) -> None:
    if as_json:
        return _print_json(data)
    pace = "frozen" if data["frozen"] else f"{data['rate']:g}× real time"
    console.print(f"{data['now']}  ({pace}, {data['offsetSeconds']:+g} s from real time)")


@clock_cli.command("show")
def clock_show(
    application: ApplicationOption = None, url: UrlOption = None, admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Print the application's simulated now and pace."""
    data = Admin(url, admin_token).call("GET", f"/admin/applications/{_application(application)}/clock")
    if as_json:
        return _print_json(data)
    _print_clock(data)


@clock_cli.command("set")
def clock_set(
    rate: Annotated[
        float | None, typer.Option("--rate", metavar="RATE", help="1 real time, 60 = a minute per second, 0 frozen")
    ] = None,
    now: Annotated[str | None, typer.Option("--now", metavar="INSTANT", help="Jump forward to this ISO 8601 instant")] = None,
    application: ApplicationOption = None,
    url: UrlOption = None,
    admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Change the clock's pace, or jump it forward to an instant."""
    body = {key: value for key, value in {"rate": rate, "now": now}.items() if value is not None}
    if not body:
        err.print("Give --rate or --now.")
        raise typer.Exit(2)
    path = f"/admin/applications/{_application(application)}/clock"
    _print_clock(Admin(url, admin_token).call("PUT", path, json=body), as_json)


@clock_cli.command("freeze")
def clock_freeze(
    application: ApplicationOption = None, url: UrlOption = None, admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Stop simulated time where it stands (move it with `clock advance`)."""
    path = f"/admin/applications/{_application(application)}/clock"
    _print_clock(Admin(url, admin_token).call("PUT", path, json={"rate": 0}), as_json)


@clock_cli.command("resume")
def clock_resume(
    application: ApplicationOption = None, url: UrlOption = None, admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Let simulated time run at real pace again (from where it stands)."""
    path = f"/admin/applications/{_application(application)}/clock"
    _print_clock(Admin(url, admin_token).call("PUT", path, json={"rate": 1}), as_json)


@clock_cli.command("advance")
def clock_advance(
    by: Annotated[str, typer.Argument(metavar="DURATION", help="A duration: 90s, 15m, 2h, 1d")],
    application: ApplicationOption = None,
    url: UrlOption = None,
    admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Move simulated time forward: cars charge, drive and fall asleep through the step."""
    path = f"/admin/applications/{_application(application)}/clock/advance"
    _print_clock(Admin(url, admin_token).call("POST", path, json={"by": by}), as_json)


def _print_vehicle(data: dict[str, Any], as_json: bool = False) -> None:
    if as_json:
        return _print_json(data)
    plugged = "plugged in" if data.get("plugged") else "unplugged"
    locked = "locked" if data.get("locked") else "unlocked"
    console.print(f"vehicle {data['vehicleId']}: {data['activity']}, {plugged}, {locked}")


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@vehicles_cli.command("show")
def vehicles_show(
    vehicle_id: VehicleArg, url: UrlOption = None, admin_token: TokenOption = None, as_json: JsonFlag = False
) -> None:
    """A vehicle's state, what waits for it, and every signal of its latest report with its age."""
    data = Admin(url, admin_token).call("GET", f"/admin/vehicles/{vehicle_id}")
    if as_json:
        return _print_json(data)
    state = data["state"]
    console.print(f"vehicle {data['id']}  {data['year']} {data['make']} {data['model']} ({data['powertrainType']})  "
                  f"VIN {data['vin']}  {data['mode']}", soft_wrap=True, highlight=False)  # fmt: skip
    console.print(f"application {data['applicationId'] or '-'}   now {data['now']}", soft_wrap=True, highlight=False)
    doing = state["activity"] + (f" until {state['activityEndsAt']}" if state["activityEndsAt"] else "")
    flags = [
        "asleep" if state["asleep"] else "awake",
        "online" if state["online"] else "offline",
        "plugged in" if state["plugged"] else "unplugged",
        "locked" if state["locked"] else "unlocked",
    ]
    if state["open"]:
        flags.append("open: " + ", ".join(state["open"]))
    console.print(f"state  {doing}; {', '.join(flags)}; last report {data['reportedAt']}", soft_wrap=True, highlight=False)
    for queued in data["queuedCommands"]:
        console.print(f"queued {queued['command']} ({queued['id']}) at {queued['dueAt']}", soft_wrap=True, highlight=False)
    table = Table("signal", "value", "age", "")
    for signal in data["signals"]:
        if signal["error"]:
            continue  # what this model cannot report: `--json` lists those too
        body = signal["body"] or {}
        value = body.get("value") if set(body) <= {"value", "unit"} and "value" in body else json.dumps(body)
        if len(str(value)) > 60:
            value = str(value)[:59] + "…"  # a list or a record: --json has it whole
        unit = f" {body['unit']}" if "unit" in body and set(body) <= {"value", "unit"} else ""
        table.add_row(signal["code"], f"{value}{unit}", _age(signal["ageSeconds"]), "pinned" if signal["pinned"] else "")
    console.print(table)


@vehicles_cli.command("drive")
def vehicles_drive(
    vehicle_id: VehicleArg,
    to: Annotated[str | None, typer.Option("--to", metavar="LAT,LON", help="Where to; default the navigation's destination")] = None,
    speed: Annotated[float | None, typer.Option("--speed", metavar="KPH", help="Average speed, kph")] = None,
    url: UrlOption = None,
    admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Start a trip; the car drives there along a plausible path and parks."""
    body: dict[str, Any] = {}
    if to is not None:
        try:
            latitude, longitude = (float(part) for part in to.split(","))
        except ValueError:
            err.print("--to takes LAT,LON, for example --to 37.7749,-122.4194")
            raise typer.Exit(2) from None
        body.update(latitude=latitude, longitude=longitude)
    if speed is not None:
        body["speedKph"] = speed
    _print_vehicle(Admin(url, admin_token).call("POST", f"/admin/vehicles/{vehicle_id}/drive", json=body), as_json)


@vehicles_cli.command("plug")
def vehicles_plug(
    vehicle_id: VehicleArg,
    out: Annotated[bool, typer.Option("--out", help="Unplug instead")] = False,
    start: Annotated[bool, typer.Option("--start", help="Start charging at once")] = False,
    kw: Annotated[
        float | None, typer.Option("--kw", metavar="KW", help="Charger power in kW (default: the charger where it stands)")
    ] = None,
    url: UrlOption = None,
    admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Plug a car into the charger where it stands (or unplug it with --out)."""
    body: dict[str, Any] = {"plugged": not out, "start": start}
    if kw is not None:
        body["kw"] = kw
    _print_vehicle(Admin(url, admin_token).call("POST", f"/admin/vehicles/{vehicle_id}/plug", json=body), as_json)


@vehicles_cli.command("sleep")
def vehicles_sleep(
    vehicle_id: VehicleArg, url: UrlOption = None, admin_token: TokenOption = None, as_json: JsonFlag = False
) -> None:
    """Put an idle car to sleep now (reads then return its last report)."""
    _print_vehicle(Admin(url, admin_token).call("POST", f"/admin/vehicles/{vehicle_id}/sleep", json={}), as_json)


@vehicles_cli.command("wake")
def vehicles_wake(
    vehicle_id: VehicleArg, url: UrlOption = None, admin_token: TokenOption = None, as_json: JsonFlag = False
) -> None:
    """Wake a car: it reports fresh values."""
    _print_vehicle(Admin(url, admin_token).call("POST", f"/admin/vehicles/{vehicle_id}/wake", json={}), as_json)


@vehicles_cli.command("online")
def vehicles_online(
    vehicle_id: VehicleArg,
    offline: Annotated[bool, typer.Option("--offline", help="Take it off the network instead")] = False,
    url: UrlOption = None,
    admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Bring a car back on the network (or take it off with --offline: reads then fail)."""
    path = f"/admin/vehicles/{vehicle_id}/online"
    _print_vehicle(Admin(url, admin_token).call("POST", path, json={"online": not offline}), as_json)


@vehicles_cli.command("open")
def vehicles_open(
    vehicle_id: VehicleArg,
    part: Annotated[str, typer.Argument(metavar="PART", help="door-0-0, window-1-1, trunk, hood, tailgate, frunk, sunroof")],
    close: Annotated[bool, typer.Option("--close", help="Close it instead")] = False,
    url: UrlOption = None,
    admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Open (or close) a door, window, trunk or hood, as someone at the car would."""
    path = f"/admin/vehicles/{vehicle_id}/open"
    _print_vehicle(Admin(url, admin_token).call("POST", path, json={"part": part, "open": not close}), as_json)


@signals_cli.command("set")
def signals_set(
    vehicle_id: VehicleArg,
    code: Annotated[str, typer.Argument(metavar="CODE", help="A signal code of the catalogue: tractionbattery-stateofcharge")],
    body: Annotated[str | None, typer.Argument(metavar="BODY", help='The body as JSON, e.g. \'{"value": 42}\'')] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Un-pin: the simulation decides again")] = False,
    url: UrlOption = None,
    admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Pin a signal to a body from now on (or un-pin it with --clear)."""
    if clear == (body is not None):
        err.print("Give a JSON body, or --clear.")
        raise typer.Exit(2)
    try:
        parsed = json.loads(body) if body is not None else None
    except json.JSONDecodeError as exc:
        err.print(f"The body is not JSON: {exc}")
        raise typer.Exit(2) from None
    data = Admin(url, admin_token).call("PUT", f"/admin/vehicles/{vehicle_id}/signals/{code}", json={"body": parsed})
    if as_json:
        return _print_json(data)
    console.print(f"{code} on {data['vehicleId']}: {'un-pinned' if parsed is None else json.dumps(parsed)}")


# --- zero-change mode: the local CA, the hosts file, the environment ---------------------------

ca_cli = typer.Typer(no_args_is_help=True, help="The local certificate authority of TLS mode.")
app.add_typer(ca_cli, name="ca")
DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", metavar="DIR", help="motorpool's data folder (default ./.motorpool, or MOTORPOOL_DATA_DIR)."),
]


def _local_ca(data_dir: Path | None) -> tuple[Path, Path]:
    """The local CA's certificate and the bundle with it (made on first use), absolute."""
    from .platform import tls

    folder = data_dir or _data_dir()
    ca = tls.ensure_ca(folder).resolve()
    return ca, (tls.tls_folder(folder) / tls.BUNDLE_FILE).resolve()


@ca_cli.command("path")
def ca_path(
    data_dir: DataDirOption = None,
    bundle: Annotated[bool, typer.Option("--bundle", help="The system's CAs plus the local CA, in one file.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Print the local CA's certificate file (made on first use), for the client to trust."""
    ca, with_system = _local_ca(data_dir)
    if as_json:
        return _print_json({"ca": str(ca), "bundle": str(with_system)})
    typer.echo(str(with_system if bundle else ca))


def trust_help(ca: Path, bundle: Path, proxy: str | None) -> str:
    """How each ecosystem trusts the local CA (and, with ``proxy``, goes through the proxy)."""
    from shlex import quote

    q_ca, q_bundle = quote(str(ca)), quote(str(bundle))
    proxy_url = proxy or "http://127.0.0.1:4080"
    host, _, port = proxy_url.removeprefix("http://").rpartition(":")
    host = host.strip("[]")
    return f"""motorpool's local CA: {ca}
(the same with the system's CAs: {bundle})

Python (requests, httpx, urllib, the smartcar SDK):
  export SSL_CERT_FILE={q_bundle} REQUESTS_CA_BUNDLE={q_bundle}
Node:
  export NODE_EXTRA_CA_CERTS={q_ca}
Java:
  keytool -importcert -noprompt -alias motorpool-local-ca -file {q_ca} -keystore motorpool-truststore.p12 -storepass changeit
  java -Djavax.net.ssl.trustStore=motorpool-truststore.p12 -Djavax.net.ssl.trustStorePassword=changeit \\
       -Dhttps.proxyHost={host} -Dhttps.proxyPort={port} …
Ruby (Net::HTTP, the smartcar gem):
  export SSL_CERT_FILE={q_bundle}
curl:
  curl --cacert {q_ca} -x {proxy_url} https://vehicle.api.smartcar.com/v3/connections …

Through the proxy (motorpool serve --tls --proxy-port {port}):
  Python, curl:  export HTTPS_PROXY={proxy_url}
  Ruby:          export http_proxy={proxy_url}   (Net::HTTP reads http_proxy, even for https)
  Java:          the -Dhttps.proxyHost/-Dhttps.proxyPort above
  Node:          its global fetch ignores HTTPS_PROXY: map the host names instead (motorpool hosts)
`eval "$(motorpool env --proxy-port {port})"` sets the credentials and the Python, Node and curl
variables at once.
"""


@ca_cli.command("trust-help")
def ca_trust_help(
    data_dir: DataDirOption = None,
    proxy_port: Annotated[
        int | None, typer.Option("--proxy-port", metavar="PORT", help="The proxy's port (MOTORPOOL_PROXY_PORT, or 4080).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Print, per language, how to trust the local CA (and go through the proxy)."""
    ca, bundle = _local_ca(data_dir)
    port = proxy_port or int(os.environ.get("MOTORPOOL_PROXY_PORT") or 4080)
    host = os.environ.get("MOTORPOOL_PROXY_HOST") or "127.0.0.1"
    proxy = f"http://{host}:{port}"
    if as_json:
        return _print_json({
            "ca": str(ca), "bundle": str(bundle), "proxy": proxy,
            # The variables each ecosystem reads, as the text spells out.
            "environment": {"SSL_CERT_FILE": str(bundle), "REQUESTS_CA_BUNDLE": str(bundle),
                            "NODE_EXTRA_CA_CERTS": str(ca), "HTTPS_PROXY": proxy},
            "help": trust_help(ca, bundle, proxy),
        })  # fmt: skip
    typer.echo(trust_help(ca, bundle, proxy), nl=False)


@app.command("hosts")
def hosts(
    apply: Annotated[bool, typer.Option("--apply", help="Add the lines to the hosts file (as root).")] = False,
    remove: Annotated[bool, typer.Option("--remove", help="Take motorpool's lines out again.")] = False,
    file: Annotated[Path, typer.Option("--file", metavar="FILE", help="The hosts file.")] = Path("/etc/hosts"),
    address: Annotated[str, typer.Option("--address", metavar="ADDRESS", help="Where the names go.")] = "127.0.0.1",
    as_json: JsonFlag = False,
) -> None:
    """Print the hosts-file lines that send Smartcar's host names to this machine; with them and
    `motorpool serve --tls --port 443`, code reaches motorpool by name."""
    from .platform import hostnames

    if apply and remove:
        err.print("Give --apply or --remove, not both.")
        raise typer.Exit(2)
    facts = {"address": address, "hosts": list(hostnames.SMARTCAR_HOSTS), "file": str(file)}
    if not apply and not remove:
        if as_json:
            return _print_json(facts | {"lines": hostnames.hosts_block(address)})
        typer.echo(hostnames.hosts_block(address), nl=False)
        return
    try:
        text = file.read_text() if file.exists() else ""
        changed = hostnames.with_hosts_block(text, address) if apply else hostnames.without_hosts_block(text)
        if changed != text:
            # In place, not renamed over: a container's /etc/hosts is a mount point.
            with file.open("w") as out:
                out.write(changed)
    except PermissionError:
        err.print(f"[red]cannot write {file}: run it as root (sudo motorpool hosts {'--apply' if apply else '--remove'})[/red]")
        raise typer.Exit(1) from None
    if as_json:
        return _print_json(facts | {"applied": apply, "removed": remove, "changed": changed != text})
    done = "sends Smartcar's host names to " + address if apply else "has no motorpool lines"
    err.print(f"{file} {done}", highlight=False)


@app.command("env")
def env(
    proxy_port: Annotated[
        int | None,
        typer.Option("--proxy-port", metavar="PORT", help="The port of `serve --proxy-port`: adds the proxy and CA variables (or MOTORPOOL_PROXY_PORT)."),
    ] = None,
    tls: Annotated[bool, typer.Option("--tls", help="Adds the CA variables alone (TLS reached by name, through hosts-file lines).")] = False,
    env_file: Annotated[Path, typer.Option("--env-file", metavar="FILE", help="Where first start wrote the credentials.")] = Path(".env"),
    data_dir: DataDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the variables as one JSON object instead.")] = False,
) -> None:
    """Print `export` lines of the credentials the tutorial's code reads (SMARTCAR_CLIENT_ID,
    SMARTCAR_CLIENT_SECRET, SMARTCAR_REDIRECT_URI), and in zero-change mode the CA and proxy
    variables: eval "$(motorpool env --proxy-port 4080)"."""
    from shlex import quote

    from .platform.settings import DEFAULT_REDIRECT_URI

    # The proxy tunnels to a TLS listener: with a proxy port, the CA variables come too.
    proxied = proxy_port is not None or bool(os.environ.get("MOTORPOOL_PROXY_PORT"))
    settings = _serving_settings(proxy_port=proxy_port, tls=True if proxied else (tls or None))
    written = _dotenv(env_file)
    values: dict[str, str] = {}
    for name in ("SMARTCAR_CLIENT_ID", "SMARTCAR_CLIENT_SECRET", "SMARTCAR_REDIRECT_URI"):
        value = written.get(name) or os.environ.get(name)
        if value:
            values[name] = value
    values.setdefault("SMARTCAR_REDIRECT_URI", DEFAULT_REDIRECT_URI)
    if "SMARTCAR_CLIENT_ID" not in values or "SMARTCAR_CLIENT_SECRET" not in values:
        err.print(f"[red]no credentials in {env_file} nor the environment: start motorpool once "
                  "(motorpool serve), its first start writes them[/red]", soft_wrap=True)  # fmt: skip
        raise typer.Exit(1)
    if settings.tls:
        ca, bundle = _local_ca(data_dir)
        values |= {"SSL_CERT_FILE": str(bundle), "REQUESTS_CA_BUNDLE": str(bundle),
                   "CURL_CA_BUNDLE": str(bundle), "NODE_EXTRA_CA_CERTS": str(ca)}  # fmt: skip
    if settings.proxy_port is not None:
        proxy = f"http://{settings.proxy_host}:{settings.proxy_port}"
        # Loopback stays direct: the app's own redirect URI, and motorpool by its address.
        direct = ["localhost", "127.0.0.1", "::1"]
        for entry in (os.environ.get("NO_PROXY") or os.environ.get("no_proxy") or "").split(","):
            if entry.strip() and entry.strip() not in direct:
                direct.append(entry.strip())
        values |= {"HTTPS_PROXY": proxy, "https_proxy": proxy,
                   "NO_PROXY": ",".join(direct), "no_proxy": ",".join(direct)}  # fmt: skip
    if as_json:
        return _print_json(values)
    for name, value in values.items():
        typer.echo(f"export {name}={quote(value)}")


# The webhook commands, in a module of their own (handed the helpers above).
from .cli_webhooks import install as install_webhooks

install_webhooks(app, admin=Admin, application=_application, console=console, table=Table)
# ``vehicles seed``: a large fleet in bulk, in a module of its own.
from .cli_seed import install as install_seed

install_seed(vehicles_cli, application=_application)
# ``failures …``: simulated failures of a vehicle, in a module of its own.
from .cli_failures import install as install_failures

install_failures(app, admin=Admin, console=console)
# --- signing keys ----------------------------------------------------------------------------

keys_cli = typer.Typer(no_args_is_help=True, help="The token signing keys.")
app.add_typer(keys_cli, name="keys")


def _print_key(data: dict[str, Any]) -> None:
    role = "signs new tokens" if data["signing"] else "verifies what it signed"
    console.print(f"{data['kid']}  {data['algorithm']}  {data['createdAt']}  {role}")


@keys_cli.command("list")
def keys_list(url: UrlOption = None, admin_token: TokenOption = None, as_json: JsonFlag = False) -> None:
    """The signing keys in the JWKS, oldest first."""
    keys = Admin(url, admin_token).call("GET", "/admin/signing-keys")
    if as_json:
        return _print_json(keys)
    for key in keys:
        _print_key(key)


@keys_cli.command("rotate")
def keys_rotate(url: UrlOption = None, admin_token: TokenOption = None, as_json: JsonFlag = False) -> None:
    """Sign with a new key from now on; tokens signed before stay valid until they expire."""
    key = Admin(url, admin_token).call("POST", "/admin/signing-keys")
    if as_json:
        return _print_json(key)
    _print_key(key)
@app.command("catalogue")
def catalogue_list(
    make: Annotated[str | None, typer.Option("--make", metavar="MAKE", help="Only this make (TESLA, Tesla).")] = None,
    powertrain: Annotated[str | None, typer.Option("--powertrain", metavar="TYPE", help="BEV, PHEV, HEV or ICE.")] = None,
    url: UrlOption = None,
    admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """The makes and models simulated cars are drawn from, and what each supports."""
    params = {key: value for key, value in {"make": make, "powertrainType": powertrain}.items() if value}
    items = Admin(url, admin_token).call("GET", "/admin/catalogue", params=params)
    if as_json:
        return _print_json(items)
    table = Table("make", "model", "years", "powertrain", "commands", "signals")
    for item in items:
        years = f"{min(item['years'])}–{max(item['years'])}" if item["years"] else ""
        commands = ", ".join(item["commands"])
        table.add_row(item["make"], item["model"], years, item["powertrainType"], commands, str(len(item["signals"])))
    console.print(table)


connections_cli = typer.Typer(no_args_is_help=True, help="Users' connections to an application's vehicles.")
app.add_typer(connections_cli, name="connections")


def _connection_rows(items: list[dict[str, Any]]) -> None:
    table = Table("user", "vehicle", "car", "mode", "permissions", "connected")
    for item in items:
        car = item.get("vehicle") or {}
        table.add_row(item["userId"], item["vehicleId"], f"{car.get('year', '')} {car.get('make', '')} {car.get('model', '')}",
                      item["mode"], " ".join(item["permissions"]), item["connectedAt"])  # fmt: skip
    console.print(table)


@connections_cli.command("create")
def connections_create(
    email: Annotated[str, typer.Argument(metavar="EMAIL", help="The owner who approves (a user per e-mail).")],
    vehicle: Annotated[list[str] | None, typer.Option("--vehicle", metavar="ID",
                                                      help="A vehicle to connect (repeat it); default: all the owner has in that mode.")] = None,
    permission: Annotated[list[str] | None, typer.Option("--permission", metavar="PERMISSION",
                                                         help="A permission granted (repeat it); default: all.")] = None,
    mode: Annotated[str, typer.Option("--mode", metavar="MODE", help="simulated, live or test.")] = "simulated",
    application: ApplicationOption = None,
    url: UrlOption = None,
    admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Connect an owner's vehicles as approving Connect would; prints the user id."""
    body: dict[str, Any] = {"email": email, "mode": mode}
    if vehicle:
        body["vehicleIds"] = vehicle
    if permission:
        body["permissions"] = permission
    data = Admin(url, admin_token).call("POST", f"/admin/applications/{_application(application)}/connections", json=body)
    if as_json:
        return _print_json(data)
    typer.echo(f"user {data['userId']} connected {' '.join(data['vehicleIds']) or 'no vehicle'}")


@connections_cli.command("list")
def connections_list(
    user: Annotated[str | None, typer.Option("--user", metavar="ID", help="Only this user's.")] = None,
    vehicle: Annotated[str | None, typer.Option("--vehicle", metavar="ID", help="Only this vehicle's.")] = None,
    application: ApplicationOption = None,
    url: UrlOption = None,
    admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """The application's connections, newest first."""
    params = {key: value for key, value in {"userId": user, "vehicleId": vehicle}.items() if value}
    items = Admin(url, admin_token).call("GET", f"/admin/applications/{_application(application)}/connections", params=params)
    if as_json:
        return _print_json(items)
    _connection_rows(items)


@connections_cli.command("delete")
def connections_delete(
    user: Annotated[str | None, typer.Option("--user", metavar="ID", help="This user's connections.")] = None,
    vehicle: Annotated[str | None, typer.Option("--vehicle", metavar="ID", help="This vehicle's connections.")] = None,
    application: ApplicationOption = None,
    url: UrlOption = None,
    admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Disconnect a user, a vehicle, or that user from that vehicle."""
    if user is None and vehicle is None:
        err.print("Give --user, --vehicle or both: which connections to remove.")
        raise typer.Exit(2)
    params = {key: value for key, value in {"userId": user, "vehicleId": vehicle}.items() if value}
    items = Admin(url, admin_token).call("DELETE", f"/admin/applications/{_application(application)}/connections", params=params)
    if as_json:
        return _print_json(items)
    typer.echo(f"removed {len(items)} connection{'s' if len(items) != 1 else ''}")


# --- as the application: reading signals and sending commands for a user -----------------------

UserOption = Annotated[str, typer.Option("--user", metavar="ID", help="The user the request is made for (sc-user-id).")]


def _as_application(url: str | None) -> Any:
    """motorpool's SDK as the application: SMARTCAR_CLIENT_ID and SMARTCAR_CLIENT_SECRET from the
    environment or .env, at ``--url``, MOTORPOOL_URL or the default origin."""
    from . import Client

    dotenv = _dotenv()
    values = {name: os.environ.get(name) or dotenv.get(name) for name in ("SMARTCAR_CLIENT_ID", "SMARTCAR_CLIENT_SECRET")}
    if not all(values.values()):
        err.print("No application credentials: set SMARTCAR_CLIENT_ID and SMARTCAR_CLIENT_SECRET (first start writes them to .env).")
        raise typer.Exit(2)
    origin = (url or os.environ.get("MOTORPOOL_URL") or dotenv.get("MOTORPOOL_URL") or "http://127.0.0.1:4000").rstrip("/")
    return Client(values["SMARTCAR_CLIENT_ID"], values["SMARTCAR_CLIENT_SECRET"], base_url=origin, max_retries=0)


def _as_user(url: str | None, user: str, call: Any) -> Any:
    """Run ``call(client)`` for ``user``; an API error is one line on stderr and exit 1."""
    from . import ApiError, TransportError

    with _as_application(url) as client:
        try:
            return call(client.user(user))
        except ApiError as error:
            err.print(f"{error.status_code} {error}", soft_wrap=True, highlight=False, markup=False)
            raise typer.Exit(1) from None
        except TransportError as error:
            err.print(f"cannot reach the platform: {error}", soft_wrap=True, highlight=False, markup=False)
            raise typer.Exit(1) from None


def _print_execution(execution: Any, as_json: bool) -> None:
    if as_json:
        return _print_json(execution.model_dump(mode="json", exclude_none=True))
    typer.echo(f"{execution.command_type or 'command'}: {execution.status} ({execution.id})")


@vehicles_cli.command("lock")
def vehicles_lock(vehicle_id: Annotated[str, typer.Argument(metavar="VEHICLE_ID")], user: UserOption,
                  url: UrlOption = None, as_json: JsonFlag = False) -> None:  # fmt: skip
    """Lock the car, as the application does for a user (Vehicle API command)."""
    _print_execution(_as_user(url, user, lambda c: c.commands.lock(vehicle_id)), as_json)


@vehicles_cli.command("unlock")
def vehicles_unlock(vehicle_id: Annotated[str, typer.Argument(metavar="VEHICLE_ID")], user: UserOption,
                    url: UrlOption = None, as_json: JsonFlag = False) -> None:  # fmt: skip
    """Unlock the car, as the application does for a user (Vehicle API command)."""
    _print_execution(_as_user(url, user, lambda c: c.commands.unlock(vehicle_id)), as_json)


@vehicles_cli.command("charge")
def vehicles_charge(
    vehicle_id: Annotated[str, typer.Argument(metavar="VEHICLE_ID")],
    user: UserOption,
    stop: Annotated[bool, typer.Option("--stop", help="Stop charging instead")] = False,
    url: UrlOption = None,
    as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Start (or stop) charging, as the application does for a user (Vehicle API command)."""
    def call(client: Any) -> Any:
        return client.commands.stop_charge(vehicle_id) if stop else client.commands.start_charge(vehicle_id)

    _print_execution(_as_user(url, user, call), as_json)


@vehicles_cli.command("read")
def vehicles_read(
    vehicle_id: Annotated[str, typer.Argument(metavar="VEHICLE_ID")],
    user: UserOption,
    codes: Annotated[list[str] | None, typer.Argument(metavar="CODE", help="Only these signals (default: every one).")] = None,
    url: UrlOption = None,
    as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Read the car's signals as the application does for a user, with each one's age."""
    listed = _as_user(url, user, lambda c: c.signals.list(vehicle_id))
    signals = [s for s in listed.signals if not codes or s.code in codes]
    if as_json:
        return _print_json([s.model_dump(mode="json", exclude_none=True) for s in signals])
    # The age is the car's: from its last report to the read, both in the application's simulated time.
    table = Table("signal", "value", "unit", "status", "age")
    for signal in signals:
        value = signal.value if signal.value is not None else json.dumps(signal.body) if signal.body else ""
        reported, read = signal.oem_updated_at, signal.retrieved_at
        age = f"{(read - reported).total_seconds():.0f} s" if reported and read else ""
        table.add_row(signal.code, str(value), signal.unit or "", signal.status.value, age)
    console.print(table)


# --- state control: reset, snapshots, scenarios -------------------------------------------------

snapshot_cli = typer.Typer(no_args_is_help=True, help="Named snapshots of a running platform's whole state.")
scenario_cli = typer.Typer(no_args_is_help=True, help="Declarative scenarios (TOML, YAML or JSON).")
app.add_typer(snapshot_cli, name="snapshot")
app.add_typer(scenario_cli, name="scenario")


@snapshot_cli.command("save")
def snapshot_save(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Letters, digits, '.', '_' and '-'.")],
    url: UrlOption = None,
    admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Save the whole state (applications, owners, vehicles, connections, clocks) under NAME;
    the server holds it in memory until it stops."""
    data = Admin(url, admin_token).call("POST", "/admin/snapshots", json={"name": name})
    if as_json:
        return _print_json(data)
    rows = ", ".join(f"{count} {table}" for table, count in data["rows"].items() if count)
    typer.echo(f"saved snapshot {data['name']}: {rows or 'nothing yet'}")


@snapshot_cli.command("restore")
def snapshot_restore(
    name: Annotated[str, typer.Argument(metavar="NAME")],
    url: UrlOption = None,
    admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Put the whole state back to snapshot NAME."""
    data = Admin(url, admin_token).call("POST", f"/admin/snapshots/{name}/restore")
    if as_json:
        return _print_json(data)
    typer.echo(f"restored snapshot {data['name']} (saved {data['takenAt']})")


@snapshot_cli.command("list")
def snapshot_list(url: UrlOption = None, admin_token: TokenOption = None, as_json: JsonFlag = False) -> None:
    """The snapshots the server holds."""
    data = Admin(url, admin_token).call("GET", "/admin/snapshots")
    if as_json:
        return _print_json(data)
    for snapshot in data:
        typer.echo(f"{snapshot['name']}\t{snapshot['takenAt']}")


@snapshot_cli.command("delete")
def snapshot_delete(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The snapshot's name.")],
    url: UrlOption = None, admin_token: TokenOption = None, as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Forget snapshot NAME."""
    Admin(url, admin_token).call("DELETE", f"/admin/snapshots/{name}")
    if as_json:
        return _print_json({"name": name, "deleted": True})
    typer.echo(f"deleted snapshot {name}")


_SCENARIO_TYPES = {".toml": "application/toml", ".yaml": "application/yaml", ".yml": "application/yaml",
                   ".json": "application/json"}  # fmt: skip


@scenario_cli.command("load")
def scenario_load(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A .toml, .yaml, .yml or .json scenario.")],
    url: UrlOption = None,
    admin_token: TokenOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Create what a scenario file describes (applications, owners, fleets, connections, pinned
    signals, the clock) in a running platform; prints the ids it made."""
    media = _SCENARIO_TYPES.get(file.suffix.lower())
    if media is None:
        err.print(f"[red]{file}: a scenario file ends in .toml, .yaml, .yml or .json[/red]")
        raise typer.Exit(2)
    try:
        content = file.read_bytes()
    except OSError as exc:
        err.print(f"[red]cannot read {file}: {exc.strerror}[/red]")
        raise typer.Exit(2) from None
    data = Admin(url, admin_token).call(
        "POST", "/admin/scenario", content=content, headers={"Content-Type": media}
    )
    if as_json:
        return _print_json(data)
    typer.echo(f"loaded {data.get('name') or file.name} into application {data['applicationId']}")
    for name, made in data["applications"].items():
        typer.echo(f"  application {name}: {made['id']} (client id {made['clientId']}, "
                   f"secret {made['clientSecret']}, shown once)")  # fmt: skip
    for label, ids in data["vehicles"].items():
        typer.echo(f"  vehicles {label}: {' '.join(ids)}")
    for email, user_id in data["users"].items():
        typer.echo(f"  user {email}: {user_id}")


@db_cli.command("reset")
def db_reset(
    database_url: DbOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Delete every application, owner, vehicle and connection, and start afresh as a first
    start does: a new development application (new credentials, written to .env), its fleet
    and owners. The instance's keys and admin token stay. A running server sees the change."""
    settings = _settings(database_url=database_url, print_credentials=not as_json)
    if not yes:
        if not os.isatty(0):
            err.print("[red]db reset deletes everything: add --yes to confirm[/red]")
            raise typer.Exit(2)
        typer.confirm(f"Delete everything in {settings.database_url}?", abort=True)
    from .platform.services.runtime import start_platform

    async def run() -> dict[str, str]:
        platform = await start_platform(settings.model_copy(update={"bootstrap": False}))
        try:
            first = await platform.state.reset()
        finally:
            await platform.close()
        return first.env(settings.origin)

    values = asyncio.run(run())
    if as_json:
        _print_json(values)


def _plain_help() -> None:
    """Help as click writes it, on every command: flags without a type (``--tls``, not
    ``--tls <bool>``), values by their metavar, and nothing cut at the terminal's width."""
    from typer.core import TyperArgument

    groups = [app, *(info.typer_instance for info in app.registered_groups if info.typer_instance)]
    for group in groups:
        group.rich_markup_mode = None
    # Typer's plain help writes an argument as ``VEHICLE_ID <str>``; its metavar says it all.
    TyperArgument.display_type_rich = _no_type  # type: ignore[method-assign]


def _no_type(self: Any, ctx: Any) -> str | None:
    return None


def main() -> None:
    _plain_help()
    app()


if __name__ == "__main__":
    main()
