"""Shared fixtures: the real platform app, in-process, on SQLite and (when configured) PostgreSQL.

``platform`` yields a :class:`~tests.support.harness.PlatformHarness`; tests talk to the app over
``httpx.ASGITransport`` with its lifespan running, exactly as a server would run it. Its database
is a copy of a template that was migrated and had its first start once per session (see
``tests.support.databases``).

PostgreSQL, Redis and Chromium tests skip, with their reason, when the server or browser is not
configured; under ``CI=true`` they fail instead (``tests.support.requirements``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from .docs.readme import README, readme_blocks
from .docs.readme import summary as readme_summary
from .support.browser import CHROMIUM, launched_chromium
from .support.databases import PostgresTemplate, PreparedDatabase, SqliteTemplate
from .support.harness import PlatformHarness, running_platform
from .support.requirements import missing, required_env


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[PostgresTemplate]:
    template = PostgresTemplate(required_env("MOTORPOOL_TEST_DATABASE_URL", "PostgreSQL"))
    yield template
    template.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def prepared_database(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: SqliteTemplate
) -> PreparedDatabase:
    """A database of the test's own, on SQLite and on PostgreSQL, past its first start."""
    if request.param == "postgresql":
        postgres: PostgresTemplate = request.getfixturevalue("postgres_template")
        return await postgres.copy()
    return await sqlite_template.copy(tmp_path / "motorpool.db")


@pytest.fixture
async def platform(prepared_database: PreparedDatabase) -> AsyncIterator[PlatformHarness]:
    async with running_platform(prepared_database.url, first=prepared_database.first) as harness:
        yield harness


@pytest.fixture
async def sqlite_platform(
    sqlite_template: SqliteTemplate, tmp_path: Path
) -> AsyncIterator[PlatformHarness]:
    """The platform on SQLite only, for tests whose subject is not the database."""
    database = await sqlite_template.copy(tmp_path / "motorpool.db")
    async with running_platform(database.url, first=database.first) as harness:
        yield harness


@pytest.fixture
def redis_url() -> str:
    """The Redis of the Redis tests (``MOTORPOOL_TEST_REDIS_URL``)."""
    return required_env("MOTORPOOL_TEST_REDIS_URL", "Redis")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, which the browser tests drive (``apt-get install chromium``)."""
    if not CHROMIUM.exists():
        missing(
            f"the browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Browser]:
    """Chromium, launched once for a module of browser tests."""
    with launched_chromium() as launched:
        yield launched


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """After a run that ran the README's blocks (``tests/docs/test_readme_run.py``), how many of
    them ran and why the others were only checked without running."""
    sections = [
        report
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "nodeid", "").startswith("tests/docs/test_readme_run.py::test_the_readme_section_runs")
        and (getattr(report, "when", "") == "call" or getattr(report, "skipped", False))
    ]
    if not sections:
        return
    outcomes = Counter(report.outcome for report in sections)
    terminalreporter.section("README blocks")
    for line in readme_summary(readme_blocks(README.read_text())):
        terminalreporter.write_line(line)
    terminalreporter.write_line(
        "  sections: " + ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
    )
