"""The district options (API 2.1) in Home Assistant: window locks and personal alarms."""

from __future__ import annotations

from typing import Any

from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.components.event import ATTR_EVENT_TYPE, ATTR_EVENT_TYPES
from homeassistant.components.lock import (
    ATTR_CODE,
    DOMAIN as LOCK_DOMAIN,
    SERVICE_LOCK,
    SERVICE_UNLOCK,
    LockState,
)
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_ENTITY_ID,
    STATE_OFF,
    STATE_ON,
    EntityCategory,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.seoul_safehome.api import Device, SafeHomeProtocolError
from custom_components.seoul_safehome.api.models import (
    DeviceType,
    LatchState,
    PersonalAlarmState,
    WindowLockState,
    WindowState,
)
from custom_components.seoul_safehome.const import CONF_UNLOCK_CODE, DOMAIN
from tests.conftest import Control
from tests.integration.common import until, wait_for_state

WINDOW = "binary_sensor.window_lock_window"
TAMPER = "binary_sensor.window_lock_tamper"
LATCH = "lock.window_lock"
WINDOW_ACTIVITY = "event.window_lock_window_activity"
WINDOW_BATTERY = "sensor.window_lock_battery"
SOUNDING = "binary_sensor.personal_alarm_sounding"
ALARM_ACTIVITY = "event.personal_alarm_alarm_activity"
ALARM_BATTERY = "sensor.personal_alarm_battery"
EMERGENCY = "binary_sensor.emergency_bell_emergency"
EMERGENCY_CALL = "event.emergency_bell_emergency_call"
CANCEL = "button.emergency_bell_cancel_emergency"
CODE = "482916"


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    """The Seoul kit with the district options: a window lock and a personal alarm."""
    return {"district_kit": True}


async def _event(hass: HomeAssistant, entity_id: str, event_type: str) -> dict[str, Any]:
    """Wait until an event entity has fired `event_type`; return its attributes."""
    await until(
        lambda: (state := hass.states.get(entity_id)) is not None
        and state.attributes.get(ATTR_EVENT_TYPE) == event_type
    )
    state = hass.states.get(entity_id)
    assert state is not None
    return dict(state.attributes)


async def _latch(hass: HomeAssistant, service: str, **data: Any) -> None:
    await hass.services.async_call(
        LOCK_DOMAIN, service, {ATTR_ENTITY_ID: LATCH, **data}, blocking=True
    )


