"""The emulator: one aiohttp server that puts the hub, its API and its control surface on a port."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import logging
from typing import Any, Self

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger, BaseRequest, StreamResponse

from .api import RestApi
from .config import EmulatorConfig
from .control import Control
from .discovery import Advertiser
from .events import EventStreams
from .hub import Hub
from .media import Media
from .util import HubClock
from .webutil import CLIENT_MAX_SIZE, error_middleware

_LOGGER = logging.getLogger(__name__)
SHUTDOWN_TIMEOUT = 2.0


class _AccessLogger(AbstractAccessLogger):
    """Log requests without their query string (stream access keys are secrets)."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.debug(
            "%s %s -> %s (%.1f ms)", request.method, request.path, response.status, time * 1000
        )


class Emulator:
    """A SafeHome hub with simulated devices, served over HTTP.

    `Emulator(config)` or `Emulator(host=..., port=0, pairing_code=..., control=True,
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
            Control(self.hub, self.streams, self.media, self.restart)
            if self.config.control
            else None
        )
        self._advertiser = Advertiser(self.config) if self.config.zeroconf else None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._restart_handle: asyncio.TimerHandle | None = None

    # --- addresses -------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port the emulator listens on (known once started)."""
        if self._port is None:
            raise RuntimeError("the emulator is not running")
        return self._port

    @property
    def url(self) -> str:
        """The server's root URL, e.g. `http://127.0.0.1:8765`."""
        host = self.config.host
        if host in ("0.0.0.0", "", "::"):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The API's base URL (`…/api/v1`)."""
        return f"{self.url}/api/v1"

    @property
    def pairing_code(self) -> str:
        """The code a client exchanges for a token."""
        return self.config.pairing_code

    def issue_token(self, client_name: str = "test client") -> str:
        """Pair a client directly (for tests and tools) and return its token."""
        return self.hub.tokens.issue(client_name)

    # --- life cycle ------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application(
            middlewares=[error_middleware(lambda: self.hub.down)],
            client_max_size=CLIENT_MAX_SIZE,
        )
        app.add_routes(RestApi(self.hub).routes())
        app.add_routes(self.streams.routes())
        app.add_routes(self.media.routes())
        if self.control is not None:
            app.add_routes(self.control.routes())
        return app

    async def start(self) -> None:
        """Start serving (and advertising, unless zeroconf is off)."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        runner = web.AppRunner(
            self._app(),
            access_log_class=_AccessLogger,
            shutdown_timeout=SHUTDOWN_TIMEOUT,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.config.host, self.config.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = runner.addresses[0][1]
        self.hub.start()
        if self._advertiser is not None:
            await self._advertiser.start(self._port)
        _LOGGER.info("SafeHome emulator listening on %s", self.url)

    async def stop(self) -> None:
        """Stop everything: streams, timers, floods, advertising and the server."""
        if self._runner is None:
            return
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
        runner, self._runner = self._runner, None
        await runner.cleanup()
        self._port = None

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

        With `new_boot=False` the hub only restarts its API: it keeps its boot id, its
        numbering and its replay buffer, and numbers the events of the downtime as usual.
        (A reboot that is still pending stays a reboot.)
        """
        self.hub.rebooting = new_boot or (self.hub.down and self.hub.rebooting)
        self.hub.down = True
        self.streams.drop_all()
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
