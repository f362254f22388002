"""Send one DC-09 report to a receiver over TCP or UDP and wait for its answer.

One `send()` is one attempt: it never retries. The caller owns the sequence number and
the retry policy (DC-09: repeat the same sequence number until an ACK). Each call builds
a fresh frame (current time, new pad), so a repetition is never a stale or replayed copy.

TCP: a new connection per message, closed after the answer. Nothing then has to notice a
half-dead kept connection (a receiver restart, a NAT timeout) before the next alarm;
DC-09 allows both. UDP: one datagram per message from a fresh socket connected to the
receiver, so only the receiver's answers are read (a refused port is reported at once).

A receiver refuses (NAK) a message stamped too far from its own clock, and puts its time
in the NAK. `send_on_receiver_time()` then stamps the message with the receiver's clock
and sends it once more (DC-09 6.4.1.1): a report is not lost to a badly set clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
import logging
from typing import Literal

from .errors import (
    SiaConnectionError,
    SiaDuhError,
    SiaError,
    SiaNakError,
    SiaProtocolError,
    SiaTimeoutError,
)
from .frame import REPLY_MAX, build_frame, parse_reply
from .models import SiaEvent, SiaLink, SiaReply

_LOGGER = logging.getLogger(__name__)

Protocol = Literal["tcp", "udp"]
_BARE_REPLIES = (b'"NAK"', b'"DUH"')
# How far (seconds) an encrypted ACK's time may be from the message's: a lenient window
# against a replayed recording, wide enough for a receiver's drifting clock.
ACK_WINDOW = 600.0
# A NAK's time this far from the message's says the clocks differ (not the key or account).
CLOCK_TOLERANCE = timedelta(seconds=5)


def receiver_clock_offsets(
    receiver_time: datetime, ours: datetime, zone: tzinfo | None = None
) -> list[timedelta]:
    """How far the receiver's clock may be ahead of ours, read from the time in its NAK.

    DC-09 stamps in UTC; a receiver may stamp its zone's wall clock instead (pysiaalarm
    does), so with a zone there are two readings: the nearer one first.
    """
    readings = [receiver_time - ours.astimezone(UTC)]
    if zone is not None:
        local = receiver_time - ours.astimezone(zone).replace(tzinfo=UTC)
        if local != readings[0]:
            readings.append(local)
    return sorted(readings, key=abs)


def _fresh(stamp: datetime, sent: datetime, window: float, zone: tzinfo | None) -> bool:
    """Whether an ACK's time is within `window` of the send time.

    DC-09 stamps in UTC; pysiaalarm stamps in its account's time zone, so the send time's
    wall clock in `zone` (the home's, where the centre usually is) is accepted too.
    """
    wall_clocks = [sent.astimezone(UTC)]
    if zone is not None:
        wall_clocks.append(sent.astimezone(zone).replace(tzinfo=UTC))
    return any(abs((stamp - clock).total_seconds()) <= window for clock in wall_clocks)


def _settle(
    reply: SiaReply, seq: int, sent: datetime, window: float, zone: tzinfo | None
) -> SiaReply | None:
    """Return the ACK for `seq`, raise for a NAK/DUH for it, None for another message's."""
    if reply.seq is not None and reply.seq != seq:
        return None  # a late answer to an earlier message: keep waiting
    if (
        reply.kind == "ACK"
        and reply.encrypted
        and reply.timestamp is not None
        and not _fresh(reply.timestamp, sent, window, zone)
    ):
        _LOGGER.debug("Skipped an encrypted ACK for seq %04d stamped %s", seq, reply.timestamp)
        return None  # a replayed (recorded) ACK: not this message's
    if reply.kind == "NAK":
        raise SiaNakError("the receiver refused the message (NAK)", reply.timestamp)
    if reply.kind == "DUH":
        raise SiaDuhError("the receiver could not process the message (DUH)")
    return reply


class _Datagrams(asyncio.DatagramProtocol):
    """Queue what a connected UDP socket receives, and its errors (refused port)."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | Exception] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.queue.put_nowait(data)

    def error_received(self, exc: Exception) -> None:
        self.queue.put_nowait(exc)


@dataclass(frozen=True, slots=True)
class SiaSender:
    """Send reports for `link` to the receiver at `host`:`port` over `protocol`."""

    host: str
    port: int
    protocol: Protocol
    link: SiaLink
    timeout: float = 10.0
    # The time zone whose wall clock a receiver may stamp its ACKs with (see `_fresh`).
    zone: tzinfo | None = None
    ack_window: float = ACK_WINDOW

    def __post_init__(self) -> None:
        """Validate the protocol and timeout."""
        if self.protocol not in ("tcp", "udp"):
            raise ValueError("protocol must be 'tcp' or 'udp'")
        if not self.timeout > 0:
            raise ValueError("timeout must be positive")

    async def send(self, event: SiaEvent, seq: int, when: datetime | None = None) -> SiaReply:
        """Send `event` as message `seq` (1-9999) once; return the receiver's ACK.

        Raises SiaNakError, SiaDuhError, SiaTimeoutError (no answer within `timeout`,
        which bounds the whole attempt), SiaConnectionError or SiaProtocolError (an answer
        that is not DC-09, or an ACK that does not decrypt with the key): all SiaError.
        `when` (timezone-aware) defaults to now. An encrypted ACK stamped more than
        `ack_window` seconds from `when` is not taken for this message's (a replay).
        """
        sent = when or datetime.now(UTC)
        frame = build_frame(self.link, event, seq, sent)
        attempt = self._tcp if self.protocol == "tcp" else self._udp
        try:
            async with asyncio.timeout(self.timeout):
                reply = await attempt(frame, seq, sent)
        except TimeoutError as err:
            raise SiaTimeoutError(f"no answer within {self.timeout:g} s") from err
        except SiaError:
            raise
        except OSError as err:
            raise SiaConnectionError(f"receiver unreachable: {err.strerror or err}") from err
        _LOGGER.debug("Report %s seq %04d acknowledged by %s", event.code, seq, self.host)
        return reply

    async def send_on_receiver_time(
        self, event: SiaEvent, seq: int, offset: timedelta = timedelta(0)
    ) -> tuple[SiaReply, timedelta]:
        """Send `event` stamped with our clock + `offset`; return the ACK and the offset.

        A NAK whose time says the receiver's clock is more than CLOCK_TOLERANCE from the
        stamp makes another attempt stamped with the receiver's clock (one per reading of
        it: UTC, then the zone's wall clock); the offset returned is the one the ACK came
        for (keep it for the next message). Raises what `send()` raises.
        """
        ours = datetime.now(UTC)
        try:
            return await self.send(event, seq, ours + offset), offset
        except SiaNakError as err:
            if err.receiver_time is None:
                raise
            refused = err
            readings = receiver_clock_offsets(err.receiver_time, ours, self.zone)
        # Each reading of the receiver's clock that differs from ours, nearer first; none:
        # the clocks agree and the message was refused for another reason (key, account).
        for learnt in readings:
            if abs(learnt - offset) <= CLOCK_TOLERANCE:
                continue
            try:
                reply = await self.send(event, seq, datetime.now(UTC) + learnt)
            except SiaNakError as err:
                refused = err
                continue
            _LOGGER.warning(
                "The receiver at %s is %+.0f s off the clock here; stamping with its time",
                self.host,
                learnt.total_seconds(),
            )
            return reply, learnt
        raise refused

    def _settle(self, data: bytes, seq: int, sent: datetime) -> SiaReply | None:
        return _settle(parse_reply(data, self.link), seq, sent, self.ack_window, self.zone)

    async def _tcp(self, frame: bytes, seq: int, sent: datetime) -> SiaReply:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(frame)
            await writer.drain()
            buffer = b""
            while True:
                chunk = await reader.read(REPLY_MAX)
                if not chunk:
                    raise SiaConnectionError("the receiver closed the connection without an answer")
                buffer += chunk
                while (end := buffer.find(b"\r")) >= 0 or buffer.strip() in _BARE_REPLIES:
                    if end < 0:
                        end = len(buffer)
                    line, buffer = buffer[: end + 1], buffer[end + 1 :]
                    if line.strip(b"\r\n"):
                        settled = self._settle(line, seq, sent)
                        if settled is not None:
                            return settled
                if len(buffer) > REPLY_MAX:
                    raise SiaProtocolError("reply too long")
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _udp(self, frame: bytes, seq: int, sent: datetime) -> SiaReply:
        loop = asyncio.get_running_loop()
        transport, datagrams = await loop.create_datagram_endpoint(
            _Datagrams, remote_addr=(self.host, self.port)
        )
        try:
            transport.sendto(frame)
            while True:
                item = await datagrams.queue.get()
                if isinstance(item, Exception):
                    raise SiaConnectionError(f"receiver unreachable: {item}") from item
                settled = self._settle(item, seq, sent)
                if settled is not None:
                    return settled
        finally:
            transport.close()
