"""A real motorpool platform for an application's own tests: uvicorn on a free loopback port in
a thread of the test process, a throw-away SQLite database, a frozen clock, and a reset between
tests that puts back the state it had once started (a snapshot restore, a few milliseconds)."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

#: The snapshot every reset restores: the state right after start (and the clock frozen).
BASELINE = "motorpool-testing-baseline"
_START_TIMEOUT = 30.0


class PlatformError(RuntimeError):
    """The platform refused a helper's call; the message is its error's description."""


def _seconds(duration: str | float | timedelta) -> dict[str, Any]:
    if isinstance(duration, timedelta):
        return {"seconds": duration.total_seconds()}
    if isinstance(duration, int | float):
        return {"seconds": float(duration)}
    return {"by": duration}


class MotorpoolPlatform:
    """The platform, as a context manager (``with MotorpoolPlatform() as mp:``) or started and
    stopped by hand. ``frozen`` freezes every application's clock at start: simulated time then
    moves only through :meth:`advance`, so tests are reproducible."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, frozen: bool = True) -> None:
        self.host = host
        self.port = port
        self.frozen = frozen
        self.admin_token = "adm_" + secrets.token_urlsafe(24)
        self._credentials: dict[str, str] = {}
        self._folder: Path | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._http: httpx.Client | None = None
        self._failure: BaseException | None = None
        #: What the marked scenarios made, by file name (set by the pytest fixture).
        self.loaded: dict[str, dict[str, Any]] = {}

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        import uvicorn

        from ..platform.app import create_app
        from ..platform.scratch import scratch_database_url, scratch_dir
        from ..platform.settings import Settings

        if self._server is not None:
            raise RuntimeError("this platform is already running")
        self._folder = scratch_dir()
        listener = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self.port))
        except OSError as exc:
            listener.close()
            raise RuntimeError(f"cannot listen on {self.host}:{self.port}: {exc.strerror}") from None
        self.port = listener.getsockname()[1]
        settings = Settings(
            host=self.host,
            port=self.port,
            database_url=scratch_database_url(self._folder),
            env_file=None,
            print_credentials=False,
            admin_token=self.admin_token,
            data_dir=self._folder / "data",
            log_level="warning",
        )
        app = create_app(settings)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", ws="none")
        self._server = server = uvicorn.Server(config)

        def run() -> None:
            try:
                asyncio.run(server.serve(sockets=[listener]))
            except BaseException as exc:  # noqa: BLE001 - start() reports it: it waits for this thread
                self._failure = exc
            finally:
                listener.close()

        self._thread = threading.Thread(target=run, name="motorpool-platform", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the motorpool platform did not start: {self._failure!r}")
            time.sleep(0.01)
        first = app.state.platform.first_start
        self._credentials = first.env(self.url)
        self._http = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.admin_token}"}, timeout=30
        )
        if self.frozen:
            self.admin("PUT", f"/admin/applications/{self.application_id}/clock", json={"rate": 0})
        self.admin("POST", "/admin/snapshots", json={"name": BASELINE})
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._server = self._thread = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Put the state back to what it was right after start: the development application
        with the same credentials, its fleet, no connections, the clock at its start."""
        self.admin("POST", f"/admin/snapshots/{BASELINE}/restore")

    # --- what a test's code needs --------------------------------------------------------------

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def client_id(self) -> str:
        return self._credentials["SMARTCAR_CLIENT_ID"]

    @property
    def client_secret(self) -> str:
        return self._credentials["SMARTCAR_CLIENT_SECRET"]

    @property
    def redirect_uri(self) -> str:
        return self._credentials["SMARTCAR_REDIRECT_URI"]

    @property
    def application_id(self) -> str:
        return self._credentials["MOTORPOOL_APPLICATION_ID"]

    @property
    def management_token(self) -> str:
        return self._credentials["APPLICATION_MANAGEMENT_TOKEN"]

    @property
    def env(self) -> dict[str, str]:
        """Environment variables for the code under test: the credentials, ``MOTORPOOL_URL``
        and ``MOTORPOOL_ADMIN_TOKEN``, and the origins Smartcar's Python SDK reads (its
        ``SMARTCAR_AUTH_ORIGIN`` is the whole token URL)."""
        return {
            **self._credentials,
            "MOTORPOOL_ADMIN_TOKEN": self.admin_token,
            "SMARTCAR_API_ORIGIN": self.url,
            "SMARTCAR_AUTH_ORIGIN": f"{self.url}/oauth/token",
            "SMARTCAR_CONNECT_ORIGIN": self.url,
            "SMARTCAR_MANAGEMENT_API_ORIGIN": self.url,
            "SMARTCAR_VEHICLE_API_V3_ORIGIN": self.url,
        }

    @property
    def node_env(self) -> dict[str, str]:
        """The same for Smartcar's Node SDK, which appends ``/oauth/token`` itself."""
        return {
            **self._credentials,
            "MOTORPOOL_ADMIN_TOKEN": self.admin_token,
            "SMARTCAR_API_ORIGIN": self.url,
            "SMARTCAR_AUTH_ORIGIN": self.url,
            "SMARTCAR_MANAGEMENT_API_ORIGIN": self.url,
            "SMARTCAR_API_V3_ORIGIN": self.url,
        }

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the admin API; its ``data``, or :class:`PlatformError` with its description."""
        if self._http is None:
            raise RuntimeError("the platform is not running: use it in a `with` block or start() it")
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            body = response.json() if response.content else {}
            raise PlatformError(f"{method} {path}: {response.status_code} {body.get('description', body)}")
        return response.json().get("data") if response.content else None

    def fleet(
        self,
        count: int = 1,
        *,
        make: str | None = None,
        model: str | None = None,
        powertrain: str | None = None,
        seed: int | None = None,
        application_id: str | None = None,
    ) -> list[str]:
        """Add ``count`` simulated vehicles to the application's fleet; their ids. A ``seed``
        makes the same cars every run (``seed``, ``seed + 1``, …): same model, charge, place."""
        body: dict[str, Any] = {"applicationId": application_id or self.application_id, "make": make,
                                "model": model, "powertrainType": powertrain}  # fmt: skip
        body = {key: value for key, value in body.items() if value is not None}
        made = []
        for index in range(count):
            if seed is not None:
                body["seed"] = seed + index
            made.append(self.admin("POST", "/admin/vehicles", json=body)["id"])
        return made

    def connect(
        self,
        email: str,
        *,
        vehicle_ids: list[str] | None = None,
        permissions: list[str] | None = None,
        mode: str = "simulated",
        application_id: str | None = None,
    ) -> str:
        """Connect a user (what approving Connect stores): the vehicles given (default: the
        ones they have in that mode) with the permissions given (default: all); the user id."""
        body: dict[str, Any] = {"email": email, "mode": mode}
        if vehicle_ids is not None:
            body["vehicleIds"] = vehicle_ids
        if permissions is not None:
            body["permissions"] = permissions
        app = application_id or self.application_id
        return str(self.admin("POST", f"/admin/applications/{app}/connections", json=body)["userId"])

    def advance(self, duration: str | float | timedelta, *, application_id: str | None = None) -> str:
        """Move the simulated clock forward (``"2h"``, ``90`` seconds or a ``timedelta``);
        cars charge, drive and sleep through the step. The new simulated now (ISO 8601)."""
        app = application_id or self.application_id
        data = self.admin("POST", f"/admin/applications/{app}/clock/advance", json=_seconds(duration))
        return str(data["now"])

    def pin(self, vehicle_id: str, code: str, body: dict[str, Any] | None) -> None:
        """Pin a signal to ``body`` from now on (``None`` un-pins it)."""
        self.admin("PUT", f"/admin/vehicles/{vehicle_id}/signals/{code}", json={"body": body})

    def break_account(self, vehicle_id: str, code: str | None = None) -> dict[str, Any]:
        """Break the vehicle's connected-services account (``AUTHENTICATION_FAILED`` unless
        ``code`` names another): the Vehicle API answers ``CONNECTED_SERVICES_ACCOUNT`` with the
        re-authentication link until :meth:`repair` or the owner re-connects. Its failures."""
        body = {} if code is None else {"code": code}
        failures: dict[str, Any] = self.admin("POST", f"/admin/vehicles/{vehicle_id}/failures/account", json=body)
        return failures

    def fail_signal(self, vehicle_id: str, code: str, error: str | None = None) -> dict[str, Any]:
        """Make a signal fail with ``error`` (``TYPE:CODE``, default ``UPSTREAM:UNKNOWN_ISSUE``);
        the vehicle's failures."""
        body = {} if error is None else {"error": error}
        failures: dict[str, Any] = self.admin(
            "POST", f"/admin/vehicles/{vehicle_id}/failures/signals/{code}", json=body
        )
        return failures

    def repair(self, vehicle_id: str, signal: str | None = None) -> dict[str, Any]:
        """Repair the account and every failing signal (or only ``signal``); the failures left."""
        body = {} if signal is None else {"signal": signal}
        failures: dict[str, Any] = self.admin("POST", f"/admin/vehicles/{vehicle_id}/failures/repair", json=body)
        return failures

    def scenario(self, source: str | Path) -> dict[str, Any]:
        """Load a scenario file (``.toml``, ``.yaml``/``.yml`` or ``.json``); the ids it made."""
        path = Path(source)
        media = {".toml": "application/toml", ".yaml": "application/yaml",
                 ".yml": "application/yaml", ".json": "application/json"}.get(path.suffix.lower())  # fmt: skip
        if media is None:
            raise ValueError(f"{path}: a scenario file ends in .toml, .yaml, .yml or .json")
        created: dict[str, Any] = self.admin(
            "POST", "/admin/scenario", content=path.read_bytes(), headers={"Content-Type": media}
        )
        return created

    def snapshot(self, name: str) -> None:
        self.admin("POST", "/admin/snapshots", json={"name": name})

    def restore(self, name: str) -> None:
        self.admin("POST", f"/admin/snapshots/{name}/restore")
