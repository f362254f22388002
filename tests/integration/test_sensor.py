"""Battery sensors follow the devices' batteries."""

from __future__ import annotations

from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    PERCENTAGE,
    STATE_UNAVAILABLE,
    EntityCategory,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.conftest import Control
from tests.integration.common import wait_for_state


async def test_batteries(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Battery-powered devices have a diagnostic battery sensor; the mains camera has none."""
    expected = {
        "sensor.front_door_doorbell_battery": "95",
        "sensor.front_door_lock_battery": "86",
        "sensor.emergency_bell_battery": "100",
    }
    for entity_id, level in expected.items():
        state = hass.states.get(entity_id)
        assert state is not None, entity_id
        assert state.state == level
        assert state.attributes[ATTR_DEVICE_CLASS] == "battery"
        assert state.attributes[ATTR_UNIT_OF_MEASUREMENT] == PERCENTAGE
        entry = entity_registry.async_get(entity_id)
        assert entry is not None
        assert entry.entity_category is EntityCategory.DIAGNOSTIC
    assert hass.states.get("sensor.home_camera_battery") is None


async def test_battery_follows_device(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """A draining battery shows its new level; an offline device's battery is unavailable."""
    await control.post("/devices/lock-1/battery", {"level": 9})
    await wait_for_state(hass, "sensor.front_door_lock_battery", "9")
    await control.post("/devices/lock-1/online", {"online": False})
    await wait_for_state(hass, "sensor.front_door_lock_battery", STATE_UNAVAILABLE)
    await control.post("/devices/lock-1/online", {"online": True})
    await wait_for_state(hass, "sensor.front_door_lock_battery", "9")
