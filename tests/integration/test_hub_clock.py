"""A hub whose clock is wrong (no NTP): late events are still told from live ones."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.const import STATE_OFF
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.seoul_safehome.event import ATTR_DELAYED
from tests.conftest import Control
from tests.integration.common import until, wait_for_state
from tests.integration.test_truth import CONNECTIVITY, RING, record_states, until_fired


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    """Heartbeats every 0.2 s, so the hub's clock is measured at once."""
    return {"heartbeat": 0.2}


async def skew_hub_clock(control: Control, entry: MockConfigEntry, seconds: float) -> None:
    """Set the hub's clock off and wait until Home Assistant has measured it."""
    await control.post("/clock", {"skew": seconds})
    stream = entry.runtime_data.coordinator.stream
    await until(
        lambda: abs(stream.clock_offset - timedelta(seconds=seconds)) < timedelta(seconds=1)
    )


async def test_a_live_ring_from_a_hub_behind_is_not_late(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """The hub's clock is 5 minutes behind: a ring now is still a ring now."""
    await skew_hub_clock(control, init_integration, -300)
    written = record_states(hass, RING)
    await control.post("/devices/doorbell-1/ring")
    ring = await until_fired(written, 1)
    assert ring.attributes[ATTR_DELAYED] is False


async def test_a_replayed_ring_from_a_hub_ahead_is_late(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """The hub's clock is 5 minutes ahead: a ring replayed 4 s late is still late."""
    await skew_hub_clock(control, init_integration, 300)
    written = record_states(hass, RING)
    await control.post("/stream/pause", {"seconds": 4})
    await control.post("/stream/drop")
    await wait_for_state(hass, CONNECTIVITY, STATE_OFF)
    await control.post("/devices/doorbell-1/ring")
    ring = await until_fired(written, 1, timeout=15)
    assert ring.attributes[ATTR_DELAYED] is True
