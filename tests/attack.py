"""What an attacker on the home network runs, on loopback: a wire tap and a man in the middle.

`WireTap` relays TCP between Home Assistant and the hub and keeps every byte it saw (a
stalker sniffing the Wi-Fi sees the same). `ManInTheMiddle` answers TLS with a certificate
of its own, reads what the client sends in clear, and relays it to the real hub (an
impostor that knows the Wi-Fi password and spoofs the hub's address).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
import datetime as dt
from pathlib import Path
import ssl
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"


async def _pump(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: bytearray
) -> None:
    """Copy bytes one way until either side closes, recording them."""
    try:
        while data := await reader.read(65536):
            seen += data
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


@dataclass
class _Relay:
    """A TCP server on loopback that hands every connection to `_handle`."""

    target_port: int
    server: asyncio.Server | None = None
    connections: int = 0
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def port(self) -> int:
        """The port the relay listens on."""
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    async def __aenter__(self) -> _Relay:
        self.server = await asyncio.start_server(self._accept, HOST, 0, **self._server_options())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self.server is not None
        self.server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.server.wait_closed(), 1)

    def _server_options(self) -> dict[str, object]:
        return {}

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._handle(reader, writer)
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


class WireTap(_Relay):
    """Relay TCP to the hub unchanged; `upstream`/`downstream` hold every byte seen."""

    def __init__(self, target_port: int) -> None:
        """Tap the connections to the hub on `target_port`."""
        super().__init__(target_port)
        self.upstream = bytearray()
        self.downstream = bytearray()

    @property
    def seen(self) -> bytes:
        """Everything that crossed the wire, both ways."""
        return bytes(self.upstream + self.downstream)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hub_reader, hub_writer = await asyncio.open_connection(HOST, self.target_port)
        await asyncio.gather(
            _pump(reader, hub_writer, self.upstream), _pump(hub_reader, writer, self.downstream)
        )


def self_signed(common_name: str) -> tuple[bytes, bytes]:
    """Return (certificate PEM, key PEM) of a fresh self-signed certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


class ManInTheMiddle(_Relay):
    """Terminate TLS with an impostor certificate (named like the hub), relay to the hub.

    `plaintext` holds what clients sent it after the TLS handshake: anything a client
    that trusted the impostor would have given away.
    """

    def __init__(self, target_port: int, common_name: str = "shub-demo01") -> None:
        """Impersonate the hub on `target_port` with a certificate named `common_name`."""
        super().__init__(target_port)
        self.plaintext = bytearray()
        self.downstream = bytearray()
        cert, key = self_signed(common_name)
        with tempfile.TemporaryDirectory() as folder:
            cert_file, key_file = Path(folder, "cert.pem"), Path(folder, "key.pem")
            cert_file.write_bytes(cert)
            key_file.write_bytes(key)
            self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._context.load_cert_chain(cert_file, key_file)

    def _server_options(self) -> dict[str, object]:
        return {"ssl": self._context, "ssl_handshake_timeout": 5}

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = ssl.create_default_context()
        upstream.check_hostname = False
        upstream.verify_mode = ssl.CERT_NONE
        hub_reader, hub_writer = await asyncio.open_connection(HOST, self.target_port, ssl=upstream)
        await asyncio.gather(
            _pump(reader, hub_writer, self.plaintext), _pump(hub_reader, writer, self.downstream)
        )
