"""Fixtures for the emulator's tests: custom emulators, an HTTP session, a paired client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import aiohttp
import pytest

from safehome_emulator import Emulator
from tests.conftest import PAIRING_CODE, Control, running_emulator

from .helpers import HubClient

type MakeEmulator = Callable[..., Awaitable[Emulator]]


@pytest.fixture
async def make_emulator(socket_enabled: None) -> AsyncIterator[MakeEmulator]:
    """Start emulators with overridden settings (all stopped at the end)."""
    async with AsyncExitStack() as stack:

        async def make(**overrides: Any) -> Emulator:
            return await stack.enter_async_context(running_emulator(**overrides))

        yield make


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client session."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def client(emulator: Emulator, session: aiohttp.ClientSession) -> HubClient:
    """A client paired with the default emulator."""
    client = HubClient(session, emulator.url)
    client.token = await client.pair(PAIRING_CODE)
    return client


async def paired(
    make_emulator: MakeEmulator, session: aiohttp.ClientSession, **overrides: Any
) -> tuple[Emulator, HubClient, Control]:
    """Start a custom emulator and return it with a paired client and its control."""
    emulator = await make_emulator(**overrides)
    client = HubClient(session, emulator.url)
    client.token = await client.pair(PAIRING_CODE)
    return emulator, client, Control(session, emulator.url)
