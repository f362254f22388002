"""Fixtures: the control-centre emulator on free loopback ports, and an HTTP session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import aiohttp
import pytest

from control_centre_emulator import ControlCentre
from custom_components.seoul_safehome.sia import SiaEvent, SiaLink, SiaReply, SiaSender

type MakeCentre = Callable[..., Awaitable[ControlCentre]]


@pytest.fixture
async def make_centre(socket_enabled: None) -> AsyncIterator[MakeCentre]:
    """Start control centres (`port=0`, page on a free port); all stopped at the end."""
    async with AsyncExitStack() as stack:

        async def make(*args: Any, **kwargs: Any) -> ControlCentre:
            centre = ControlCentre(*args, **({"port": 0, "page_port": 0} | kwargs))
            return await stack.enter_async_context(centre)

        yield make


@pytest.fixture
async def centre(make_centre: MakeCentre) -> ControlCentre:
    """A centre for account 1234, unencrypted, TCP and UDP."""
    return await make_centre()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP session for the page and its JSON."""
    async with aiohttp.ClientSession() as http:
        yield http


async def report(
    centre: ControlCentre,
    event: SiaEvent,
    seq: int,
    *,
    protocol: str = "tcp",
    account: str = "1234",
    key: bytes | None = None,
    timeout: float = 5.0,
) -> SiaReply:
    """Send one report to `centre` with the integration's sender."""
    link = SiaLink(account, key=key)
    sender = SiaSender("127.0.0.1", centre.port, protocol, link, timeout)  # type: ignore[arg-type]
    return await sender.send(event, seq)
