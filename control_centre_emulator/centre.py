"""The control centre: a SIA DC-09 receiver (pysiaalarm) that keeps a list of reports.

`ControlCentre` runs pysiaalarm's receiver for one account, over TCP, UDP or both on the
same port number, plus an optional web page (`web.py`). Tests drive its switches:
`refuse` (answer every message with a NAK), `mute` (read messages, answer nothing) and
`go_down()`/`go_up()` (close and reopen the receiver's port).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from datetime import UTC, datetime, timedelta
import itertools
import logging
import re
from typing import Any, Literal

from aiohttp import web
from pysiaalarm.account import SIAAccount
from pysiaalarm.aio.client import SIAClient, SIAClientTCP, SIAClientUDP
from pysiaalarm.event import EventsType, NAKEvent
from pysiaalarm.utils.enums import CommunicationsProtocol

from .receiver import JudgedTCP, JudgedUDP, read_message, verdict
from .reports import Report, Transport
from .web import build_app

_LOGGER = logging.getLogger(__name__)

Protocols = Literal["tcp", "udp", "both"]
KEY_SIZES = (16, 24, 32)
# A retransmission of an acknowledged report is counted, not listed again, this long.
DUPLICATE_WINDOW = timedelta(minutes=10)
BIND_ATTEMPTS = 5
STOP_TIMEOUT = 5.0
_ACCOUNT = re.compile(r"[0-9A-Fa-f]{3,16}")


class ControlCentre:
    """A monitoring centre's receiver for tests and development, built on pysiaalarm.

    `account` is the account it serves (3-16 hex characters); `key` (16, 24 or 32 bytes)
    makes it expect AES-encrypted messages and refuse unencrypted ones. `port=0` picks a
    free port (the same number for TCP and UDP with "both"); `page_port=None` runs no page.
    `time_window` is how far (seconds before, after) a message's time may be from the
    centre's clock. Every message lands in `reports`; `on_report` is called with each new
    report, and with the earlier report when an acknowledged one is repeated.
    """

    def __init__(
        self,
        account: str = "1234",
        key: bytes | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        protocol: Protocols = "both",
        page_host: str = "127.0.0.1",
        page_port: int | None = 0,
        time_window: tuple[int, int] = (40, 20),
    ) -> None:
        """Configure the centre (nothing listens before `start()`)."""
        if not isinstance(account, str) or not _ACCOUNT.fullmatch(account):
            raise ValueError("account must be 3 to 16 hexadecimal characters")
        if key is not None and len(key) not in KEY_SIZES:
            raise ValueError("key must be 16, 24 or 32 bytes (AES-128, -192 or -256)")
        if protocol not in ("tcp", "udp", "both"):
            raise ValueError("protocol must be tcp, udp or both")
        self.account = account.upper()
        self.host = host
        self.protocol: Protocols = protocol
        self.page_host = page_host
        self.time_window = time_window
        self.refuse = False
        self.mute = False
        self.reports: list[Report] = []
        self.on_report: Callable[[Report], None] | None = None
        self._key = key
        self._port = port
        self._page_port = page_port
        self._clients: list[SIAClient] = []
        self._runner: web.AppRunner | None = None
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()

    # --- state -------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The receiver's port (TCP and/or UDP); known once started."""
        return self._port

    @property
    def page_url(self) -> str | None:
        """The page's address, e.g. http://127.0.0.1:8767/ (None without a page)."""
        if self._runner is None or self._page_port is None:
            return None
        host = f"[{self.page_host}]" if ":" in self.page_host else self.page_host
        return f"http://{host}:{self._page_port}/"

    @property
    def up(self) -> bool:
        """Whether the receiver is listening."""
        return bool(self._clients)

    @property
    def encrypted(self) -> bool:
        """Whether the account has a key."""
        return self._key is not None

    def transports(self) -> list[Transport]:
        """Return the transports the receiver listens on."""
        return ["tcp", "udp"] if self.protocol == "both" else [self.protocol]

    def state(self) -> dict[str, Any]:
        """Return the centre's settings and switches (never the key)."""
        return {
            "account": self.account,
            "host": self.host,
            "port": self._port,
            "transports": self.transports(),
            "encryption": f"AES-{len(self._key) * 8}" if self._key else None,
            "up": self.up,
            "refuse": self.refuse,
            "mute": self.mute,
            "time_window": list(self.time_window),
        }

    def clear(self) -> None:
        """Forget every report."""
        self.reports.clear()
        self._changed.set()

    async def wait_for_reports(self, count: int = 1, seconds: float = 5.0) -> list[Report]:
        """Wait until at least `count` reports are listed; return them all."""
        async with asyncio.timeout(seconds):
            while len(self.reports) < count:
                self._changed.clear()
                await self._changed.wait()
        return list(self.reports)

    # --- judging each message --------------------------------------------------------

    def _accounts(self) -> dict[str, SIAAccount]:
        account = SIAAccount(self.account, allowed_timeband=self.time_window)
        account.key_b = self._key  # raw key bytes (pysiaalarm reads a text key as ASCII)
        return {self.account: account}

    def _judge(
        self, data: bytes, event: EventsType | None, transport: Transport
    ) -> EventsType | None:
        """Record a message and return the event to answer with (None: stay silent)."""
        if event is None:  # an empty read
            return None
        now = datetime.now(UTC)
        fields = read_message(data, event, self._accounts())
        answer: EventsType | None = event
        reply = verdict(event)
        if self.mute:
            answer, reply, fields["reason"] = None, "none", "silent (switch)"
        elif self.refuse:
            answer, reply, fields["reason"] = NAKEvent(), "NAK", "refused (switch)"
        elif reply == "ACK" and self._key is not None and not fields.get("encrypted"):
            answer, reply = NAKEvent(), "NAK"
            fields["reason"] = "unencrypted message for an encrypted account"
        report = Report(id=0, received=now, transport=transport, reply=reply, **fields)
        if reply == "ACK" and (earlier := self._delivered(report, now)) is not None:
            earlier.repeats += 1
            earlier.last_received = now
            report = earlier
        else:
            report.id = next(self._ids)
            self.reports.append(report)
        _LOGGER.debug("Report #%d: %s", report.id, report.summary())
        if self.on_report is not None:
            self.on_report(report)
        self._changed.set()
        return answer

    def _delivered(self, report: Report, now: datetime) -> Report | None:
        """Return the acknowledged report that `report` repeats, if any (recent ones only)."""
        for earlier in reversed(self.reports):
            if now - (earlier.last_received or earlier.received) > DUPLICATE_WINDOW:
                return None
            if earlier.reply == "ACK" and earlier.same_delivery(report):
                return earlier
        return None

    # --- lifecycle ---------------------------------------------------------------

    async def _start_one(self, transport: Transport, port: int) -> tuple[SIAClient, int]:
        protocol = CommunicationsProtocol.TCP if transport == "tcp" else CommunicationsProtocol.UDP
        # pysiaalarm picks the TCP or UDP subclass from `protocol`.
        client = SIAClient(self.host, port, [], _noop, protocol=protocol)  # type: ignore[abstract]
        accounts = self._accounts()
        client.sia_server = (
            JudgedTCP(accounts, self._judge)
            if transport == "tcp"
            else JudgedUDP(accounts, self._judge)
        )
        await client.async_start()
        if isinstance(client, SIAClientTCP) and client.server is not None:
            return client, int(client.server.sockets[0].getsockname()[1])
        if isinstance(client, SIAClientUDP) and client.transport is not None:
            return client, int(client.transport.get_extra_info("sockname")[1])
        raise OSError("the receiver did not start")  # pragma: no cover

    async def go_up(self) -> None:
        """Open the receiver's port(s) (a no-op when up)."""
        if self._clients:
            return
        for attempt in range(BIND_ATTEMPTS):
            port = self._port
            try:
                for transport in self.transports():
                    client, port = await self._start_one(transport, port)
                    self._clients.append(client)
            except OSError:
                await self.go_down()
                if self._port or attempt == BIND_ATTEMPTS - 1:
                    raise
                continue  # port 0: TCP got a number whose UDP twin is taken; draw again
            self._port = port
            return

    async def go_down(self) -> None:
        """Close the receiver's port(s) and drop open connections (senders see it down)."""
        clients, self._clients = self._clients, []
        for client in clients:
            connections: set[asyncio.Task[Any]] = set()
            if isinstance(client, SIAClientTCP) and client.server is not None:
                if isinstance(client.sia_server, JudgedTCP):
                    connections = set(client.sia_server.connections)
                client.server.close()
                client.server.close_clients()
            with contextlib.suppress(OSError):
                await client.async_stop()
            if connections:  # let pysiaalarm's connection handlers finish closing
                await asyncio.wait(connections, timeout=STOP_TIMEOUT)
        await asyncio.sleep(0)  # and its UDP callback tasks

    async def start(self) -> None:
        """Start the receiver and the page."""
        await self.go_up()
        if self._page_port is not None:
            runner = web.AppRunner(build_app(self), access_log=None)
            await runner.setup()
            try:
                site = web.TCPSite(runner, self.page_host, self._page_port)
                await site.start()
            except OSError:
                await runner.cleanup()
                await self.go_down()
                raise
            self._runner = runner
            self._page_port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop the page and the receiver."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.go_down()

    async def __aenter__(self) -> ControlCentre:
        """Start, as an async context manager."""
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop."""
        await self.stop()


async def _noop(_event: Any) -> None:
    """Ignore acknowledged events: the judged servers have recorded them already."""
