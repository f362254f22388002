"""Fixtures for the Home Assistant integration tests: a real hub (the emulator) on loopback."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.seoul_safehome.const import CONF_FINGERPRINT, DOMAIN
from safehome_emulator import Emulator
from tests.conftest import pinned
from tests.integration.common import until


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from custom_components/."""


@pytest.fixture(autouse=True)
def isolated_config_dir(config_dir: Path) -> None:
    """Give each test its own configuration folder (the blueprints are installed there)."""


@pytest.fixture
async def hub_info(emulator: Emulator) -> dict:
    """The emulator's public hub info (GET /api/v2/info, over its pinned TLS)."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{emulator.api_url}/info", ssl=pinned(emulator)) as resp,
    ):
        return await resp.json()


@pytest.fixture
def token(emulator: Emulator) -> str:
    """A bearer token for Home Assistant (pairing itself is tested in test_config_flow)."""
    return emulator.issue_token("tests")


@pytest.fixture
def mock_config_entry(emulator: Emulator, hub_info: dict, token: str) -> MockConfigEntry:
    """A config entry for the emulator's hub, paired: token and certificate fingerprint."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=hub_info["name"],
        unique_id=hub_info["id"],
        data={
            CONF_HOST: "127.0.0.1",
            CONF_PORT: emulator.port,
            CONF_TOKEN: token,
            CONF_FINGERPRINT: emulator.fingerprint,
        },
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> MockConfigEntry:
    """Set the integration up against the emulator; wait until it is in sync with the hub."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    await until(lambda: mock_config_entry.runtime_data.coordinator.in_sync)
    await hass.async_block_till_done()
    return mock_config_entry
