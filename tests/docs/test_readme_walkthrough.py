"""The README's walk-through (fleet → connect → read → command → clock), run as printed by bash
against a real ``motorpool serve`` in a folder of its own, so the README cannot drift from the
CLI; and its quick start, kept to ``make up`` and ``make test``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..support.processes import Served, serve
from ..support.requirements import missing
from ..support.up import clean_environment

README = Path(__file__).resolve().parents[2] / "README.md"
MARKER = "<!-- walk-through:"


def _block_after(text: str, marker: str) -> str:
    """The first fenced code block after ``marker``."""
    found = re.search(re.escape(marker) + r".*?\n```\w*\n(.*?)\n```", text, re.DOTALL)
    assert found, f"no code block after {marker!r} in the README"
    return found.group(1)


def _section(text: str, title: str) -> str:
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", text, re.DOTALL | re.MULTILINE)
    assert found, f"no section {title!r} in the README"
    return found.group(1)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    running = serve(tmp_path_factory.mktemp("walkthrough"))
    try:
        yield running
    finally:
        running.stop()


def test_the_walkthrough_runs_as_printed(served: Served) -> None:
    if shutil.which("jq") is None:
        missing("the README's walk-through picks ids out of --json with jq")
    script = _block_after(README.read_text(), MARKER)
    # The command the README calls, from this interpreter's environment; the server's origin, as
    # `make up` would have it on its default port.
    env = clean_environment() | {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "MOTORPOOL_URL": served.origin,
        "COLUMNS": "200",
    }
    ran = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script + '\nmotorpool vehicles show "$CAR" --json > shown.json\n'],
        cwd=served.workdir, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, f"stdout:\n{ran.stdout}\nstderr:\n{ran.stderr}"
    assert "charge-start: SUCCESS" in ran.stdout
    # Two hours of charging later the car is charged or still charging, never where it started.
    shown = json.loads((served.workdir / "shown.json").read_text())
    signals = {s["code"]: s for s in shown["signals"]}
    assert shown["make"] == "TESLA" and shown["state"]["plugged"] is True
    assert signals["charge-detailedchargingstatus"]["body"]["value"] in {"CHARGING", "FULLY_CHARGED"}
    assert shown["id"] in ran.stdout  # `vehicles show` printed the car, whole id and all


def test_the_quick_start_is_make_up_and_make_test() -> None:
    quick = _section(README.read_text(), "Quick start")
    block = re.search(r"```sh\n(.*?)\n```", quick, re.DOTALL)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["make up", "make test"]


def test_the_contents_link_to_sections_that_exist() -> None:
    text = README.read_text()
    contents = _section(text, "Contents")
    titles = re.findall(r"^## (.+)$", text, re.MULTILINE)

    def slug(title: str) -> str:
        return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")

    anchors = {slug(title) for title in titles}
    linked = re.findall(r"\]\(#([^)]+)\)", contents)
    assert len(linked) >= 20
    assert set(linked) <= anchors, set(linked) - anchors
    assert titles.index("Quick start") < titles.index("Fleet → connect → read → command → clock") < titles.index(
        "How the pieces fit"
    )
