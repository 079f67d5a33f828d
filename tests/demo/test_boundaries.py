"""The demo is built on the SDK alone: importing it loads nothing of the platform."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import motorpool.demo.app
loaded = sorted(name for name in sys.modules if name.startswith("motorpool.platform"))
print(",".join(loaded))
"""


def test_the_demo_does_not_import_the_platform() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"the demo loaded {result.stdout.strip()}"
