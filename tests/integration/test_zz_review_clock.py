"""Review scratch: a live ring before the first heartbeat, from a hub whose clock is behind."""
from __future__ import annotations

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.seoul_safehome.event import ATTR_DELAYED
from tests.conftest import Control
from tests.integration.common import until
from tests.integration.test_truth import RING, record_states, until_fired


async def test_live_ring_right_after_setup_from_hub_behind_is_not_late(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, control: Control
) -> None:
    await control.post("/clock", {"skew": -300})  # hub without NTP, 5 min behind
    try:
        mock_config_entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()
        await until(lambda: mock_config_entry.runtime_data.coordinator.in_sync)
        written = record_states(hass, RING)
        await control.post("/devices/doorbell-1/ring")  # someone rings NOW
        live = await until_fired(written, 1)
        assert live.attributes[ATTR_DELAYED] is False, live.attributes
    finally:
        await control.post("/clock", {"skew": 0})
