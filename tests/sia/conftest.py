"""Fixtures: pysiaalarm, the receiver library of Home Assistant's `sia` integration, as the
receiving centre, over real loopback TCP and UDP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

from pysiaalarm.account import SIAAccount
from pysiaalarm.aio.client import SIAClient, SIAClientTCP, SIAClientUDP
from pysiaalarm.event import SIAEvent
from pysiaalarm.utils.enums import CommunicationsProtocol
import pytest


@dataclass
class Receiver:
    """A running pysiaalarm receiver and the events it acknowledged (and handed over)."""

    protocol: str
    accounts: list[SIAAccount]
    port: int = 0
    events: list[SIAEvent] = field(default_factory=list)
    client: SIAClient | None = None
    baseline: set[asyncio.Task[object]] = field(default_factory=set)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        """Listen on `port` (0: a free one, remembered for a restart)."""

        async def acknowledged(event: SIAEvent) -> None:
            self.events.append(event)
            self.arrived.set()

        self.baseline = asyncio.all_tasks()
        proto = CommunicationsProtocol[self.protocol.upper()]
        client = SIAClient("127.0.0.1", self.port, self.accounts, acknowledged, protocol=proto)  # type: ignore[abstract]
        await client.async_start()
        if isinstance(client, SIAClientTCP):
            assert client.server is not None
            self.port = client.server.sockets[0].getsockname()[1]
        else:
            assert isinstance(client, SIAClientUDP)
            assert client.transport is not None
            self.port = client.transport.get_extra_info("sockname")[1]
        self.client = client

    async def stop(self) -> None:
        """Close the port and let pysiaalarm's connection tasks end."""
        client, self.client = self.client, None
        if client is None:
            return
        await client.async_stop()
        # pysiaalarm's connection handlers (and UDP callbacks) end soon after.
        ours = asyncio.all_tasks() - self.baseline - {asyncio.current_task()}
        if ours:
            await asyncio.wait(ours, timeout=5)

    async def wait_for_events(self, count: int, timeout: float = 5.0) -> list[SIAEvent]:
        """Wait until pysiaalarm has handed over `count` events."""
        async with asyncio.timeout(timeout):
            while len(self.events) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.events


type StartReceiver = Callable[..., Awaitable[Receiver]]


@pytest.fixture
async def start_receiver(socket_enabled: None) -> AsyncIterator[StartReceiver]:
    """Start pysiaalarm receivers: `await start_receiver("tcp", [SIAAccount(...)])`."""
    async with AsyncExitStack() as stack:

        async def start(protocol: str, accounts: list[SIAAccount]) -> Receiver:
            receiver = Receiver(protocol, accounts)
            await receiver.start()
            stack.push_async_callback(receiver.stop)
            return receiver

        yield start
