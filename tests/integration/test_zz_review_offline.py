"""Review scratch: a ring replayed after an outage, the doorbell went offline after ringing."""
from __future__ import annotations

import asyncio

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.conftest import Control
from tests.integration.common import until, wait_for_state
from tests.integration.test_truth import RING, fired, record_states


async def test_live_ring_then_offline_is_seen(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """Baseline: live, the ring is shown before the bell goes offline."""
    written = record_states(hass, RING)
    await control.post("/devices/doorbell-1/ring")
    await control.post("/devices/doorbell-1/online", {"online": False})
    await wait_for_state(hass, RING, STATE_UNAVAILABLE)
    assert len(fired(written)) == 1


async def test_replayed_ring_then_offline_is_seen(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """Same two hub events, but during a 2 s outage: the ring must still be fired once."""
    coordinator = init_integration.runtime_data.coordinator
    written = record_states(hass, RING)
    await control.post("/stream/pause", {"seconds": 2})
    await control.post("/stream/drop")
    await until(lambda: not coordinator.link_up)
    await control.post("/devices/doorbell-1/ring")
    await control.post("/devices/doorbell-1/online", {"online": False})
    await until(lambda: coordinator.in_sync, timeout=10)
    await asyncio.sleep(0.5)
    print([s.state for s in written])
    assert len(fired(written)) == 1, [s.state for s in written]
