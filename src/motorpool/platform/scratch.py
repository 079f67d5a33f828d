"""A private temporary folder for a platform that keeps nothing (``motorpool serve --memory``,
``motorpool.testing``): in RAM (``/dev/shm``) where the system has one, so its SQLite database
never reaches a disk; removed when the platform stops."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

SHM = Path("/dev/shm")


def scratch_dir() -> Path:
    parent = SHM if SHM.is_dir() and os.access(SHM, os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix="motorpool-", dir=parent))


def scratch_database_url(folder: Path) -> str:
    return f"sqlite+aiosqlite:///{folder / 'motorpool.db'}"
