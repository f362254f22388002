"""The emergency bell's siren."""

from __future__ import annotations

from homeassistant.components.siren import (
    ATTR_DURATION,
    DOMAIN as SIREN_DOMAIN,
    SirenEntityFeature,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_SUPPORTED_FEATURES,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.seoul_safehome.const import DOMAIN
from tests.conftest import Control
from tests.integration.common import wait_for_state

SIREN = "siren.emergency_bell_siren"


async def _turn_on(hass: HomeAssistant, **data: object) -> None:
    await hass.services.async_call(
        SIREN_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: SIREN, **data}, blocking=True
    )


async def test_siren_on_off(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """The siren sounds for the asked duration and can be silenced."""
    state = hass.states.get(SIREN)
    assert state is not None
    assert state.state == STATE_OFF
    assert state.attributes[ATTR_SUPPORTED_FEATURES] == (
        SirenEntityFeature.TURN_ON | SirenEntityFeature.TURN_OFF | SirenEntityFeature.DURATION
    )

    await _turn_on(hass, **{ATTR_DURATION: 5})
    await wait_for_state(hass, SIREN, STATE_ON)
    assert (await control.device("bell-1"))["state"]["siren"] is True

    await hass.services.async_call(
        SIREN_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: SIREN}, blocking=True
    )
    await wait_for_state(hass, SIREN, STATE_OFF)

    await _turn_on(hass)
    await wait_for_state(hass, SIREN, STATE_ON)

    commands = [(c["command"], c["params"]) for c in await control.commands()]
    assert commands[0] == ("siren_on", {"duration": 5})
    assert commands[1][0] == "siren_off"
    assert commands[2][0] == "siren_on"
    assert "duration" not in (commands[2][1] or {})


async def test_siren_stops_by_itself(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A one-second siren stops on its own and the entity follows."""
    await _turn_on(hass, **{ATTR_DURATION: 1})
    await wait_for_state(hass, SIREN, STATE_ON)
    await wait_for_state(hass, SIREN, STATE_OFF, timeout=3)


async def test_emergency_sounds_siren(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """Pressing the emergency bell sounds its siren; cancelling silences it."""
    await control.post("/devices/bell-1/press")
    await wait_for_state(hass, SIREN, STATE_ON)
    await control.post("/devices/bell-1/press")
    await wait_for_state(hass, SIREN, STATE_OFF)


async def test_siren_duration_out_of_range(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """A duration the bell cannot do is refused with a translated explanation."""
    with pytest.raises(ServiceValidationError) as err:
        await _turn_on(hass, **{ATTR_DURATION: 3600})
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "invalid_params"
    assert hass.states.get(SIREN).state == STATE_OFF


async def test_offline_bell(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """The siren is unavailable while the bell is unreachable."""
    await control.post("/devices/bell-1/online", {"online": False})
    await wait_for_state(hass, SIREN, STATE_UNAVAILABLE)
    await control.post("/devices/bell-1/online", {"online": True})
    await wait_for_state(hass, SIREN, STATE_OFF)
