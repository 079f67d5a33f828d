"""The layers of docs/architecture.md hold: the import contracts in pyproject.toml are kept by the
code, and broken by a copy of the code that crosses a layer on purpose."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import motorpool

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(motorpool.__file__).resolve().parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(package_parent: Path) -> subprocess.CompletedProcess[str]:
    """Check the contracts against the ``motorpool`` package found in ``package_parent``."""
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=package_parent, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def test_the_code_keeps_every_import_contract() -> None:
    result = lint_imports(PACKAGE.parent)
    assert result.returncode == 0, result.stdout + result.stderr


#: (module to edit, the import added to it, the contract that must break)
CROSSINGS = [
    ("platform/api/iam.py", "from ..store import repo", "Routes reach the store"),
    ("platform/api/signals.py", "from ..sim import vehicle", "Routes reach the store"),
    ("platform/store/repo.py", "from ..services import oauth", "Platform layers"),
    ("platform/services/params.py", "from ..api import common", "Platform layers"),
    ("platform/sim/clock.py", "from ..errors import ApiError", "The simulation depends on nothing"),
    ("platform/sim/physics.py", "from ..store import models", "The simulation depends on nothing"),
    ("sdk/_errors.py", "from ..platform import errors", "The SDK stands alone"),
    ("platform/errors.py", "from ..sdk import _errors", "The platform never imports"),
    ("demo/sessions.py", "from ..platform import settings", "The demo is built on the SDK alone"),
    ("platform/services/params.py", "from . import access", "No import cycles"),
    ("sdk/_client.py", "from .. import testing", "never import the test tools"),
    ("demo/pages.py", "from .. import testing", "never import the test tools"),
]


@pytest.mark.parametrize(("module", "statement", "contract"), CROSSINGS, ids=[c[0] + ": " + c[1] for c in CROSSINGS])
def test_crossing_a_layer_breaks_a_contract(module: str, statement: str, contract: str, tmp_path: Path) -> None:
    copy = tmp_path / "motorpool"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "templates", "static"))
    target = copy / module
    target.write_text(target.read_text() + f"\n{statement}  # crossing a layer on purpose\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken and Path(module).stem in broken, result.stdout
