"""The secure link against scripted loopback servers: pinning, refusing impostors, pairing.

The servers are real (TLS with a certificate of their own, or plain TCP); what matters is
what reaches them: nothing at all from a client that does not trust them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import logging
from typing import Any

import aiohttp
import pytest

from custom_components.seoul_safehome.api import (
    SafeHomeAuthenticationError,
    SafeHomeClient,
    SafeHomeConnectionError,
    SafeHomeError,
    SafeHomeEventStream,
    SafeHomeIdentityError,
    SafeHomePairingClosedError,
    SafeHomeProtocolError,
)
from custom_components.seoul_safehome.api.pairing import ClientPairing
from custom_components.seoul_safehome.api.tls import normalize_fingerprint

from .conftest import Recorder, StreamFactory, wait_until
from .fakehub import FakeHub, FakeWs, hub, info, welcome
from .fakepair import FakePairing
from .relay import PlainHttpServer
from .tls import make_certificate

TOKEN = "t" * 40


@pytest.fixture
async def plain_server(socket_enabled: None) -> AsyncIterator[PlainHttpServer]:
    """A loopback server that speaks plain HTTP only."""
    server = PlainHttpServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as sess:
        yield sess


def stranger(fake_hub: FakeHub, session: aiohttp.ClientSession, **kwargs: Any) -> SafeHomeClient:
    """A client of the scripted hub's address, pinned to a certificate the hub does not have."""
    options: dict[str, Any] = {"token": TOKEN, "fingerprint": make_certificate().fingerprint}
    return SafeHomeClient(
        "127.0.0.1", fake_hub.port, session, request_timeout=1.0, **options | kwargs
    )


def hold(conn: FakeWs) -> Any:
    return conn.hold()


# --- pinning


async def test_pinned_requests_reach_the_hub(
    fake_hub: FakeHub, fake_client: SafeHomeClient
) -> None:
    fake_hub.json("/hub", hub())
    fake_hub.json("/info", info())
    assert (await fake_client.hub()).id == "shub-fake"
    assert (await fake_client.info()).id == "shub-fake"
    assert [(seen.method, seen.path) for seen in fake_hub.seen] == [
        ("GET", "/api/v2/hub"),
        ("GET", "/api/v2/info"),
    ]
    assert fake_hub.seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert "Authorization" not in fake_hub.seen[1].headers  # info needs no token


async def test_another_certificate_is_refused_before_any_request(
    fake_hub: FakeHub, session: aiohttp.ClientSession
) -> None:
    fake_hub.json("/hub", hub())
    fake_hub.json("/info", info())
    api = stranger(fake_hub, session)
    calls = {
        "hub": api.hub(),
        "info": api.info(),
        "devices": api.devices(),
        "lock": api.lock("lock-1"),
        "snapshot": api.snapshot("cam-1"),
        "stream_info": api.stream_info("cam-1"),
        "mjpeg": api.mjpeg("cam-1"),
    }
    for name, call in calls.items():
        with pytest.raises(SafeHomeIdentityError) as err:
            await call
        assert isinstance(err.value, SafeHomeAuthenticationError), name
        assert fake_hub.fingerprint in str(err.value)  # what the hub showed
    assert fake_hub.seen == []  # not one HTTP request got through


async def test_no_fingerprint_no_token_sent(
    fake_hub: FakeHub, session: aiohttp.ClientSession
) -> None:
    """Without a pinned certificate only `info()` (no token) goes out, unpinned."""
    fake_hub.json("/hub", hub())
    fake_hub.json("/info", info())
    api = stranger(fake_hub, session, fingerprint=None)
    for call in (
        api.hub(),
        api.devices(),
        api.unlock("lock-1"),
        api.snapshot("cam-1"),
        api.mjpeg("cam-1"),
    ):
        with pytest.raises(SafeHomeAuthenticationError) as err:
            await call
        assert not isinstance(err.value, SafeHomeIdentityError)
        assert err.value.status is None  # refused by the client itself
    assert fake_hub.seen == []
    assert (await api.info()).id == "shub-fake"
    assert [seen.path for seen in fake_hub.seen] == ["/api/v2/info"]
    assert "Authorization" not in fake_hub.seen[0].headers


