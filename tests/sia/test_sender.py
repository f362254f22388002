"""The sender against receivers that misbehave in ways pysiaalarm never does.

Each peer here is a real loopback TCP server or UDP socket that answers what the test
tells it to (answers framed with the test's reference CRC): a late ACK for an earlier
message, an answer in pieces, silence, a closed connection, garbage, an unencrypted ACK
to an encrypted report.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
import socket
import time
from zoneinfo import ZoneInfo

import pytest

from custom_components.seoul_safehome.sia import (
    SiaConnectionError,
    SiaEvent,
    SiaLink,
    SiaNakError,
    SiaProtocolError,
    SiaSender,
    SiaTimeoutError,
    receiver_clock_offsets,
)

from . import reference

# What a peer sends back for each frame it receives: a list of chunks (nothing: silence).
type Answer = Callable[[bytes], list[bytes]]


def ack(seq: int, account: str = "1234") -> bytes:
    """An unencrypted ACK frame."""
    return reference.wrap(f'"ACK"{seq:04d}R0L0#{account}[]')


@dataclass
class Peer:
    """A loopback receiver that answers with `answer` and keeps what it received."""

    answer: Answer
    received: list[bytes] = field(default_factory=list)
    port: int = 0


class _UdpPeer(asyncio.DatagramProtocol):
    def __init__(self, peer: Peer) -> None:
        self.peer = peer
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.peer.received.append(data)
        assert self.transport is not None
        for chunk in self.peer.answer(data):
            self.transport.sendto(chunk, addr)


@contextlib.asynccontextmanager
async def peer(protocol: str, answer: Answer, close_after: bool = False) -> AsyncIterator[Peer]:
    """Run a TCP or UDP peer on a free loopback port."""
    state = Peer(answer)
    if protocol == "udp":
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _UdpPeer(state), local_addr=("127.0.0.1", 0)
        )
        state.port = transport.get_extra_info("sockname")[1]
        try:
            yield state
        finally:
            transport.close()
        return

    handlers: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            data = await reader.readuntil(b"\r")
            state.received.append(data)
            for chunk in state.answer(data):
                writer.write(chunk)
                await writer.drain()
                await asyncio.sleep(0.02)  # separate reads on the sender's side
            if not close_after:
                await reader.read()  # until the sender hangs up
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()
        # (Python 3.14 leaves the handlers of open connections running.)
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        server.close_clients()
        await server.wait_closed()


def send(protocol: str, port: int, link: SiaLink | None = None, timeout: float = 3.0) -> SiaSender:
    """A sender to the local peer."""
    return SiaSender("127.0.0.1", port, protocol, link or SiaLink("1234"), timeout)  # type: ignore[arg-type]


PROTOCOLS = pytest.mark.parametrize("protocol", ["tcp", "udp"])


@PROTOCOLS
async def test_late_ack_for_an_earlier_message_is_skipped(
    protocol: str, socket_enabled: None
) -> None:
    """An ACK for sequence 41 (a repetition's late answer) does not confirm message 42."""
    async with peer(protocol, lambda _: [ack(41), ack(42)]) as p:
        reply = await send(protocol, p.port).send(SiaEvent("BA"), 42)
    assert reply.seq == 42


@PROTOCOLS
async def test_only_a_late_ack_is_a_timeout(protocol: str, socket_enabled: None) -> None:
    async with peer(protocol, lambda _: [ack(41)]) as p:
        with pytest.raises(SiaTimeoutError):
            await send(protocol, p.port, timeout=0.5).send(SiaEvent("BA"), 42)


@PROTOCOLS
async def test_silence_is_a_timeout(protocol: str, socket_enabled: None) -> None:
    async with peer(protocol, lambda _: []) as p:
        started = time.monotonic()
        with pytest.raises(SiaTimeoutError):
            await send(protocol, p.port, timeout=0.4).send(SiaEvent("BA"), 1)
        assert time.monotonic() - started < 4  # the timeout bounds the whole attempt
        assert len(p.received) == 1  # sent once: one call is one attempt


@PROTOCOLS
async def test_garbage_answer_is_a_protocol_error(protocol: str, socket_enabled: None) -> None:
    async with peer(protocol, lambda _: [b"\nHELLO THERE\r"]) as p:
        with pytest.raises(SiaProtocolError):
            await send(protocol, p.port).send(SiaEvent("BA"), 1)


@PROTOCOLS
async def test_unencrypted_ack_does_not_confirm_an_encrypted_report(
    protocol: str, socket_enabled: None
) -> None:
    """Anyone on the path can forge a clear ACK; an encrypted report needs an "*ACK"."""
    link = SiaLink("1234", key=bytes(16))
    async with peer(protocol, lambda _: [ack(1)]) as p:
        with pytest.raises(SiaProtocolError, match="unencrypted ACK"):
            await send(protocol, p.port, link).send(SiaEvent("PA"), 1)


async def test_answer_in_pieces(socket_enabled: None) -> None:
    frame = ack(5)
    async with peer("tcp", lambda _: [frame[:7], frame[7:20], frame[20:]]) as p:
        assert (await send("tcp", p.port).send(SiaEvent("BA"), 5)).seq == 5


async def test_two_answers_in_one_read(socket_enabled: None) -> None:
    async with peer("tcp", lambda _: [ack(4) + ack(5)]) as p:
        assert (await send("tcp", p.port).send(SiaEvent("BA"), 5)).seq == 5


async def test_bare_nak_without_a_frame_is_read_at_once(socket_enabled: None) -> None:
    """pysiaalarm answers an unknown account with `"NAK"` and no CR, then waits."""
    async with peer("tcp", lambda _: [b'"NAK"']) as p:
        started = time.monotonic()
        with pytest.raises(SiaNakError):
            await send("tcp", p.port, timeout=20).send(SiaEvent("BA"), 5)
        assert time.monotonic() - started < 10  # not the timeout


async def test_connection_closed_without_an_answer(socket_enabled: None) -> None:
    async with peer("tcp", lambda _: [], close_after=True) as p:
        with pytest.raises(SiaConnectionError, match="without an answer"):
            await send("tcp", p.port).send(SiaEvent("BA"), 1)


async def test_endless_answer_is_cut_off(socket_enabled: None) -> None:
    async with peer("tcp", lambda _: [b"\n" + b"A" * 5000]) as p:
        with pytest.raises(SiaProtocolError, match="too long"):
            await send("tcp", p.port).send(SiaEvent("BA"), 1)


async def test_nobody_listening(socket_enabled: None) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for protocol in ("tcp", "udp"):
        with pytest.raises(SiaConnectionError):
            await send(protocol, port).send(SiaEvent("BA"), 1)


async def test_tcp_uses_a_connection_per_message(socket_enabled: None) -> None:
    connections = 0

    def answer(frame: bytes) -> list[bytes]:
        nonlocal connections
        connections += 1
        return [ack(int(frame[18:22]))]  # LF, CRC, 0LLL, "SIA-DCS", seq

    async with peer("tcp", answer) as p:
        sender = send("tcp", p.port)
        for seq in (1, 2, 3):
            assert (await sender.send(SiaEvent("RP"), seq)).seq == seq
    assert connections == 3


def test_invalid_sender() -> None:
    with pytest.raises(ValueError, match="protocol"):
        SiaSender("127.0.0.1", 1, "sctp", SiaLink("1234"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout"):
        SiaSender("127.0.0.1", 1, "tcp", SiaLink("1234"), timeout=0)


SEOUL = ZoneInfo("Asia/Seoul")
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)


@pytest.mark.parametrize(
    ("receiver_time", "zone", "expected"),
    [
        (datetime(2026, 11, 30, 3, 5, tzinfo=UTC), None, [5 * MINUTE]),
        (datetime(2026, 11, 30, 2, 55, tzinfo=UTC), None, [-5 * MINUTE]),
        # Seoul's wall clock (UTC+9) written as if it were UTC: read as Seoul time first.
        (datetime(2026, 11, 30, 12, 5, tzinfo=UTC), SEOUL, [5 * MINUTE, 9 * HOUR + 5 * MINUTE]),
        # A UTC stamp from a receiver when our zone is Seoul: the nearer reading first.
        (
            datetime(2026, 11, 30, 3, 0, 30, tzinfo=UTC),
            SEOUL,
            [timedelta(seconds=30), timedelta(seconds=30) - 9 * HOUR],
        ),
        # Our clock 5 hours behind a UTC receiver: the wrong reading is nearer, both come.
        (datetime(2026, 11, 30, 8, 0, tzinfo=UTC), SEOUL, [-4 * HOUR, 5 * HOUR]),
    ],
)
def test_receiver_clock_offsets(
    receiver_time: datetime, zone: tzinfo | None, expected: list[timedelta]
) -> None:
    ours = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    assert receiver_clock_offsets(receiver_time, ours, zone) == expected
