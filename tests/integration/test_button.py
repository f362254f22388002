"""The emergency bell's "Cancel emergency" button: stand an emergency down from a dashboard."""

from __future__ import annotations

from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.components.event import ATTR_EVENT_TYPE
from homeassistant.components.siren import DOMAIN as SIREN_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.seoul_safehome.const import DOMAIN
from tests.conftest import Control
from tests.integration.common import until, wait_for_state

CANCEL = "button.emergency_bell_cancel_emergency"
EMERGENCY = "binary_sensor.emergency_bell_emergency"
EMERGENCY_CALL = "event.emergency_bell_emergency_call"
SIREN = "siren.emergency_bell_siren"


async def _press(hass: HomeAssistant) -> None:
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: CANCEL}, blocking=True
    )


async def test_cancel_emergency_from_the_dashboard(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """Silencing the siren leaves the emergency on; the button ends it at the hub."""
    assert hass.states.get(CANCEL).state == STATE_UNKNOWN  # never pressed
    await control.post("/devices/bell-1/press")
    await wait_for_state(hass, EMERGENCY, STATE_ON)
    await wait_for_state(hass, SIREN, STATE_ON)

    await hass.services.async_call(
        SIREN_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: SIREN}, blocking=True
    )
    await wait_for_state(hass, SIREN, STATE_OFF)
    assert hass.states.get(EMERGENCY).state == STATE_ON

    await _press(hass)
    await wait_for_state(hass, EMERGENCY, STATE_OFF)
    assert (await control.device("bell-1"))["state"]["emergency"] is False
    # Automations see the hub's own stand-down, as for a second press of the bell.
    await until(
        lambda: hass.states.get(EMERGENCY_CALL).attributes.get(ATTR_EVENT_TYPE) == "cancelled"
    )
    assert hass.states.get(CANCEL).state not in (STATE_UNKNOWN, STATE_UNAVAILABLE)
    assert [c["command"] for c in await control.commands()] == ["siren_off", "cancel_emergency"]


async def test_cancel_silences_a_sounding_siren(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """An emergency with its siren sounding: one press ends both."""
    await control.post("/devices/bell-1/press")
    await wait_for_state(hass, SIREN, STATE_ON)
    await _press(hass)
    await wait_for_state(hass, EMERGENCY, STATE_OFF)
    await wait_for_state(hass, SIREN, STATE_OFF)


async def test_cancel_fails_on_an_offline_bell(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """The bell dropped off before Home Assistant heard: the press fails with a reason."""
    await control.post("/devices/bell-1/press")
    await wait_for_state(hass, EMERGENCY, STATE_ON)
    # Hold the event stream so that the button is still shown as available.
    await control.post("/stream/pause", {"seconds": 1})
    await control.post("/devices/bell-1/online", {"online": False})
    with pytest.raises(HomeAssistantError) as err:
        await _press(hass)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "offline"
    assert str(err.value) == "The device does not answer the hub. Check its power and batteries"
    # Once Home Assistant hears of it, the button is unavailable like the bell's other entities.
    await wait_for_state(hass, CANCEL, STATE_UNAVAILABLE)
    await control.post("/devices/bell-1/online", {"online": True})
    await until(lambda: hass.states.get(CANCEL).state != STATE_UNAVAILABLE)
    # The press never reached the bell: the emergency is still on.
    assert hass.states.get(EMERGENCY).state == STATE_ON
    assert (await control.device("bell-1"))["state"]["emergency"] is True


async def test_added_in_korean(hass: HomeAssistant, mock_config_entry: MockConfigEntry) -> None:
    """Added while Home Assistant speaks Korean: a Korean name, the same entity id."""
    await hass.config.async_update(language="ko")
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    entry = er.async_get(hass).async_get(CANCEL)
    assert entry is not None
    assert entry.original_name == "비상 해제"
    # The device's name is the hub's; Home Assistant puts it in front.
    await until(lambda: hass.states.get(CANCEL).name == "Emergency bell 비상 해제")


async def test_name_follows_the_language_at_the_next_load(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Switched to Korean later, the names change once the integration loads again."""
    assert hass.states.get(CANCEL).name == "Emergency bell Cancel emergency"
    await hass.config.async_update(language="ko")
    await hass.async_block_till_done()
    assert hass.states.get(CANCEL).name == "Emergency bell Cancel emergency"

    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    await until(lambda: hass.states.get(CANCEL).name == "Emergency bell 비상 해제")
    # A name the user set is theirs: it stays whatever the language.
    er.async_get(hass).async_update_entity(CANCEL, name="SOS 해제")
    await hass.async_block_till_done()
    assert hass.states.get(CANCEL).name == "SOS 해제"
