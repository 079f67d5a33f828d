"""``motorpool serve --workers N``: N server processes on one port, sharing PostgreSQL (and
Redis, when configured). The first start (migrations, the development application, ``.env``)
runs once here, before the workers start, so that they never race to make it; each worker then
builds the platform from the same ``MOTORPOOL_*`` settings. SIGTERM (or Ctrl-C) stops them
gracefully: requests in flight finish and each worker's shutdown runs before it exits."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import typer

#: Seconds a stopping worker lets requests in flight finish.
GRACEFUL_SECONDS = 30


def refusal(settings: Any) -> str | None:
    """Why these settings cannot run several workers, or None."""
    if settings.database_url.startswith("sqlite"):
        return (
            f"{settings.workers} workers need PostgreSQL: SQLite serves one process. Give "
            "--database-url postgresql://USER:PASSWORD@HOST:5432/motorpool (or "
            "MOTORPOOL_DATABASE_URL), or run one worker."
        )
    if settings.proxy_port is not None:
        return "the CONNECT proxy runs with one worker: leave out --proxy-port, or run one worker"
    return None


async def _first_start(settings: Any) -> Any:
    """Migrate and, on an empty database, make the development application; what a first start
    made (or None)."""
    from .platform.services.runtime import start_platform

    platform = await start_platform(settings)
    await platform.close()
    return platform.first_start


def _environment(settings: Any) -> dict[str, str]:
    """The settings as the ``MOTORPOOL_*`` variables each worker reads; the first start is done."""
    values: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is not None:
            values[f"MOTORPOOL_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    values["MOTORPOOL_BOOTSTRAP"] = "false"
    values["MOTORPOOL_PRINT_CREDENTIALS"] = "false"
    return values


def serve_workers(
    settings: Any, log_level: str, tls_options: dict[str, Any], announce: Callable[[Any], None] | None = None
) -> None:
    """Run ``settings.workers`` processes on ``settings.port`` until SIGTERM or Ctrl-C;
    ``announce(first_start)`` is told once the first start is done, before the workers start."""
    import uvicorn

    problem = refusal(settings)
    if problem is not None:
        typer.secho(problem, fg="red", err=True)
        raise typer.Exit(2)
    first = asyncio.run(_first_start(settings))
    if announce is not None:
        announce(first)
    os.environ.update(_environment(settings))
    typer.echo(f"{settings.workers} workers on one port", err=True)
    uvicorn.run(
        "motorpool.platform.app:create_app",
        factory=True,
        workers=settings.workers,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        ws="none",
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        **tls_options,
    )
