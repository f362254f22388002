"""The hub's away mode switch."""

from __future__ import annotations

from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.seoul_safehome.const import DOMAIN
from tests.conftest import Control
from tests.integration.common import wait_for_state

AWAY = "switch.safehome_hub_away_mode"


async def test_away_mode(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    entity_registry: er.EntityRegistry,
) -> None:
    """Away mode is a switch on the hub device; switching it changes the hub's mode."""
    state = hass.states.get(AWAY)
    assert state is not None
    assert state.state == STATE_OFF
    entry = entity_registry.async_get(AWAY)
    assert entry is not None
    device = dr.async_get(hass).async_get(entry.device_id)
    assert device is not None
    assert device.identifiers == {(DOMAIN, "shub-demo01")}

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: AWAY}, blocking=True
    )
    await wait_for_state(hass, AWAY, STATE_ON)
    assert (await control.get("/state"))["hub"]["away_mode"] is True

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: AWAY}, blocking=True
    )
    await wait_for_state(hass, AWAY, STATE_OFF)
    assert (await control.get("/state"))["hub"]["away_mode"] is False


async def test_away_mode_unavailable_without_hub(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """Away mode is unavailable while the hub is down, and shows the hub's mode after."""
    await control.post("/restart", {"downtime": 0.5})
    await wait_for_state(hass, AWAY, STATE_UNAVAILABLE)
    await wait_for_state(hass, AWAY, STATE_OFF)
