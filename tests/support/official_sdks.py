"""Smartcar's own SDKs as programs run against the platform: which ones, how each is pointed at
an origin (only by the variables its documentation names), and the runner of the drivers in
``tests/official`` (their line protocol is described in ``tests/official/python/driver.py``).

Each call a driver reports comes with the requests the platform answered while it ran, so a
failure names the route: ``GET /v2.0/vehicles/…/odometer → 404``."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .requirements import missing
from .socket_platform import Answered, SocketPlatform
from .up import clean_environment

OFFICIAL = Path(__file__).resolve().parent.parent / "official"
NODE_PACKAGE = OFFICIAL / "node"

#: A checkpoint's handler: given the driver's line, answers what the driver reads back.
Checkpoint = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class DriverFailed(Exception):
    """The driver itself broke (not one of its calls): it exited, hung or spoke nonsense.
    Deliberately not an ``AssertionError``, which the expected failures of calls are."""


@dataclass(frozen=True)
class OfficialSdk:
    """One of Smartcar's SDKs: its name in test ids, the release it must be, the program that
    drives it, and the variables that point it at an origin."""

    name: str
    version: str
    argv: tuple[str, ...]
    language: str

    def environment(self, origin: str) -> dict[str, str]:
        """The origin variables this SDK reads, all naming ``origin``."""
        if self.language == "python":
            # smartcar 6.19.1 (config.py): SMARTCAR_AUTH_ORIGIN is the whole token URL.
            return {
                "SMARTCAR_API_ORIGIN": origin,
                "SMARTCAR_AUTH_ORIGIN": f"{origin}/oauth/token",
                "SMARTCAR_CONNECT_ORIGIN": origin,
                "SMARTCAR_MANAGEMENT_API_ORIGIN": origin,
                "SMARTCAR_VEHICLE_API_V3_ORIGIN": origin,
            }
        # smartcar 9.x and 10.x (lib/util.js, lib/auth-client.js, index.js): the Connect URL is
        # built on SMARTCAR_API_ORIGIN; /oauth/token is appended to SMARTCAR_AUTH_ORIGIN.
        return {
            "SMARTCAR_API_ORIGIN": origin,
            "SMARTCAR_AUTH_ORIGIN": origin,
            "SMARTCAR_MANAGEMENT_API_ORIGIN": origin,
            "SMARTCAR_API_V3_ORIGIN": origin,
        }

    def call_name(self, name: str) -> str:
        """The Python SDK's name of a call, in this SDK's spelling (the Node SDKs camel-case
        the same names)."""
        if self.language == "python":
            return name
        first, *rest = name.split("_")
        return first + "".join(part.title() for part in rest)

    def require(self) -> None:
        """Skip (fail under CI) when the SDK cannot run here."""
        if self.language != "node":
            return
        if shutil.which("node") is None:
            missing("the Node SDK tests need node (apt-get install nodejs npm)")
        package = NODE_PACKAGE / "node_modules" / self.argv[-1] / "package.json"
        if not package.exists():
            missing(
                f"the Node SDK tests need {self.argv[-1]} installed: make official-sdks "
                "(npm ci in tests/official/node)"
            )


PYTHON = OfficialSdk("python", "6.19.1", (sys.executable, str(OFFICIAL / "python" / "driver.py")), "python")
NODE_9 = OfficialSdk("node9", "9.15.0", ("node", str(NODE_PACKAGE / "driver.js"), "smartcar9"), "node")
NODE_10 = OfficialSdk("node10", "10.4.0", ("node", str(NODE_PACKAGE / "driver.js"), "smartcar10"), "node")
SDKS = {sdk.name: sdk for sdk in (PYTHON, NODE_9, NODE_10)}


@dataclass
class Call:
    """One SDK call as the driver reported it, with the requests answered meanwhile."""

    name: str
    raised: bool
    value: Any
    error: dict[str, Any] | None
    answered: list[Answered]
    offered: bool = True

    def describe(self) -> str:
        requests = "; ".join(str(a) for a in self.answered) or "no request"
        if not self.raised:
            return f"{self.name} returned {json.dumps(self.value)[:600]} ({requests})"
        error = self.error or {}
        shown = {k: error.get(k) for k in ("class", "type", "code", "status_code", "statusCode", "message")}
        return f"{self.name} raised {json.dumps({k: v for k, v in shown.items() if v is not None})} ({requests})"


@dataclass
class DriverRun:
    """What a driver reported, call by call."""

    sdk: OfficialSdk
    calls: dict[str, Call] = field(default_factory=dict)
    stderr: str = ""

    def call(self, name: str) -> Call:
        """The call the Python SDK names ``name`` (``get_charge_limit``), under the name this SDK
        gives it (``getChargeLimit`` in Node)."""
        name = self.sdk.call_name(name)
        if name not in self.calls:
            raise DriverFailed(f"{self.sdk.name}: the driver never reported {name}:\n{self.stderr}")
        return self.calls[name]

    def returned(self, name: str) -> Any:
        """What call ``name`` returned; an ``AssertionError`` naming the error and the routes
        when it raised."""
        call = self.call(name)
        assert not call.raised, f"{self.sdk.name}: {call.describe()}"
        return call.value


async def run_driver(
    sdk: OfficialSdk,
    platform: SocketPlatform,
    extra_env: Mapping[str, str],
    checkpoints: Mapping[str, Checkpoint],
    args: tuple[str, ...] = (),
    timeout: float = 120,
) -> DriverRun:
    """Run ``sdk``'s driver against ``platform``: its environment is the caller's without any
    motorpool or Smartcar setting, plus the application's credentials as first start wrote them
    to ``.env``, the SDK's origin variables and ``extra_env``."""
    written = platform.env()
    credentials = {k: written[k] for k in ("SMARTCAR_CLIENT_ID", "SMARTCAR_CLIENT_SECRET", "SMARTCAR_REDIRECT_URI")}
    env = clean_environment() | credentials | sdk.environment(platform.origin) | dict(extra_env)
    process = await asyncio.create_subprocess_exec(
        *sdk.argv, *args, cwd=OFFICIAL, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdin and process.stdout and process.stderr
    errors = asyncio.create_task(process.stderr.read())
    run = DriverRun(sdk)
    mark = platform.recorder.mark()
    try:
        async with asyncio.timeout(timeout):
            while line := await process.stdout.readline():
                try:
                    said: dict[str, Any] = json.loads(line)
                except ValueError:
                    raise DriverFailed(f"{sdk.name}: not a protocol line: {line!r}") from None
                if "checkpoint" in said:
                    try:
                        answer = await checkpoints[said["checkpoint"]](said)
                    except Exception as broken:
                        raise DriverFailed(
                            f"{sdk.name}: the test's part of checkpoint {said['checkpoint']} broke: {broken!r}"
                        ) from broken
                else:
                    run.calls[said["call"]] = Call(
                        said["call"], bool(said.get("raised")), said.get("value"), said.get("error"),
                        platform.recorder.since(mark), offered=said.get("offered", True),
                    )  # fmt: skip
                    answer = {}
                mark = platform.recorder.mark()
                process.stdin.write(json.dumps(answer).encode() + b"\n")
                await process.stdin.drain()
            await process.wait()
    except TimeoutError:
        raise DriverFailed(f"{sdk.name}: the driver did not finish in {timeout} s") from None
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        run.stderr = (await errors).decode(errors="replace")
    if process.returncode != 0:
        raise DriverFailed(f"{sdk.name}: the driver exited with {process.returncode}:\n{run.stderr}")
    return run