async def test_plain_http_is_a_connection_error_and_gets_no_secret(
    plain_server: PlainHttpServer, session: aiohttp.ClientSession
) -> None:
    """A server without TLS (a v1 hub, an impostor) is never spoken to in clear."""
    pinned = SafeHomeClient(
        "127.0.0.1", plain_server.port, session, token=TOKEN,
        fingerprint="ab" * 32, request_timeout=1.0,
    )  # fmt: skip
    unpinned = SafeHomeClient("127.0.0.1", plain_server.port, session, request_timeout=1.0)
    for call in (
        pinned.hub(),
        pinned.info(),
        pinned.mjpeg("cam-1"),
        unpinned.info(),
        unpinned.pair("246810"),
    ):
        with pytest.raises(SafeHomeConnectionError) as err:
            await call
        assert not isinstance(err.value, SafeHomeAuthenticationError)
    assert plain_server.connections >= 5
    assert b"Authorization" not in plain_server.received
    assert TOKEN.encode() not in plain_server.received
    assert b"HTTP/1.1" not in plain_server.received  # TLS hellos only, no HTTP request
    assert unpinned.token is None


async def test_stream_to_a_plain_http_server_keeps_retrying(
    plain_server: PlainHttpServer, session: aiohttp.ClientSession
) -> None:
    api = SafeHomeClient(
        "127.0.0.1", plain_server.port, session, token=TOKEN, fingerprint="ab" * 32
    )
    rec = Recorder()
    stream = SafeHomeEventStream(
        api, rec.on_event, on_disconnected=rec.on_disconnected, backoff_min=0.01, backoff_max=0.02
    )
    await stream.start()
    try:
        await wait_until(lambda: plain_server.connections >= 3)
        assert stream.running
        assert rec.disconnected == []
    finally:
        await stream.stop()
    assert b"Authorization" not in plain_server.received


# --- the event stream


async def test_stream_with_another_certificate_stops_at_once(
    fake_hub: FakeHub, session: aiohttp.ClientSession, fake_stream: StreamFactory
) -> None:
    fake_hub.scripts = [hold]
    stream, rec = fake_stream(stranger(fake_hub, session))
    await stream.start()
    await wait_until(lambda: not stream.running)
    assert len(rec.disconnected) == 1
    assert isinstance(rec.disconnected[0], SafeHomeIdentityError)
    assert rec.connected == []
    assert fake_hub.seen == []
    assert fake_hub.connections == 0


async def test_stream_without_fingerprint_stops_and_sends_nothing(
    fake_hub: FakeHub, session: aiohttp.ClientSession, fake_stream: StreamFactory
) -> None:
    fake_hub.scripts = [hold]
    stream, rec = fake_stream(stranger(fake_hub, session, fingerprint=None))
    await stream.start()
    await wait_until(lambda: not stream.running)
    assert isinstance(rec.disconnected[0], SafeHomeAuthenticationError)
    assert fake_hub.seen == []