async def test_the_entities_of_a_window_lock_and_a_personal_alarm(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Each district device gets its entities; the hub speaks 2.1 and is welcome."""
    assert init_integration.runtime_data.coordinator.data.hub.api_version == "2.1"
    expected = {
        WINDOW: ("window", STATE_OFF),
        TAMPER: ("tamper", STATE_OFF),
        SOUNDING: ("safety", STATE_OFF),
        WINDOW_BATTERY: ("battery", "90"),
        ALARM_BATTERY: ("battery", "100"),
    }
    for entity_id, (device_class, value) in expected.items():
        state = hass.states.get(entity_id)
        assert state is not None, entity_id
        assert (state.attributes[ATTR_DEVICE_CLASS], state.state) == (device_class, value)
    assert hass.states.get(LATCH).state == LockState.LOCKED
    assert hass.states.get(WINDOW_ACTIVITY).attributes[ATTR_EVENT_TYPES] == [
        "forced",
        "tamper",
        "wrong_code",
    ]
    assert hass.states.get(ALARM_ACTIVITY).attributes[ATTR_EVENT_TYPES] == [
        "pulled",
        "pressed",
        "cleared",
    ]
    tamper = entity_registry.async_get(TAMPER)
    assert tamper is not None
    assert tamper.entity_category is EntityCategory.DIAGNOSTIC
    latch = entity_registry.async_get(LATCH)
    assert latch is not None
    assert latch.unique_id == "shub-demo01_window-1_latch"
    # Both devices are the hub's, under their own names.
    assert hass.states.get(SOUNDING).name == "Personal alarm Sounding"
    assert hass.states.get(LATCH).name == "Window lock"


async def test_a_window_forced_open_and_latched_again(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """Forcing the latched window: the window sensor and a `forced` event; no latching open."""
    await control.post("/devices/window-1/window", {"state": "open"})
    await wait_for_state(hass, WINDOW, STATE_ON)
    attributes = await _event(hass, WINDOW_ACTIVITY, "forced")
    assert attributes["delayed"] is False
    # The latch is still thrown (that is how the lock knows the window was forced).
    assert hass.states.get(LATCH).state == LockState.LOCKED

    with pytest.raises(HomeAssistantError) as err:
        await _latch(hass, SERVICE_LOCK)
    assert (err.value.translation_domain, err.value.translation_key) == (DOMAIN, "window_open")

    await _latch(hass, SERVICE_UNLOCK)
    await wait_for_state(hass, LATCH, LockState.UNLOCKED)
    await control.post("/devices/window-1/window", {"state": "closed"})
    await wait_for_state(hass, WINDOW, STATE_OFF)
    await _latch(hass, SERVICE_LOCK)
    await wait_for_state(hass, LATCH, LockState.LOCKED)
    commands = [(c["device_id"], c["command"], c["result"]) for c in await control.commands()]
    assert commands == [("window-1", "unlock", "accepted"), ("window-1", "lock", "accepted")]


async def test_the_hub_refuses_to_latch_a_window_opened_meanwhile(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """Opened before Home Assistant heard of it: the hub refuses, with the same message."""
    await control.post("/stream/pause", {"seconds": 1})
    await control.post("/devices/window-1/window", {"state": "open"})
    assert hass.states.get(WINDOW).state == STATE_OFF  # not told yet
    with pytest.raises(HomeAssistantError) as err:
        await _latch(hass, SERVICE_LOCK)
    assert (err.value.translation_domain, err.value.translation_key) == (DOMAIN, "window_open")
    commands = [(c["command"], c["result"]) for c in await control.commands()]
    assert commands == [("lock", "window_open")]
    await wait_for_state(hass, WINDOW, STATE_ON)


async def test_tampering_with_the_window_lock(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    await control.post("/devices/window-1/tamper", {"active": True})
    await wait_for_state(hass, TAMPER, STATE_ON)
    await _event(hass, WINDOW_ACTIVITY, "tamper")
    await control.post("/devices/window-1/tamper", {"active": False})
    await wait_for_state(hass, TAMPER, STATE_OFF)


async def test_the_unlock_code_guards_the_window_latch(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """With an unlock code set, the latch asks for it too; a wrong one is window activity."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_UNLOCK_CODE: CODE}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    await until(lambda: init_integration.runtime_data.coordinator.in_sync)
    await hass.async_block_till_done()

    with pytest.raises(ServiceValidationError) as err:
        await _latch(hass, SERVICE_UNLOCK)
    assert err.value.translation_key == "unlock_code_required"
    with pytest.raises(ServiceValidationError) as err:
        await _latch(hass, SERVICE_UNLOCK, **{ATTR_CODE: "000000"})
    assert err.value.translation_key == "unlock_code_wrong"
    attributes = await _event(hass, WINDOW_ACTIVITY, "wrong_code")
    assert attributes["user"] == "Home Assistant"
    assert hass.states.get(LATCH).state == LockState.LOCKED
    await _latch(hass, SERVICE_UNLOCK, **{ATTR_CODE: CODE})
    await wait_for_state(hass, LATCH, LockState.UNLOCKED)
    # Locking never needs the code.
    await _latch(hass, SERVICE_LOCK)
    await wait_for_state(hass, LATCH, LockState.LOCKED)


async def test_a_pulled_personal_alarm_raises_the_emergency_on_the_bell(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """Pin out: the alarm's sensor and event, and the bell's emergency, from the alarm.

    Putting the pin back silences the alarm only; the emergency is cancelled as any other.
    """
    await control.post("/devices/alarm-1/pin", {"pulled": True})
    sounding = await wait_for_state(hass, SOUNDING, STATE_ON)
    assert sounding.attributes["since"] is not None
    await _event(hass, ALARM_ACTIVITY, "pulled")
    emergency = await wait_for_state(hass, EMERGENCY, STATE_ON)
    assert emergency.attributes["source"] == "personal_alarm"
    assert emergency.attributes["since"] is not None
    # The bell's emergency call fires as for its own button: automations (and the
    # emergency escalation blueprint's defaults) raise on it unchanged.
    await _event(hass, EMERGENCY_CALL, "button")

    await control.post("/devices/alarm-1/pin", {"pulled": False})
    await wait_for_state(hass, SOUNDING, STATE_OFF)
    attributes = await _event(hass, ALARM_ACTIVITY, "cleared")
    assert attributes["seq"] > 0
    assert hass.states.get(SOUNDING).attributes["since"] is None
    assert hass.states.get(EMERGENCY).state == STATE_ON

    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: CANCEL}, blocking=True
    )
    emergency = await wait_for_state(hass, EMERGENCY, STATE_OFF)
    assert emergency.attributes["source"] is None


