"""``motorpool up`` as a user runs it: a real process on a free port pair in its own directory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def clean_environment() -> dict[str, str]:
    """The caller's environment without any setting that would steer motorpool or the demo."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MOTORPOOL_", "SMARTCAR_")) and key not in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
    } | {"NO_PROXY": "127.0.0.1,localhost", "PYTHONUNBUFFERED": "1"}


@dataclass
class Up:
    """A running ``motorpool up``."""

    home: Path
    platform_port: int
    demo_port: int
    process: subprocess.Popen[bytes]
    _log: IO[bytes]

    @property
    def platform(self) -> str:
        return f"http://127.0.0.1:{self.platform_port}"

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
        response = httpx.get(self.platform + path, headers=headers, timeout=10)
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


def start_up(home: Path, platform_port: int | None = None, demo_port: int | None = None) -> Up:
    """Start ``motorpool up`` in ``home`` and wait until it says it is up and the demo answers."""
    platform_port = platform_port or free_port()
    demo_port = demo_port or free_port()
    log = (home / f"up-{demo_port}.log").open("wb")
    command = [
        sys.executable, "-m", "motorpool.cli", "up",
        "--platform-port", str(platform_port), "--demo-port", str(demo_port),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=home, env=clean_environment(), stdout=log, stderr=subprocess.STDOUT
    )
    up = Up(home, platform_port, demo_port, process, log)
    deadline = time.monotonic() + 40
    while True:
        if process.poll() is not None:
            raise AssertionError(f"motorpool up exited with {process.returncode}:\n{up.output}")
        if "motorpool is up" in up.output:
            try:
                if httpx.get(f"{up.demo}/", timeout=1).status_code == 200:
                    return up
            except httpx.TransportError:
                pass
        if time.monotonic() > deadline:
            up.kill()
            raise AssertionError(f"motorpool up did not answer:\n{up.output}")
        time.sleep(0.1)
