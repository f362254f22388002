"""Shared fixtures: a real SafeHome emulator on loopback and its control surface."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
import logging
from pathlib import Path
from typing import Any

import aiohttp
from homeassistant.core import HomeAssistant
import pytest

from safehome_emulator import Emulator

PAIRING_CODE = "123456"


class _DeprecatedUse(logging.Handler):
    """Collect Home Assistant's reports of this integration's deprecated use."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reports: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "seoul_safehome" in message and (
            "custom integration 'seoul_safehome'" in message  # frame.report_usage
            or "deprecat" in message.lower()  # helpers.deprecation: "deprecated ... used from"
        ):
            self.reports.append(message)


@pytest.fixture(autouse=True)
def no_deprecated_use() -> Iterator[None]:
    """Fail any test in which Home Assistant reports this integration's deprecated use.

    Home Assistant logs "Detected that custom integration 'seoul_safehome' ..." (its
    `frame.report_usage`) or "The deprecated ... was used from seoul_safehome" (its
    `helpers.deprecation`) for an API it will remove, once per integration and run; the
    newest-release lane would show it first. (DeprecationWarnings raised from our
    modules are errors: pyproject.toml.) A handler of its own, not `caplog` (which sets
    every test's logging to debug).
    """
    handler = _DeprecatedUse()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
    assert not handler.reports, handler.reports


class Control:
    """Drive the emulator's control surface (physical events and faults) over HTTP."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        """Bind to an emulator's base URL."""
        self._session = session
        self._base = base_url

    async def request(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """Send one control request and return its JSON answer (raises on non-2xx)."""
        async with self._session.request(method, f"{self._base}/control{path}", json=body) as r:
            data = await r.json()
            assert r.status < 300, f"{method} {path} -> {r.status}: {data}"
            return data

    async def post(self, path: str, body: Any = None) -> dict[str, Any]:
        """POST to a control endpoint."""
        return await self.request("POST", path, body)

    async def get(self, path: str) -> dict[str, Any]:
        """GET a control endpoint."""
        return await self.request("GET", path)

    async def device(self, device_id: str) -> dict[str, Any]:
        """Return one device as the emulator sees it."""
        state = await self.get("/state")
        return next(d for d in state["devices"] if d["id"] == device_id)

    async def commands(self) -> list[dict[str, Any]]:
        """Return the emulator's log of received commands."""
        return (await self.get("/log"))["commands"]


def pinned(emulator: Emulator) -> aiohttp.Fingerprint:
    """What aiohttp needs to talk to the emulator's API: its certificate's fingerprint."""
    return aiohttp.Fingerprint(bytes.fromhex(emulator.fingerprint))


@asynccontextmanager
async def running_emulator(**overrides: Any) -> AsyncIterator[Emulator]:
    """Run an emulator (the default Seoul kit) on free loopback ports, control surface on.

    The pairing code is the fixed development one (the window still has to be opened).
    """
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "pairing_code": PAIRING_CODE,
        "control": True,
        "control_port": 0,
        "zeroconf": False,
    }
    emu = Emulator(**(settings | overrides))
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    """Emulator settings that a test folder's conftest may override."""
    return {}


@pytest.fixture
async def emulator(
    socket_enabled: None, emulator_options: dict[str, Any]
) -> AsyncIterator[Emulator]:
    """Run a SafeHome emulator with the default Seoul kit on a free loopback port."""
    async with running_emulator(**emulator_options) as emu:
        yield emu


@pytest.fixture
async def control(emulator: Emulator) -> AsyncIterator[Control]:
    """A client for the emulator's control surface."""
    async with aiohttp.ClientSession() as session:
        yield Control(session, emulator.control_url)


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A fresh configuration folder and media folder for this test's Home Assistant."""
    config = tmp_path / "config"
    media = tmp_path / "media"
    config.mkdir()
    media.mkdir()
    hass.config.config_dir = str(config)
    hass.config.media_dirs = {"local": str(media)}
    hass.config.allowlist_external_dirs = {str(media), str(config / "www")}
    return config


@pytest.fixture
def media_dir(config_dir: Path) -> Path:
    """The media folder (what Home Assistant serves as /media/local)."""
    return config_dir.parent / "media"
