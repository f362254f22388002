"""The bell's "Emergency siren" select: when its own siren sounds in an emergency."""

from __future__ import annotations

from typing import Any

from homeassistant.components.select import (
    ATTR_OPTION,
    ATTR_OPTIONS,
    DOMAIN as SELECT_DOMAIN,
    SERVICE_SELECT_OPTION,
)
from homeassistant.components.siren import DOMAIN as SIREN_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    EntityCategory,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.seoul_safehome.const import DOMAIN
from safehome_emulator import Emulator
from tests.conftest import Control
from tests.integration.common import until, wait_for_state

SIREN_MODE = "select.emergency_bell_emergency_siren"
EMERGENCY = "binary_sensor.emergency_bell_emergency"
SIREN = "siren.emergency_bell_siren"
MODES = ["immediate", "escalation", "silent"]


async def _select(hass: HomeAssistant, option: str) -> None:
    await hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: SIREN_MODE, ATTR_OPTION: option},
        blocking=True,
    )


async def test_emergency_siren_entity(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """The bell's setting, shown as a configuration entity with the three modes."""
    state = hass.states.get(SIREN_MODE)
    assert state is not None
    assert state.state == "immediate"
    assert state.attributes[ATTR_OPTIONS] == MODES
    assert state.name == "Emergency bell Emergency siren"
    entry = entity_registry.async_get(SIREN_MODE)
    assert entry is not None
    assert entry.entity_category is EntityCategory.CONFIG
    assert entry.translation_key == "siren_mode"


@pytest.mark.parametrize("mode", ["escalation", "silent", "immediate"])
async def test_choose_the_mode(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control, mode: str
) -> None:
    """The choice is sent to the bell, and shown once the bell reports it."""
    if mode == "immediate":  # start from another mode
        await _select(hass, "silent")
        await wait_for_state(hass, SIREN_MODE, "silent")
    await _select(hass, mode)
    await wait_for_state(hass, SIREN_MODE, mode)
    assert (await control.device("bell-1"))["state"]["siren_mode"] == mode
    command = (await control.commands())[-1]
    assert (command["command"], command["params"]) == ("set_siren_mode", {"mode": mode})


@pytest.mark.parametrize(("mode", "sounds"), [("immediate", True), ("escalation", False)])
async def test_an_emergency_sounds_the_siren_as_chosen(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    mode: str,
    sounds: bool,
) -> None:
    """At once: the siren sounds with the emergency; at escalation: it waits for the blueprint."""
    if mode != "immediate":
        await _select(hass, mode)
        await wait_for_state(hass, SIREN_MODE, mode)
    await control.post("/devices/bell-1/press")
    await wait_for_state(hass, EMERGENCY, STATE_ON)
    assert hass.states.get(SIREN).state == (STATE_ON if sounds else STATE_OFF)
    assert (await control.device("bell-1"))["state"]["siren"] is sounds


async def test_silent_alarm(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """Never: a shout raises the emergency quietly; turning the siren on still sounds it."""
    await _select(hass, "silent")
    await wait_for_state(hass, SIREN_MODE, "silent")
    await control.post("/devices/bell-1/say", {"text": "사람 살려"})
    await wait_for_state(hass, EMERGENCY, STATE_ON)
    assert hass.states.get(SIREN).state == STATE_OFF
    await hass.services.async_call(
        SIREN_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: SIREN}, blocking=True
    )
    await wait_for_state(hass, SIREN, STATE_ON)


async def test_an_unknown_option_never_reaches_the_bell(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    with pytest.raises(ServiceValidationError):
        await _select(hass, "loud")
    assert await control.commands() == []
    assert hass.states.get(SIREN_MODE).state == "immediate"


async def test_offline_bell(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """A choice that cannot reach the bell fails with a reason; the setting is then unavailable."""
    await control.post("/stream/pause", {"seconds": 1})
    await control.post("/devices/bell-1/online", {"online": False})
    with pytest.raises(HomeAssistantError) as err:
        await _select(hass, "silent")
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "offline"
    await wait_for_state(hass, SIREN_MODE, STATE_UNAVAILABLE)
    await control.post("/devices/bell-1/online", {"online": True})
    await wait_for_state(hass, SIREN_MODE, "immediate")


async def test_a_mode_newer_than_the_integration(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """A newer hub's mode the integration does not know shows as unknown, nothing breaks."""
    bell: Any = emulator.hub.device("bell-1")
    bell.siren_mode = "after_30_s"
    bell.updated()
    await wait_for_state(hass, SIREN_MODE, STATE_UNKNOWN)
    assert hass.states.get(SIREN).state == STATE_OFF  # the bell's other entities carry on


OLDER_BELL = {
    "id": "bell-1",
    "type": "emergency_bell",
    "name": "Emergency bell",
    "capabilities": ["siren", "emergency", "voice"],
}


@pytest.mark.parametrize("emulator_options", [{"devices": [OLDER_BELL]}])
async def test_no_select_for_a_bell_without_the_setting(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """A bell that does not report the setting gets no select; its siren is as before."""
    assert hass.states.get(SIREN) is not None
    assert entity_registry.async_get(SIREN_MODE) is None
    assert not [
        entry
        for entry in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id)
        if entry.domain == SELECT_DOMAIN
    ]


async def test_in_korean(hass: HomeAssistant, mock_config_entry: MockConfigEntry) -> None:
    """Added while Home Assistant speaks Korean: a Korean name and Korean choices."""
    await hass.config.async_update(language="ko")
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    entry = er.async_get(hass).async_get(SIREN_MODE)
    assert entry is not None
    assert entry.original_name == "비상 시 사이렌"
    await until(lambda: hass.states.get(SIREN_MODE).name == "Emergency bell 비상 시 사이렌")
    strings = await async_get_translations(hass, "ko", "entity", [DOMAIN])
    prefix = f"component.{DOMAIN}.entity.select.siren_mode.state"
    assert {mode: strings[f"{prefix}.{mode}"] for mode in MODES} == {
        "immediate": "즉시 울림",
        "escalation": "대응 단계에서 울림",
        "silent": "울리지 않음 (무음 경보)",
    }
