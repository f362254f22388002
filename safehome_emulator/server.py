"""The emulator: the hub's API on an HTTPS/WSS port, its control surface on a plain-HTTP one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
import logging
import ssl
from typing import Any, Self

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from .api import API, RestApi
from .config import EmulatorConfig
from .control import Control
from .discovery import Advertiser
from .events import EventStreams
from .guard import guard_middleware, loopback_warning
from .handshakes import quiet_failed_handshakes
from .hub import Hub
from .media import Media
from .tls import HubIdentity
from .util import HubClock
from .webutil import CLIENT_MAX_SIZE, error_middleware

_LOGGER = logging.getLogger(__name__)
SHUTDOWN_TIMEOUT = 2.0


class _AccessLogger(AbstractAccessLogger):
    """Log requests without their query string (stream access keys are secrets)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.debug(
            "%s %s -> %s (%.1f ms)", request.method, request.path, response.status, time * 1000
        )


def _root(scheme: str, host: str, port: int) -> str:
    """`scheme://host:port`, with a wildcard address read as 127.0.0.1."""
    if host in ("0.0.0.0", "", "::"):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


class Emulator:
    """A SafeHome hub with simulated devices: the API over HTTPS, the control surface apart.

    `Emulator(config)` or `Emulator(host=..., port=0, control=True, control_port=0,
    zeroconf=False, ...)`: keyword arguments override fields of the config.
    """

    def __init__(self, config: EmulatorConfig | None = None, /, **overrides: Any) -> None:
        """Create the hub and its devices (raises ValueError on an invalid config)."""
        base = config if config is not None else EmulatorConfig()
        self.config = base.replace(**overrides) if overrides else base
        self.hub = Hub(self.config)
        self.streams = EventStreams(self.hub)
        self.media = Media(self.hub)
        self.control = (
            Control(self.hub, self.streams, self.media, self.restart, self.open_pairing_window)
            if self.config.control
            else None
        )
        self.on_pairing_window: Callable[[str, float], None] | None = None
        """Called with the code and its seconds whenever a pairing window opens (the hub's
        display: the command line prints it; library code never logs it)."""
        self._advertiser = Advertiser(self.config) if self.config.zeroconf else None
        self._identity: HubIdentity | None = None
        self._runner: web.AppRunner | None = None
        self._control_runner: web.AppRunner | None = None
        self._port: int | None = None
        self._control_port: int | None = None
        self._restart_handle: asyncio.TimerHandle | None = None
        self._undo_quiet_handshakes: Callable[[], None] | None = None

    # --- addresses and identity ------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port the API listens on (known once started)."""
        if self._port is None:
            raise RuntimeError("the emulator is not running")
        return self._port

    @property
    def url(self) -> str:
        """The API server's root URL, e.g. `https://127.0.0.1:8765`."""
        return _root("https", self.config.host, self.port)

    @property
    def api_url(self) -> str:
        """The API's base URL (`…/api/v2`)."""
        return f"{self.url}{API}"

    @property
    def control_port(self) -> int:
        """The control surface's TCP port (RuntimeError when it is off or not running)."""
        if self._control_port is None:
            raise RuntimeError("the control surface is not running")
        return self._control_port

    @property
    def control_url(self) -> str:
        """The control server's root URL, e.g. `http://127.0.0.1:8766` (routes: `/control/…`)."""
        return _root("http", self.config.control_host, self.control_port)

    def _hub_identity(self) -> HubIdentity:
        """Return the TLS identity: loaded or created on first use, then kept."""
        if self._identity is None:
            config = self.config
            if config.state_dir is not None:
                self._identity = HubIdentity.load_or_create(
                    config.state_dir, config.hub_id, config.host
                )
            else:
                self._identity = HubIdentity.create(config.hub_id, config.host)
        return self._identity

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the hub's certificate (DER), 64 lowercase hex digits."""
        return self._hub_identity().fingerprint

    @property
    def certificate_pem(self) -> str:
        """The hub's self-signed certificate, PEM."""
        return self._hub_identity().cert_pem.decode("ascii")

    # --- pairing ---------------------------------------------------------------------

    def open_pairing_window(self) -> str:
        """Press the pairing button: open a window with a new code and return the code."""
        code = self.hub.pairing.open()
        _LOGGER.info("pairing window open for %g s", self.config.pairing_window)
        if self.on_pairing_window is not None:
            self.on_pairing_window(code, self.config.pairing_window)
        return code

    def close_pairing_window(self) -> None:
        """Close the pairing window."""
        self.hub.pairing.close()

    @property
    def pairing_open(self) -> bool:
        """Whether the pairing window is open."""
        return self.hub.pairing.is_open

    @property
    def pairing_code(self) -> str | None:
        """The open window's code (None when the window is closed)."""
        return self.hub.pairing.code

    def issue_token(self, client_name: str = "test client") -> str:
        """Pair a client directly (for tests and tools) and return its token."""
        return self.hub.tokens.issue(client_name)

    # --- life cycle ------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application(
            middlewares=[error_middleware(lambda: self.hub.down)],
            client_max_size=CLIENT_MAX_SIZE,
        )
        app.add_routes(RestApi(self.hub, self.fingerprint).routes())
        app.add_routes(self.streams.routes())
        app.add_routes(self.media.routes())
        return app

    def _control_app(self, control: Control) -> web.Application:
        app = web.Application(
            middlewares=[
                error_middleware(lambda: False),
                guard_middleware(self.config.control_host),
            ],
            client_max_size=CLIENT_MAX_SIZE,
        )
        app.add_routes(control.routes())
        return app

    @staticmethod
    async def _serve(
        app: web.Application, host: str, port: int, ssl_context: ssl.SSLContext | None = None
    ) -> tuple[web.AppRunner, int]:
        """Start one server; return its runner and bound port."""
        runner = web.AppRunner(
            app, access_log_class=_AccessLogger, shutdown_timeout=SHUTDOWN_TIMEOUT
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port, ssl_context=ssl_context).start()
        except BaseException:
            await runner.cleanup()
            raise
        return runner, runner.addresses[0][1]

    async def start(self) -> None:
        """Start serving (and advertising, unless zeroconf is off).

        Raises OSError when a port is taken, ValueError on an unusable `state_dir`.
        """
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        config = self.config
        context = self._hub_identity().ssl_context()
        runner, port = await self._serve(self._app(), config.host, config.port, context)
        if self.control is not None:
            try:
                self._control_runner, self._control_port = await self._serve(
                    self._control_app(self.control), config.control_host, config.control_port
                )
            except BaseException:
                await runner.cleanup()
                raise
            warning = loopback_warning(config.control_host)
            if warning:
                _LOGGER.warning("%s", warning)
        self._runner, self._port = runner, port
        self._undo_quiet_handshakes = quiet_failed_handshakes(asyncio.get_running_loop())
        self.hub.start()
        if self._advertiser is not None:
            await self._advertiser.start(port)
        _LOGGER.info(
            "SafeHome emulator listening on %s (certificate %s)", self.url, self.fingerprint
        )

    async def stop(self) -> None:
        """Stop everything: streams, timers, floods, advertising and the server."""
        if self._runner is None:
            return
        if self._undo_quiet_handshakes is not None:
            self._undo_quiet_handshakes()
            self._undo_quiet_handshakes = None
        HubClock.skew = timedelta(0)  # a clock set wrong for a test ends with its hub
        if self._restart_handle is not None:
            self._restart_handle.cancel()
            self._restart_handle = None
        if self.control is not None:
            await self.control.stop()
        if self._advertiser is not None:
            await self._advertiser.stop()
        self.media.stop_all()
        await self.streams.stop()
        self.hub.close()
        self.hub.pairing.close()
        runner, self._runner = self._runner, None
        control_runner, self._control_runner = self._control_runner, None
        if control_runner is not None:
            await control_runner.cleanup()
        await runner.cleanup()
        self._port = None
        self._control_port = None

    async def __aenter__(self) -> Self:
        """Start on entering an `async with` block."""
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        """Stop on leaving it."""
        await self.stop()

    # --- simulated reboot ------------------------------------------------------------

    def restart(self, downtime: float, new_boot: bool = True) -> None:
        """Simulate a reboot: drop streams, answer 503 for `downtime` s, then a new boot.

        The hub keeps its certificate, tokens and devices; a pairing window closes.

        With `new_boot=False` the hub only restarts its API: it keeps its boot id, its
        numbering and its replay buffer, and numbers the events of the downtime as usual.
        (A reboot that is still pending stays a reboot.)
        """
        self.hub.rebooting = new_boot or (self.hub.down and self.hub.rebooting)
        self.hub.down = True
        self.hub.pairing.close()
        self.streams.end_all()  # what was numbered before going down leaves first
        self.media.stop_all()
        self.media.revoke_keys()
        if self._restart_handle is not None:
            self._restart_handle.cancel()
            self._restart_handle = None
        if downtime <= 0:
            self._finish_restart()
        else:
            loop = asyncio.get_running_loop()
            self._restart_handle = loop.call_later(downtime, self._finish_restart)

    def _finish_restart(self) -> None:
        self._restart_handle = None
        if self.hub.rebooting:
            self.hub.reboot()
            self.hub.rebooting = False
        self.hub.down = False
        _LOGGER.info("hub restarted with boot id %s", self.hub.boot_id)