async def test_the_alarm_button_is_only_an_event(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    await control.post("/devices/alarm-1/press")
    await _event(hass, ALARM_ACTIVITY, "pressed")
    await hass.async_block_till_done()
    assert hass.states.get(SOUNDING).state == STATE_OFF
    assert hass.states.get(EMERGENCY).state == STATE_OFF


async def test_a_window_lock_without_latch_or_tamper_switch(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    entity_registry: er.EntityRegistry,
) -> None:
    """A window lock added later, with the window contact only: its sensors, no lock."""
    await control.post(
        "/devices",
        {"id": "window-2", "type": "window_lock", "name": "Bathroom window", "capabilities": []},
    )
    await wait_for_state(hass, "binary_sensor.bathroom_window_window", STATE_OFF)
    entities = {
        entry.entity_id
        for entry in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id)
        if "bathroom_window" in entry.entity_id
    }
    assert entities == {"binary_sensor.bathroom_window_window", "sensor.bathroom_window_battery"}
    await control.post("/devices/window-2/window", {"state": "open"})
    await wait_for_state(hass, "binary_sensor.bathroom_window_window", STATE_ON)


def _raw(device_type: str, state: dict[str, Any], capabilities: list[str]) -> dict[str, Any]:
    return {
        "id": "d-1",
        "type": device_type,
        "name": "Device",
        "manufacturer": "Seoul SafeHome",
        "model": "M",
        "firmware": "1",
        "online": True,
        "battery": 50,
        "capabilities": capabilities,
        "state": state,
    }


def test_the_models_parse_the_district_states() -> None:
    window = Device.from_dict(
        _raw("window_lock", {"window": "open", "tamper": True, "latch": "unlocked"}, ["latch"])
    )
    assert window.type is DeviceType.WINDOW_LOCK
    assert window.state == WindowLockState(WindowState.OPEN, True, LatchState.UNLOCKED)
    no_latch = Device.from_dict(_raw("window_lock", {"window": "closed", "tamper": False}, []))
    assert no_latch.state == WindowLockState(WindowState.CLOSED, False, None)
    alarm = Device.from_dict(
        _raw("personal_alarm", {"sounding": True, "sounding_since": "2026-11-25T14:03:07Z"}, [])
    )
    assert isinstance(alarm.state, PersonalAlarmState)
    assert alarm.state.sounding
    assert alarm.state.sounding_since is not None
    for bad in (
        _raw("window_lock", {"window": "ajar", "tamper": False}, []),
        _raw("window_lock", {"window": "open"}, []),
        _raw("personal_alarm", {"sounding": "yes", "sounding_since": None}, []),
    ):
        with pytest.raises(SafeHomeProtocolError):
            Device.from_dict(bad)
