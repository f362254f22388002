"""Review scratch: a ring on a device added while HA was not connected."""
from __future__ import annotations

import asyncio

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.conftest import Control
from tests.integration.common import until


def ring_entity(hass: HomeAssistant, entry: MockConfigEntry, device_id: str) -> str | None:
    hub_id = entry.unique_id
    return er.async_get(hass).async_get_entity_id("event", "seoul_safehome", f"{hub_id}_{device_id}_ring")


async def test_ring_on_device_added_during_outage(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    coordinator = init_integration.runtime_data.coordinator
    await control.post("/stream/pause", {"seconds": 2})
    await control.post("/stream/drop")
    await until(lambda: not coordinator.link_up)
    await control.post("/devices", {"id": "bell-9", "type": "doorbell", "name": "Back door"})
    await control.post("/devices/bell-9/ring")
    await until(lambda: coordinator.in_sync, timeout=10)
    await hass.async_block_till_done()
    await asyncio.sleep(0.5)
    entity_id = ring_entity(hass, init_integration, "bell-9")
    assert entity_id is not None
    state = hass.states.get(entity_id)
    print("STATE", state)
    assert state.state not in (STATE_UNKNOWN, STATE_UNAVAILABLE), state


async def test_ring_right_after_device_added_live(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    coordinator = init_integration.runtime_data.coordinator
    await control.post("/stream/pause", {"seconds": 0.5})
    await control.post("/devices", {"id": "bell-9", "type": "doorbell", "name": "Back door"})
    await control.post("/devices/bell-9/ring")
    await asyncio.sleep(1.5)
    await hass.async_block_till_done()
    assert coordinator.in_sync
    entity_id = ring_entity(hass, init_integration, "bell-9")
    assert entity_id is not None
    state = hass.states.get(entity_id)
    print("STATE", state)
    assert state.state not in (STATE_UNKNOWN, STATE_UNAVAILABLE), state
