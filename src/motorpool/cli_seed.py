"""``motorpool vehicles seed``: a large simulated fleet written straight to the platform's
database in bulk (``COPY`` on PostgreSQL), with a progress bar. It talks to the database, not
to the admin API: a million vehicles through HTTP would be a million JSON objects for nothing."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

CountOption = Annotated[
    int, typer.Option("--count", "-n", min=1, metavar="COUNT", help="Vehicles to add.")
]
MixOption = Annotated[
    str | None,
    typer.Option(
        "--mix",
        metavar="MIX",
        help="Powertrain weights, e.g. bev=0.4,phev=0.1,hev=0.1,ice=0.4 (default: the catalogue's).",
    ),
]
SeedOption = Annotated[
    int | None,
    typer.Option(
        "--seed", metavar="SEED", help="Draw the same fleet again (vehicle ids come from it)."
    ),
]
ConnectOption = Annotated[
    str | None,
    typer.Option(
        "--connect", metavar="EMAIL", help="Also connect this simulated owner to every new vehicle."
    ),
]
ApplicationOption = Annotated[
    str | None,
    typer.Option("--application", metavar="ID", help="Application id (MOTORPOOL_APPLICATION_ID)."),
]
JobsOption = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        min=1,
        max=64,
        metavar="N",
        help="Worker processes drawing vehicles while this one writes (default: one per core).",
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document (full ids) instead of text.")
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url", metavar="URL", help="The platform's database (MOTORPOOL_DATABASE_URL)."
    ),
]


def install(vehicles: typer.Typer, *, application: Callable[[str | None], str]) -> None:
    """Add ``seed`` to the CLI's ``vehicles`` commands, with the CLI's helpers."""

    @vehicles.command("seed")
    def seed(
        count: CountOption,
        application_id: ApplicationOption = None,
        mix: MixOption = None,
        seed: SeedOption = None,
        connect: ConnectOption = None,
        database_url: DatabaseOption = None,
        jobs: JobsOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Add COUNT vehicles to an application's simulated fleet in bulk, straight into the
        database (run it where `motorpool serve` runs, or give --database-url)."""
        import asyncio

        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        from .platform.errors import ApiError
        from .platform.services.seeding import FleetSeeder, Seeded, parse_mix
        from .platform.settings import Settings
        from .platform.store import db

        err = Console(stderr=True)
        try:
            weights = parse_mix(mix)
        except ApiError as error:
            err.print(f"[red]{error.detail}[/red]")
            raise typer.Exit(2) from None
        # A small fleet is drawn faster here than worker processes take to start.
        workers = 1 if count <= 20_000 else jobs or os.cpu_count() or 1
        values: dict[str, Any] = {"bootstrap": False, "env_file": None, "print_credentials": False}
        if database_url:
            values["database_url"] = database_url
        settings = Settings(**values)

        async def first_start_if_empty() -> str | None:
            """On a database no platform has started on yet, do what `motorpool serve` would
            do first (migrations, instance secrets, the development application, `.env`);
            the new application's id, or None when the database had applications already."""
            from .platform.services.runtime import start_platform
            from .platform.services.seeding import database_is_empty

            engine = db.create_engine(settings.database_url)
            try:
                await db.upgrade(engine)
                if not await database_is_empty(db.session_factory(engine)):
                    return None
            finally:
                await engine.dispose()
            platform = await start_platform(
                settings.model_copy(
                    update={"bootstrap": True, "env_file": Path(".env"), "print_credentials": True}
                )
            )
            try:
                first = platform.first_start
            finally:
                await platform.close()
            return first.application_id if first is not None else None

        made_application = asyncio.run(first_start_if_empty())
        if made_application is not None:
            err.print(
                "The database was empty: made the first start (migrations, a development "
                f"application {made_application}, .env).",
                highlight=False,
            )
        target = application_id or made_application or application(None)

        async def run(advance: Callable[[int], None], stage: Callable[[str], None]) -> Seeded:
            from .platform.services.clocks import ClockBook

            engine = db.create_engine(settings.database_url)
            try:
                await db.upgrade(engine)
                sessions = db.session_factory(engine)
                seeder = FleetSeeder(sessions, ClockBook(sessions))
                done = await seeder.seed(
                    target,
                    count,
                    mix=weights,
                    seed=seed,
                    connect_email=connect,
                    jobs=workers,
                    progress=advance,
                    stage=stage,
                )
                return done
            finally:
                await engine.dispose()

        started = time.perf_counter()
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task("seeding", total=count)
            try:
                done = asyncio.run(
                    run(
                        lambda size: bar.advance(task, size),
                        lambda doing: bar.update(task, description=doing),
                    )
                )
            except ApiError as error:
                bar.stop()
                err.print(f"[red]{error.detail}[/red]")
                raise typer.Exit(1) from None
        took = time.perf_counter() - started
        made, user_id = done.count, done.user_id
        phases = {name: round(seconds, 3) for name, seconds in done.phases.items()}
        err.print(
            "time spent: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items()),
            highlight=False,
        )
        err.print(
            f"{made:,} vehicles added to {target} in {took:.1f} s ({made / took:,.0f} a second)"
        )
        if as_json:
            summary = {
                "applicationId": target,
                "count": made,
                "userId": user_id,
                "seconds": round(took, 3),
                "oneTransaction": done.in_one_transaction,
                "phases": phases,
            }
            typer.echo(json.dumps(summary))
        elif user_id is not None:
            err.print(f"connected to user {user_id} ({connect})", highlight=False)
