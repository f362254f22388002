"""Loopback servers that are not a hub: a plain-HTTP listener and a TLS-terminating relay."""

from __future__ import annotations

import asyncio
import contextlib
import ssl

from .tls import make_certificate

_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class PlainHttpServer:
    """Answers every connection in plain HTTP (a v1 hub, or an impostor without TLS).

    Keeps every byte it received, so a test can tell what the client sent in clear.
    """

    def __init__(self) -> None:
        self.received = bytearray()
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            data = await asyncio.wait_for(reader.read(65536), 2)
            self.received += data
            writer.write(_ANSWER)
            await writer.drain()
            while data := await asyncio.wait_for(reader.read(65536), 2):
                self.received += data
        except (TimeoutError, ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 1)


class TlsRelay:
    """A man in the middle: ends TLS with a certificate of its own, relays to the real hub.

    It sees everything in clear and passes it on unchanged; `fingerprint` is what a client
    connected to it sees.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.certificate = make_certificate("shub-impostor")
        self.seen = bytearray()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def fingerprint(self) -> str:
        return self.certificate.fingerprint

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, record: bool
    ) -> None:
        try:
            while data := await reader.read(65536):
                if record:
                    self.seen += data
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_tls = ssl.create_default_context()
        upstream_tls.check_hostname = False
        upstream_tls.verify_mode = ssl.CERT_NONE
        try:
            up_reader, up_writer = await asyncio.open_connection(
                "127.0.0.1", self.upstream_port, ssl=upstream_tls
            )
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            self._pump(reader, up_writer, record=True),
            self._pump(up_reader, writer, record=False),
        )

    def _spawn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._handle(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._spawn, "127.0.0.1", 0, ssl=self.certificate.server_context()
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
