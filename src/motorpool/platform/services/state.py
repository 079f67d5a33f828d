"""State control: putting the whole platform back to its first start (``POST /admin/reset``)
and named snapshots of its state, saved and restored in one transaction each.

A snapshot is every row of the state tables (applications, owners, vehicles, users, connections,
tokens, executions — see ``store.repo.dump_state``), held in this process's memory for as long as
it runs. The instance's keys are not part of it, so the tokens, secrets and Connect forms issued
before a restore keep their signatures. A restore writes the change counter, so every cache —
here and in other processes — drops what it held."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..errors import NotFound, ValidationFailed
from ..settings import Settings
from ..store import repo
from .admin import AdminService
from .bootstrap import FirstStart, bootstrap_if_empty

#: A snapshot's name: what a file name or a URL path segment can carry unchanged.
SNAPSHOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MAX_SNAPSHOTS = 100


@dataclass(frozen=True)
class SnapshotInfo:
    name: str
    taken_at: datetime
    #: How many rows of each table it holds (applications, vehicles, …).
    counts: dict[str, int]


@dataclass
class StateControl:
    sessions: async_sessionmaker[AsyncSession]
    admin: AdminService
    settings: Settings
    #: Called after the state was replaced, to drop what this process caches beyond the
    #: change counter's reach (client records, signal renderings).
    forget: Callable[[], None]
    _snapshots: dict[str, tuple[SnapshotInfo, repo.StateDump]] = field(default_factory=dict)

    async def reset(self) -> FirstStart:
        """Delete every application, owner, vehicle, user and connection, then do what first
        start does: a development application, its fleet and owners, with new credentials
        (written to the env file, as at first start)."""
        async with self.sessions() as session, session.begin():
            await repo.wipe_state(session)
            await repo.bump_generation(session)
        self.forget()
        first = await bootstrap_if_empty(self.sessions, self.admin, self.settings, None)
        assert first is not None, "the state was emptied above"
        return first

    @staticmethod
    def _checked(name: str) -> str:
        if not SNAPSHOT_NAME.fullmatch(name):  # match() would let a trailing newline through
            raise ValidationFailed(
                f"'{name}' is not a snapshot name: use letters, digits, '.', '_' and '-' "
                "(at most 100, starting with a letter or digit).",
                source={"pointer": "/name"},
            )
        return name

    async def save(self, name: str) -> SnapshotInfo:
        """Save the whole state under ``name`` (replacing a snapshot of that name)."""
        self._checked(name)
        if name not in self._snapshots and len(self._snapshots) >= MAX_SNAPSHOTS:
            raise ValidationFailed(
                f"At most {MAX_SNAPSHOTS} snapshots are kept; delete one first.",
                source={"pointer": "/name"},
            )
        async with self.sessions() as session, session.begin():
            dump = await repo.dump_state(session)
        info = SnapshotInfo(name, datetime.now(UTC), {k: len(v) for k, v in dump.items()})
        self._snapshots[name] = (info, dump)
        return info

    def _get(self, name: str) -> tuple[SnapshotInfo, repo.StateDump]:
        try:
            return self._snapshots[name]
        except KeyError:
            raise NotFound(f"No snapshot named '{name}'.", code="PATH") from None

    async def restore(self, name: str) -> SnapshotInfo:
        """Put the state back to snapshot ``name``, in one transaction."""
        info, dump = self._get(name)
        async with self.sessions() as session, session.begin():
            await repo.load_state(session, dump)
        self.forget()
        return info

    def delete(self, name: str) -> None:
        self._get(name)
        del self._snapshots[name]

    def list(self) -> list[SnapshotInfo]:
        return sorted((info for info, _ in self._snapshots.values()), key=lambda i: i.taken_at)
