"""The secure link: HTTPS/WSS only, the hub's certificate, its fingerprint and its lifetime."""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path
import ssl
import stat

import aiohttp
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import pytest

from safehome_emulator import Emulator
from safehome_emulator.handshakes import quiet_failed_handshakes
from tests.conftest import Control

from .conftest import MakeEmulator, paired
from .helpers import HubClient, fingerprint_of, peer_certificate, peer_fingerprint


def _unverified(maximum: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if maximum is not None:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.maximum_version = maximum
    return context


async def test_plain_http_gets_no_http_answer(emulator: Emulator) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", emulator.port)
    writer.write(b"GET /api/v2/info HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    await writer.drain()
    try:
        data = await asyncio.wait_for(reader.read(65536), 5)
    except ConnectionError:
        data = b""
    writer.close()
    assert not data.startswith(b"HTTP/"), data[:100]
    assert b"shub-demo01" not in data
    # A client that tries http:// (or ws://) gets an error, never an answer.
    async with aiohttp.ClientSession() as session:
        for url in (f"http://127.0.0.1:{emulator.port}/api/v2/info",):
            with pytest.raises(aiohttp.ClientError):
                async with session.get(url) as resp:
                    await resp.read()
        with pytest.raises(aiohttp.ClientError):
            await session.ws_connect(f"ws://127.0.0.1:{emulator.port}/api/v2/events")
    # The hub is none the worse for it.
    assert await peer_fingerprint(emulator.url) == emulator.fingerprint


async def test_tls_1_3_only(emulator: Emulator) -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", emulator.port, ssl=_unverified())
    assert writer.get_extra_info("ssl_object").version() == "TLSv1.3"
    writer.close()
    with pytest.raises((ssl.SSLError, ConnectionError)):
        await asyncio.open_connection(
            "127.0.0.1", emulator.port, ssl=_unverified(ssl.TLSVersion.TLSv1_2)
        )


async def test_certificate(emulator: Emulator) -> None:
    der = await peer_certificate(emulator.url)
    assert fingerprint_of(der) == emulator.fingerprint
    assert len(emulator.fingerprint) == 64
    assert emulator.fingerprint == emulator.fingerprint.lower()
    cert = x509.load_der_x509_certificate(der)
    assert cert == x509.load_pem_x509_certificate(emulator.certificate_pem.encode())
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert isinstance(key.curve, ec.SECP256R1)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "shub-demo01"
    assert cert.issuer == cert.subject  # self-signed
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["shub-demo01.local"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]


async def test_pinning_is_what_aiohttp_checks(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    hub, other = await make_emulator(), await make_emulator()
    pinned = HubClient(session, hub.url, hub.issue_token(), hub.fingerprint)
    await pinned.ok("GET", "/hub", "Hub")
    # Pinned to another hub's certificate: aiohttp refuses before sending anything.
    wrong = HubClient(session, hub.url, hub.issue_token(), other.fingerprint)
    with pytest.raises(aiohttp.ServerFingerprintMismatch):
        await wrong.request("GET", "/hub")
    with pytest.raises(aiohttp.ServerFingerprintMismatch):
        await wrong.connect()


async def test_events_over_wss(client: HubClient, emulator: Emulator) -> None:
    assert client.fingerprint == emulator.fingerprint
    ws = await client.session.ws_connect(
        f"wss://127.0.0.1:{emulator.port}/api/v2/events",
        headers={"Authorization": f"Bearer {client.token}"},
        ssl=client.ssl,
    )
    await ws.send_json({"type": "subscribe"})
    welcome = await ws.receive_json(timeout=3)
    assert welcome["type"] == "welcome"
    assert welcome["api_version"] == "2.0"
    await ws.close()


async def test_certificate_kept_across_restarts(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession
) -> None:
    emulator, client, control = await paired(make_emulator, session)
    fingerprint = emulator.fingerprint
    emulator.open_pairing_window()
    await control.post("/restart", {"downtime": 0})
    assert not emulator.pairing_open  # a reboot closes the pairing window
    assert await peer_fingerprint(emulator.url) == fingerprint
    await client.ok("GET", "/hub", "Hub")  # pinned, with the same token
    # Stopped and started again (without a state_dir): the same object keeps it.
    await emulator.stop()
    await emulator.start()
    assert emulator.fingerprint == fingerprint
    assert await peer_fingerprint(emulator.url) == fingerprint
    # Another emulator without a state_dir has its own.
    assert (await make_emulator()).fingerprint != fingerprint


async def test_certificate_kept_in_the_state_dir(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    state = tmp_path / "hub-state"
    first = await make_emulator(state_dir=str(state))
    fingerprint = first.fingerprint
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for name in ("hub-cert.pem", "hub-key.pem"):
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o600
    assert sorted(p.name for p in state.iterdir()) == ["hub-cert.pem", "hub-key.pem"]
    await first.stop()
    second = await make_emulator(state_dir=str(state))
    assert second.fingerprint == fingerprint
    assert await peer_fingerprint(second.url) == fingerprint


@pytest.mark.parametrize("damage", ["missing key", "other key", "garbage"])
async def test_a_damaged_state_dir_is_refused(
    socket_enabled: None, tmp_path: Path, damage: str
) -> None:
    Emulator(state_dir=str(tmp_path / "a"), zeroconf=False).fingerprint  # noqa: B018
    Emulator(state_dir=str(tmp_path / "b"), zeroconf=False).fingerprint  # noqa: B018
    key = tmp_path / "a" / "hub-key.pem"
    if damage == "missing key":
        key.unlink()
    elif damage == "other key":
        key.write_bytes((tmp_path / "b" / "hub-key.pem").read_bytes())
    else:
        key.write_text("garbage")
    emulator = Emulator(state_dir=str(tmp_path / "a"), zeroconf=False, port=0)
    with pytest.raises(ValueError, match="key"):
        await emulator.start()


async def test_failed_handshakes_are_not_loop_errors() -> None:
    """A client that does not speak TLS is logged at debug, every other loop error still
    reaches the host's handler, and the host's handler is back once the hub stops."""
    loop = asyncio.get_running_loop()
    seen: list[str] = []
    before = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: seen.append(context["message"]))
    try:
        undo = quiet_failed_handshakes(loop)
        loop.call_exception_handler(
            {
                "message": "Error on transport creation for incoming connection",
                "exception": ssl.SSLError(1, "[SSL: HTTP_REQUEST] http request"),
            }
        )
        loop.call_exception_handler({"message": "something else broke"})
        assert seen == ["something else broke"]
        undo()
        loop.call_exception_handler(
            {"message": "SSL handshake failed", "exception": ssl.SSLError(1, "x")}
        )
        assert seen == ["something else broke", "SSL handshake failed"]
    finally:
        loop.set_exception_handler(before)


async def test_paired_clients_kept_in_the_state_dir(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """A hub restarted with its state keeps its pairings (as hashes: the file holds no
    usable token); revoking them is kept too."""
    state = tmp_path / "hub-state"
    first, client, _ = await paired(make_emulator, session, state_dir=str(state))
    clients = state / "paired-clients.json"
    assert stat.S_IMODE(clients.stat().st_mode) == 0o600
    assert client.token not in clients.read_text()
    await first.stop()

    second = await make_emulator(state_dir=str(state))
    assert second.hub.tokens.client(client.token) is not None
    await Control(session, second.control_url).post("/tokens/revoke")
    await second.stop()
    third = await make_emulator(state_dir=str(state))
    assert third.hub.tokens.client(client.token) is None


async def test_a_damaged_clients_file_is_refused(socket_enabled: None, tmp_path: Path) -> None:
    (tmp_path / "paired-clients.json").write_text("{not json")
    with pytest.raises(ValueError, match="paired clients"):
        Emulator(state_dir=str(tmp_path), port=0, control=False, zeroconf=False)
