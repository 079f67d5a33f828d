"""A network of a test's own: a new user, network and mount namespace (``unshare``) with its own
loopback — ports 443 and 8000 are free in it whatever the machine runs — and its own
``/etc/hosts``, a copy bind-mounted over the machine's, so that a test can map host names the way
a user would (``motorpool hosts --apply``) without changing the machine.

No root is needed: an unprivileged user namespace is enough. On a machine that allows none, the
tests that need one are missing (skipped with the reason, or failed under ``CI=true``)."""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from .requirements import missing

UNSHARE = ("unshare", "--user", "--map-root-user", "--net", "--mount")
#: Inside: bring the loopback up, put the copy of the hosts file over the machine's (private to
#: this mount namespace), then run the command.
_SETUP = 'ip link set lo up && cp /etc/hosts "$1" && mount --bind "$1" /etc/hosts && shift && exec "$@"'


@functools.cache
def unavailable() -> str | None:
    """Why a private network cannot be made here, or None when it can."""
    for program in ("unshare", "ip"):
        if shutil.which(program) is None:
            return f"{program} is missing (apt-get install util-linux iproute2)"
    probe = subprocess.run(
        [*UNSHARE, "sh", "-c", "ip link set lo up"], capture_output=True, text=True, timeout=30, check=False
    )
    if probe.returncode != 0:
        return f"this machine allows no user namespace: {probe.stderr.strip()}"
    return None


def require_private_network() -> None:
    reason = unavailable()
    if reason is not None:
        missing(f"the zero-change tests run in a private network namespace, but {reason}")


def run_private(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], hosts_copy: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in a private network whose ``/etc/hosts`` is ``hosts_copy`` (a copy of the
    machine's, made here); the machine's own file is never written."""
    return subprocess.run(
        [*UNSHARE, "sh", "-c", _SETUP, "sh", str(hosts_copy), *argv],
        cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
