"""``motorpool up`` as a user runs it: a real process on a free port pair in its own directory."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from .processes import answers, free_port, read_env_file, trusting, wait_until


def clean_environment() -> dict[str, str]:
    """The caller's environment without any setting that would steer motorpool or the demo."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MOTORPOOL_", "SMARTCAR_"))
        and key not in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
    } | {"NO_PROXY": "127.0.0.1,localhost", "PYTHONUNBUFFERED": "1"}


@dataclass
class Up:
    """A running ``motorpool up``."""

    home: Path
    platform_port: int
    demo_port: int
    process: subprocess.Popen[bytes]
    _log: IO[bytes]
    #: ``https`` when started with ``--tls``.
    scheme: str = "http"

    @property
    def platform(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.platform_port}"

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """How a client checks the platform: trusting the local CA under ``--tls``."""
        return trusting(self.home / ".motorpool" / "tls" / "ca.pem") if self.scheme == "https" else True

    @property
    def demo(self) -> str:
        return f"http://localhost:{self.demo_port}"

    @property
    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return (self.home / f"up-{self.demo_port}.log").read_text()

    @property
    def env(self) -> dict[str, str]:
        return read_env_file(self.home / ".env")

    def admin(self, path: str) -> object:
        headers = {"Authorization": f"Bearer {self.env['MOTORPOOL_ADMIN_TOKEN']}"}
        response = httpx.get(self.platform + path, headers=headers, timeout=10, verify=self.verify)
        response.raise_for_status()
        return response.json()["data"]

    def stop(self, signum: int = signal.SIGINT, timeout: float = 20) -> int:
        """Send ``signum`` (Ctrl-C by default) and answer the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout)
        finally:
            self._log.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._log.close()


def start_up(
    home: Path, platform_port: int | None = None, demo_port: int | None = None, args: Sequence[str] = ()
) -> Up:
    """Start ``motorpool up`` in ``home`` (with ``args``) and wait until it says it is up and the
    demo answers."""
    platform_port = platform_port or free_port()
    demo_port = demo_port or free_port()
    log = (home / f"up-{demo_port}.log").open("wb")
    command = [
        sys.executable, "-m", "motorpool.cli", "up",
        "--platform-port", str(platform_port), "--demo-port", str(demo_port), *args,
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=home, env=clean_environment(), stdout=log, stderr=subprocess.STDOUT
    )
    up = Up(home, platform_port, demo_port, process, log, "https" if "--tls" in args else "http")
    try:
        wait_until(
            lambda: "motorpool is up" in up.output and answers(f"{up.demo}/"),
            process, home / f"up-{demo_port}.log", "motorpool up", timeout=40,
        )  # fmt: skip
    except AssertionError:
        up.kill()
        raise
    return up