async def test_stream_stops_when_the_hub_changes_certificate(
    fake_hub: FakeHub, fake_stream: StreamFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The link drops, and the hub comes back with another certificate: no retry loop."""
    caplog.set_level(logging.DEBUG)

    async def swap_then_drop(conn: FakeWs) -> None:
        await conn.send(welcome())
        await wait_until(lambda: stream.connected)
        fake_hub.swap_certificate()
        await conn.close(1011)

    fake_hub.scripts = [swap_then_drop, hold]
    stream, rec = fake_stream()
    await stream.start()
    await wait_until(lambda: not stream.running)
    assert rec.connected == [False]
    assert len(rec.disconnected) == 2
    assert isinstance(rec.disconnected[0], SafeHomeConnectionError)
    assert isinstance(rec.disconnected[1], SafeHomeIdentityError)
    assert fake_hub.connections == 1  # the second handshake never reached HTTP
    assert "the SafeHome event stream stops" in caplog.text


# --- pairing with a scripted hub


async def test_pairing_with_the_scripted_hub(
    fake_hub: FakeHub, fake_client: SafeHomeClient
) -> None:
    pairing = FakePairing(fake_hub).install()
    fake_client.token = fake_client.fingerprint = None
    result = await fake_client.pair("246-810", "pytest")
    assert result.token == pairing.token
    assert result.fingerprint == fake_hub.fingerprint
    assert result.hub.id == "shub-fake"
    assert (fake_client.token, fake_client.fingerprint) == (pairing.token, fake_hub.fingerprint)
    assert pairing.token not in repr(result)
    assert pairing.starts[0]["client_name"] == "pytest"
    assert [seen.path for seen in fake_hub.seen] == ["/api/v2/pair/start", "/api/v2/pair/finish"]
    assert all("Authorization" not in seen.headers for seen in fake_hub.seen)


async def test_pairing_relearns_the_certificate(
    fake_hub: FakeHub, fake_client: SafeHomeClient
) -> None:
    """A client pinned to an old certificate (the hub was replaced) pairs anew."""
    FakePairing(fake_hub).install()
    fake_client.fingerprint = make_certificate().fingerprint
    result = await fake_client.pair("246810")
    assert fake_client.fingerprint == result.fingerprint == fake_hub.fingerprint


@pytest.mark.parametrize(
    ("switch", "value"),
    [
        ("confirm_fingerprint", "ab" * 32),  # a hub behind a man in the middle
        ("wrong_key", True),  # a hub that does not know the code
        ("tamper_seal", True),
        ("sealed_fingerprint", "ab" * 32),
    ],
)
async def test_a_hub_that_does_not_verify_gets_nothing_kept(
    fake_hub: FakeHub, fake_client: SafeHomeClient, switch: str, value: Any
) -> None:
    pairing = FakePairing(fake_hub).install()
    setattr(pairing, switch, value)
    fake_client.token = fake_client.fingerprint = None
    with pytest.raises(SafeHomeIdentityError) as err:
        await fake_client.pair("246810")
    assert isinstance(err.value, SafeHomeAuthenticationError)
    assert fake_client.token is None
    assert fake_client.fingerprint is None
    assert pairing.token not in str(err.value)


async def test_certificate_changing_during_pairing(
    fake_hub: FakeHub, fake_client: SafeHomeClient
) -> None:
    """`finish` goes pinned to what `start` saw: another certificate gets no confirmation."""
    pairing = FakePairing(fake_hub).install()
    start = fake_hub.rest["/pair/start"]

    async def start_then_swap(request: Any) -> Any:
        response = await start(request)
        fake_hub.swap_certificate()
        return response

    fake_hub.rest["/pair/start"] = start_then_swap
    fake_client.token = fake_client.fingerprint = None
    with pytest.raises(SafeHomeIdentityError):
        await fake_client.pair("246810")
    assert pairing.finishes == []  # the confirmation never left the client
    assert fake_client.token is None


async def test_wrong_code_counts_down(fake_hub: FakeHub, fake_client: SafeHomeClient) -> None:
    pairing = FakePairing(fake_hub, attempts=2).install()
    fake_client.token = fake_client.fingerprint = None
    for left in (1, 0):
        with pytest.raises(SafeHomeAuthenticationError) as err:
            await fake_client.pair("135791")
        assert type(err.value) is SafeHomeAuthenticationError
        assert err.value.code == "invalid_code"
        assert err.value.status == 401
        assert err.value.attempts_left == left
    with pytest.raises(SafeHomePairingClosedError) as closed:
        await fake_client.pair(pairing.code)  # the window closed after the last attempt
    assert closed.value.code == "pairing_closed"
    assert closed.value.status == 403
    assert isinstance(closed.value, SafeHomeError)
    assert not isinstance(closed.value, SafeHomeAuthenticationError)
    assert fake_client.token is None


async def test_a_hub_without_pairing(fake_hub: FakeHub, fake_client: SafeHomeClient) -> None:
    """A hub that has no `pair/start` (404 without an error body) is not a v2 hub."""
    fake_client.token = fake_client.fingerprint = None
    with pytest.raises(SafeHomeProtocolError):
        await fake_client.pair("246810")


@pytest.mark.parametrize(
    ("switch", "value", "match"),
    [
        ("plaintext", b"not json", "not a JSON object"),
        ("plaintext", b"\xff\xfe", "not a JSON object"),
        ("plaintext", b"[1]", "JSON object"),
        ("plaintext", b'{"token": "x", "hub": {}}', "fingerprint"),
        ("nonce_length", 16, "nonce"),
    ],
)
async def test_a_sealed_answer_that_is_not_one(
    fake_hub: FakeHub, fake_client: SafeHomeClient, switch: str, value: Any, match: str
) -> None:
    pairing = FakePairing(fake_hub).install()
    setattr(pairing, switch, value)
    fake_client.token = fake_client.fingerprint = None
    with pytest.raises(SafeHomeProtocolError, match=match):
        await fake_client.pair("246810")
    assert fake_client.token is None
    assert fake_client.fingerprint is None


def test_secrets_stay_out_of_repr() -> None:
    exchange = ClientPairing("246810")
    assert "246810" not in repr(exchange)
    assert repr(exchange) == "ClientPairing(<secret>)"
    with pytest.raises(ValueError, match="fingerprint"):
        normalize_fingerprint(5)  # type: ignore[arg-type]
