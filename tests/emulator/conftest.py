"""Fixtures for the emulator's tests: emulators, an HTTPS session, a paired client.

The emulator and control fixtures are defined here (not taken from tests/conftest.py) so
that these tests depend on the emulator alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import aiohttp
import pytest

from safehome_emulator import Emulator
from tests.conftest import PAIRING_CODE, Control

from .helpers import HubClient

type MakeEmulator = Callable[..., Awaitable[Emulator]]

# Both servers on free loopback ports; the fixed code is a development setting.
SETTINGS: dict[str, Any] = {
    "host": "127.0.0.1",
    "port": 0,
    "pairing_code": PAIRING_CODE,
    "control": True,
    "control_port": 0,
    "zeroconf": False,
}


@asynccontextmanager
async def running_emulator(**overrides: Any) -> AsyncIterator[Emulator]:
    """Run an emulator (the default Seoul kit) with the test settings and `overrides`."""
    emu = Emulator(**(SETTINGS | overrides))
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture
async def emulator(socket_enabled: None) -> AsyncIterator[Emulator]:
    """Run a SafeHome emulator with the default Seoul kit."""
    async with running_emulator() as emu:
        yield emu


@pytest.fixture
async def make_emulator(socket_enabled: None) -> AsyncIterator[MakeEmulator]:
    """Start emulators with overridden settings (all stopped at the end)."""
    async with AsyncExitStack() as stack:

        async def make(**overrides: Any) -> Emulator:
            return await stack.enter_async_context(running_emulator(**overrides))

        yield make


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client session (TLS without verification unless a request pins)."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as session:
        yield session


@pytest.fixture
async def control(emulator: Emulator, session: aiohttp.ClientSession) -> Control:
    """A client for the default emulator's control surface."""
    return Control(session, emulator.control_url)


async def pair_client(
    emulator: Emulator, session: aiohttp.ClientSession, client_name: str = "pytest"
) -> HubClient:
    """Press the pairing button and pair a new client through the API."""
    client = HubClient(session, emulator.url)
    client.token = await client.pair(emulator.open_pairing_window(), client_name)
    assert client.fingerprint == emulator.fingerprint
    return client


@pytest.fixture
async def client(emulator: Emulator, session: aiohttp.ClientSession) -> HubClient:
    """A client paired with the default emulator."""
    return await pair_client(emulator, session)


async def paired(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession, **overrides: Any
) -> tuple[Emulator, HubClient, Control]:
    """Start a custom emulator and return it with a paired client and its control."""
    emulator = await make_emulator(**overrides)
    client = await pair_client(emulator, session)
    return emulator, client, Control(session, emulator.control_url)
