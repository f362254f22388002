"""Home Assistant's web server on a real loopback port, and a hub address an attacker can take.

In the test harness Home Assistant's web server does not listen anywhere; the live view's
relay needs it to, since ffmpeg connects to it like to any URL.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
import ssl
import tempfile

from aiohttp.test_utils import TestClient, TestServer
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from tests.attack import self_signed

HOST = "127.0.0.1"


def self_signed_context() -> ssl.SSLContext:
    """Return a server TLS context with a fresh self-signed certificate (like a user's own)."""
    cert, key = self_signed("homeassistant.local")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory() as folder:
        cert_file, key_file = Path(folder, "cert.pem"), Path(folder, "key.pem")
        cert_file.write_bytes(cert)
        key_file.write_bytes(key)
        context.load_cert_chain(cert_file, key_file)
    return context


async def serve_home_assistant(
    hass: HomeAssistant, aiohttp_client: ClientSessionGenerator, *, https: bool = False
) -> TestClient:
    """Serve Home Assistant's web app on a free loopback port, as its http settings say.

    With `https` it serves TLS with a self-signed certificate, as with `ssl_certificate`.
    """
    server = TestServer(hass.http.app, host=HOST)
    # Registering a view after the start must work, as in Home Assistant.
    server.app._router.freeze = lambda: None  # type: ignore[method-assign]
    await server.start_server(ssl=self_signed_context() if https else None)
    client = await aiohttp_client(server)
    assert server.port is not None
    hass.http.server_port = server.port
    hass.http.ssl_certificate = "/ssl/fullchain.pem" if https else None
    return client


class HubAddress:
    """A TCP forwarder on loopback standing for the hub's address on the home network.

    Home Assistant talks to the hub through it; `take_over(port)` is an attacker who
    answers at that address from now on (spoofing it) and cuts the connections open.
    """

    def __init__(self, target_port: int) -> None:
        """Forward to the hub on `target_port`."""
        self.target_port = target_port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The port Home Assistant connects to."""
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def __aenter__(self) -> HubAddress:
        self._server = await asyncio.start_server(self._accept, HOST, 0)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._server.close()
        self._cut()
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 1)

    async def take_over(self, port: int) -> None:
        """Send new connections to `port` and cut the ones open."""
        self.target_port = port
        self._cut()
        await asyncio.sleep(0.1)  # let the clients notice

    def _cut(self) -> None:
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            try:
                target_reader, target_writer = await asyncio.open_connection(HOST, self.target_port)
            except OSError:
                return
            self._writers |= {writer, target_writer}
            await asyncio.gather(_pump(reader, target_writer), _pump(target_reader, writer))
        finally:
            self._tasks.discard(task)
            writer.close()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy bytes one way until either side closes."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()
