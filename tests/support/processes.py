"""Real processes on real sockets: free ports, the env file first start writes, waiting for a
server to answer, and ``motorpool serve`` with its admin CLI as a user runs them."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def read_env_file(path: Path) -> dict[str, str]:
    """The ``KEY=value`` lines of a dotenv file."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def answers(url: str, verify: ssl.SSLContext | bool = True) -> bool:
    """Whether a GET of ``url`` answers 200 (within a second)."""
    return httpx.get(url, timeout=1, verify=verify).status_code == 200


def trusting(ca: Path) -> ssl.SSLContext:
    """A client context that trusts the local CA at ``ca`` (and nothing else)."""
    return ssl.create_default_context(cafile=str(ca))


def wait_until(
    ready: Callable[[], bool],
    process: subprocess.Popen[bytes],
    log: Path,
    what: str,
    timeout: float = 30,
) -> None:
    """Poll ``ready`` until it holds; fail with the process's output (``log``) if the process
    exits first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready():
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not answer in {timeout} s:\n{log.read_text()}")
        time.sleep(0.02)


def stop(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Terminate ``process`` and wait for it; kill it if it does not go."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


@dataclass
class Served:
    """A running ``motorpool serve`` in ``workdir``, and its admin CLI."""

    origin: str
    workdir: Path
    output: Path
    startup: float
    process: subprocess.Popen[bytes]

    def env(self) -> dict[str, str]:
        """What first start wrote to the ``.env`` of ``workdir``."""
        return read_env_file(self.workdir / ".env")

    @property
    def ca(self) -> Path:
        """The local CA of TLS mode, in the data folder of ``workdir``."""
        return self.workdir / ".motorpool" / "tls" / "ca.pem"

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """How a client checks this server: trusting the local CA when it serves HTTPS."""
        return trusting(self.ca) if self.origin.startswith("https://") else True

    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.env()['MOTORPOOL_ADMIN_TOKEN']}"}

    def grant(
        self, client_id: str | None = None, client_secret: str | None = None
    ) -> httpx.Response:
        """A client-credentials token request (by default for the development application)."""
        env = self.env()
        return httpx.post(self.origin + "/oauth2/token", verify=self.verify, data={
            "grant_type": "client_credentials",
            "client_id": client_id or env["SMARTCAR_CLIENT_ID"],
            "client_secret": client_secret or env["SMARTCAR_CLIENT_SECRET"],
        })  # fmt: skip

    def cli(
        self, *args: str, stdin: str | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``motorpool ARGS`` in ``cwd`` (``workdir`` by default), told this server's URL; the
        admin token comes from the ``.env`` there, as it would for a user."""
        env = {**os.environ, "MOTORPOOL_URL": self.origin, "COLUMNS": "250"}
        env.pop("MOTORPOOL_ADMIN_TOKEN", None)
        return subprocess.run(
            [sys.executable, "-m", "motorpool.cli", *args],
            cwd=cwd or self.workdir, env=env, input=stdin,
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    def stop(self) -> None:
        stop(self.process)


def serve(
    workdir: Path,
    port: int | None = None,
    *,
    from_environment: bool = False,
    args: Sequence[str] = (),
    environment: Mapping[str, str] | None = None,
) -> Served:
    """Start ``motorpool serve`` in ``workdir`` and wait until it answers: told its port and
    database by options, or (with ``from_environment``) its port by ``MOTORPOOL_PORT`` and its
    database left to the default; ``args`` and ``environment`` add options and variables (HTTPS
    when they ask for TLS)."""
    port = port or free_port()
    output = workdir / f"serve-{time.monotonic_ns()}.log"
    started = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTORPOOL_")} | dict(environment or {})
    argv = [sys.executable, "-m", "motorpool.cli", "serve", *args]
    if from_environment:
        env["MOTORPOOL_PORT"] = str(port)
    else:
        argv += ["--port", str(port), "--database-url", f"sqlite:///{workdir / 'motorpool.db'}"]
    with output.open("wb") as log:
        process = subprocess.Popen(argv, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=env)
    tls = "--tls" in args or "--tls-cert" in args or env.get("MOTORPOOL_TLS") == "1"
    served = Served(f"{'https' if tls else 'http'}://127.0.0.1:{port}", workdir, output, 0.0, process)
    wait_until(
        lambda: served.ca.exists() if tls and "--tls-cert" not in args else True, process, output,
        "motorpool serve's CA",
    )  # fmt: skip
    verify = served.verify if "--tls-cert" not in args else False
    wait_until(
        lambda: answers(served.origin + "/.well-known/jwks.json", verify), process, output,
        "motorpool serve",
    )  # fmt: skip
    served.startup = time.perf_counter() - started
    return served
