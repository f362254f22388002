"""The auto-lock delay: the lock's own setting, read and written through the hub."""

from __future__ import annotations

from homeassistant.components.number import (
    ATTR_MAX,
    ATTR_MIN,
    ATTR_STEP,
    ATTR_VALUE,
    DOMAIN as NUMBER_DOMAIN,
    SERVICE_SET_VALUE,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
    EntityCategory,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.conftest import Control
from tests.integration.common import wait_for_state

DELAY = "number.front_door_lock_auto_lock_delay"


async def _set(hass: HomeAssistant, value: float) -> None:
    await hass.services.async_call(
        NUMBER_DOMAIN, SERVICE_SET_VALUE, {ATTR_ENTITY_ID: DELAY, ATTR_VALUE: value}, blocking=True
    )


async def test_auto_lock_delay_entity(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """The delay shows the lock's setting, 0-30 s in 0.1 s steps, as a configuration entity."""
    state = hass.states.get(DELAY)
    assert state is not None
    assert state.state == "2.5"
    assert state.attributes[ATTR_MIN] == 0
    assert state.attributes[ATTR_MAX] == 30
    assert state.attributes[ATTR_STEP] == 0.1
    assert state.attributes[ATTR_UNIT_OF_MEASUREMENT] == UnitOfTime.SECONDS
    entry = entity_registry.async_get(DELAY)
    assert entry is not None
    assert entry.entity_category is EntityCategory.CONFIG
    assert entry.translation_key == "auto_lock_delay"


@pytest.mark.parametrize("value", [0, 0.7, 30])
async def test_set_auto_lock_delay(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control, value: float
) -> None:
    """A new delay is sent to the lock, which then reports it (0 = lock at once)."""
    await _set(hass, value)
    await wait_for_state(hass, DELAY, str(float(value)))
    assert (await control.device("lock-1"))["state"]["auto_lock_delay"] == value
    [command] = await control.commands()
    assert command["command"] == "set_auto_lock_delay"
    assert command["params"] == {"seconds": value}


async def test_out_of_range_delay_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """A delay over 30 s never reaches the lock."""
    with pytest.raises(ServiceValidationError):
        await _set(hass, 31)
    assert await control.commands() == []
    assert hass.states.get(DELAY).state == "2.5"


async def test_offline_lock(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """The delay is unavailable while the lock is unreachable."""
    await control.post("/devices/lock-1/online", {"online": False})
    await wait_for_state(hass, DELAY, STATE_UNAVAILABLE)
    await control.post("/devices/lock-1/online", {"online": True})
    await wait_for_state(hass, DELAY, "2.5")
