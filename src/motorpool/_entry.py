"""The ``motorpool`` console script: the CLI, or how to install it when only the SDK is.

``pip install motorpool`` brings the SDK alone; the CLI runs the platform and needs
``pip install 'motorpool[platform]'``. This module imports nothing of either until it runs, so
a missing extra becomes one line of advice instead of a traceback.
"""

from __future__ import annotations

import sys

#: The top-level packages of the ``platform`` extra the CLI can fail to find.
PLATFORM_PACKAGES = frozenset(
    {
        "alembic", "aiosqlite", "argon2", "asyncpg", "cachetools", "cryptography", "fastapi",
        "itsdangerous", "jinja2", "jwt", "multipart", "pydantic_settings", "redis", "rich",
        "sqlalchemy", "starlette", "typer", "uvicorn",
    }
)

ADVICE = (
    "motorpool: the command line runs the platform, which is not installed ({missing} is "
    "missing).\nInstall it with: pip install 'motorpool[platform]'"
)


def main() -> None:
    """Run the CLI, or explain which extra to install."""
    try:
        from .cli import main as cli_main

        cli_main()
    except ModuleNotFoundError as error:
        missing = (error.name or "").partition(".")[0]
        if missing not in PLATFORM_PACKAGES:
            raise
        sys.exit(ADVICE.format(missing=missing))
