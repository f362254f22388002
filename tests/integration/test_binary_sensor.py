"""Binary sensors: motion, door contact, emergency and the hub connection follow the hub."""

from __future__ import annotations

from datetime import datetime, timedelta

from homeassistant.components.siren import ATTR_DURATION, DOMAIN as SIREN_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    EntityCategory,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from safehome_emulator import Emulator
from tests.conftest import Control
from tests.integration.common import until, wait_for_state

DOORBELL_MOTION = "binary_sensor.front_door_doorbell_motion"
CAMERA_MOTION = "binary_sensor.home_camera_motion"
DOOR = "binary_sensor.front_door_lock_door"
EMERGENCY = "binary_sensor.emergency_bell_emergency"
CONNECTIVITY = "binary_sensor.safehome_hub_connectivity"
SIREN = "siren.emergency_bell_siren"


async def test_binary_sensors_created(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Each device gets its binary sensors with the right device class; all start off."""
    expected = {
        DOORBELL_MOTION: "motion",
        CAMERA_MOTION: "motion",
        DOOR: "door",
        EMERGENCY: "safety",
        CONNECTIVITY: "connectivity",
    }
    for entity_id, device_class in expected.items():
        state = hass.states.get(entity_id)
        assert state is not None, entity_id
        assert state.attributes["device_class"] == device_class
        assert state.state == (STATE_ON if entity_id == CONNECTIVITY else STATE_OFF)
    entry = entity_registry.async_get(CONNECTIVITY)
    assert entry is not None
    assert entry.entity_category is EntityCategory.DIAGNOSTIC
    assert entry.unique_id == "shub-demo01_connectivity"


@pytest.mark.parametrize(
    ("device_id", "entity_id"),
    [("doorbell-1", DOORBELL_MOTION), ("cam-1", CAMERA_MOTION)],
)
async def test_motion(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    device_id: str,
    entity_id: str,
) -> None:
    """Motion in front of a camera turns its motion sensor on, and off when it stops."""
    await control.post(f"/devices/{device_id}/motion", {"active": True})
    await wait_for_state(hass, entity_id, STATE_ON)
    await control.post(f"/devices/{device_id}/motion", {"active": False})
    await wait_for_state(hass, entity_id, STATE_OFF)


async def test_door_contact(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """Opening the door turns the door sensor on; closing it turns it off."""
    await control.post("/devices/lock-1/activity", {"activity": "inside_handle", "user": None})
    await control.post("/devices/lock-1/door", {"state": "open"})
    await wait_for_state(hass, DOOR, STATE_ON)
    await control.post("/devices/lock-1/door", {"state": "closed"})
    await wait_for_state(hass, DOOR, STATE_OFF)


async def test_emergency(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """A raised emergency is on with its source and start time until it is cancelled."""
    state = hass.states.get(EMERGENCY)
    assert state is not None
    assert state.attributes["source"] is None
    assert state.attributes["since"] is None

    await control.post("/devices/bell-1/say", {"text": "도와주세요"})
    state = await wait_for_state(hass, EMERGENCY, STATE_ON)
    assert state.attributes["source"] == "voice"
    emulator_state = (await control.device("bell-1"))["state"]
    assert emulator_state["emergency_since"] is not None
    assert state.attributes["since"] is not None

    await control.post("/devices/bell-1/press")
    state = await wait_for_state(hass, EMERGENCY, STATE_OFF)
    assert state.attributes["source"] is None


async def test_device_offline(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """An unreachable camera's motion sensor is unavailable until the camera is back."""
    await control.post("/devices/cam-1/online", {"online": False})
    await wait_for_state(hass, CAMERA_MOTION, STATE_UNAVAILABLE)
    assert hass.states.get(DOORBELL_MOTION).state == STATE_OFF
    await control.post("/devices/cam-1/online", {"online": True})
    await wait_for_state(hass, CAMERA_MOTION, STATE_OFF)


async def test_hub_restart(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """While the hub restarts the link is reported off (not unavailable); then all is back."""
    await control.post("/restart", {"downtime": 1.0})
    await wait_for_state(hass, CONNECTIVITY, STATE_OFF)
    assert hass.states.get(DOOR).state == STATE_UNAVAILABLE
    await wait_for_state(hass, CONNECTIVITY, STATE_ON)
    await wait_for_state(hass, DOOR, STATE_OFF)


async def test_bell_replaced_by_another_kind(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """A hub that reuses the bell's id for another kind of device leaves its sensor unknown."""
    await control.request("DELETE", "/devices/bell-1")
    await control.post("/devices", {"id": "bell-1", "type": "camera", "name": "Camera"})
    state = await wait_for_state(hass, EMERGENCY, STATE_UNKNOWN)
    assert "source" not in state.attributes


async def test_emergency_stays_on_when_its_siren_is_silenced(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """Silencing the siren is not the end of the emergency: its sensor stays on."""
    await control.post("/devices/bell-1/press")
    await wait_for_state(hass, EMERGENCY, STATE_ON)
    await wait_for_state(hass, SIREN, STATE_ON)

    await hass.services.async_call(
        SIREN_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: SIREN}, blocking=True
    )
    await wait_for_state(hass, SIREN, STATE_OFF)
    bell = (await control.device("bell-1"))["state"]
    assert (bell["emergency"], bell["siren"]) == (True, False)
    state = hass.states.get(EMERGENCY)
    assert state is not None
    assert state.state == STATE_ON
    assert state.attributes["source"] == "button"


@pytest.mark.parametrize("emulator_options", [{"siren_duration": 1}])
async def test_emergency_outlasts_its_siren(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """When the emergency's siren stops by itself the emergency is still on."""
    await control.post("/devices/bell-1/say", {"text": "살려주세요"})
    await wait_for_state(hass, EMERGENCY, STATE_ON)
    await wait_for_state(hass, SIREN, STATE_ON)

    await wait_for_state(hass, SIREN, STATE_OFF, timeout=4)
    assert (await control.device("bell-1"))["state"]["emergency"] is True
    state = hass.states.get(EMERGENCY)
    assert state is not None
    assert state.state == STATE_ON
    assert state.attributes["source"] == "voice"


async def test_siren_alone_is_no_emergency(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """Sounding the siren from Home Assistant (a test, a deterrent) raises no emergency."""
    await hass.services.async_call(
        SIREN_DOMAIN,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: SIREN, ATTR_DURATION: 30},
        blocking=True,
    )
    await wait_for_state(hass, SIREN, STATE_ON)
    bell = (await control.device("bell-1"))["state"]
    assert (bell["emergency"], bell["siren"]) == (False, True)
    state = hass.states.get(EMERGENCY)
    assert state is not None
    assert state.state == STATE_OFF
    assert state.attributes["source"] is None


async def test_emergency_details_follow_the_hub(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control, emulator: Emulator
) -> None:
    """A new source and start of an ongoing emergency show although it stays on."""
    await control.post("/devices/bell-1/say", {"text": "도와주세요"})
    before = await wait_for_state(hass, EMERGENCY, STATE_ON)
    assert before.attributes["source"] == "voice"

    # The hub re-reports the ongoing emergency: now from the phone, with a later start.
    bell = emulator.hub.device("bell-1")
    since = datetime.fromisoformat(bell.emergency_since) + timedelta(minutes=1)
    bell.emergency_source = "phone"
    bell.emergency_since = since.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    bell.updated()

    def updated() -> bool:
        state = hass.states.get(EMERGENCY)
        return state is not None and state.attributes["source"] == "phone"

    await until(updated)
    after = hass.states.get(EMERGENCY)
    assert after is not None
    assert after.state == STATE_ON
    assert datetime.fromisoformat(after.attributes["since"]) == since
    assert after.last_changed == before.last_changed  # still the same emergency
