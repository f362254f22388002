"""The door lock: state follows the hub, commands reach the lock, refusals are explained."""

from __future__ import annotations

from homeassistant.components.lock import (
    DOMAIN as LOCK_DOMAIN,
    SERVICE_LOCK,
    SERVICE_OPEN,
    SERVICE_UNLOCK,
    LockEntityFeature,
    LockState,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_SUPPORTED_FEATURES,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.seoul_safehome.const import DOMAIN
from tests.conftest import Control
from tests.integration.common import wait_for_state

LOCK = "lock.front_door_lock"


async def _call(hass: HomeAssistant, service: str, entity_id: str = LOCK) -> None:
    await hass.services.async_call(LOCK_DOMAIN, service, {ATTR_ENTITY_ID: entity_id}, blocking=True)


async def test_lock_entity(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """The lock is the lock device's main entity, named after it, and can release the latch."""
    state = hass.states.get(LOCK)
    assert state is not None
    assert state.state == LockState.LOCKED
    assert state.attributes[ATTR_SUPPORTED_FEATURES] == LockEntityFeature.OPEN
    assert state.attributes["friendly_name"] == "Front door lock"

    entry = entity_registry.async_get(LOCK)
    assert entry is not None
    assert entry.unique_id == "shub-demo01_lock-1_lock"
    device_registry = dr.async_get(hass)
    device = device_registry.async_get(entry.device_id)
    assert device is not None
    assert device.name == "Front door lock"
    assert device.identifiers == {(DOMAIN, "shub-demo01_lock-1")}
    hub = device_registry.async_get(device.via_device_id or "")
    assert hub is not None
    assert hub.identifiers == {(DOMAIN, "shub-demo01")}


async def test_unlock_and_lock(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """Unlock and lock run the motor on the device; the entity shows each step."""
    seen: list[str] = []
    hass.bus.async_listen(
        "state_changed",
        callback(
            lambda event: seen.append(event.data["new_state"].state)
            if event.data["entity_id"] == LOCK and event.data["new_state"]
            else None
        ),  # a callback: recorded in order, in the event loop
    )

    await _call(hass, SERVICE_UNLOCK)
    await wait_for_state(hass, LOCK, LockState.UNLOCKED)
    assert (await control.device("lock-1"))["state"]["lock_state"] == "unlocked"

    await _call(hass, SERVICE_LOCK)
    await wait_for_state(hass, LOCK, LockState.LOCKED)
    assert (await control.device("lock-1"))["state"]["lock_state"] == "locked"

    assert seen == [
        LockState.UNLOCKING,
        LockState.UNLOCKED,
        LockState.LOCKING,
        LockState.LOCKED,
    ]
    commands = [(c["device_id"], c["command"], c["result"]) for c in await control.commands()]
    assert commands == [("lock-1", "unlock", "accepted"), ("lock-1", "lock", "accepted")]


async def test_open_releases_the_latch(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """Open releases the latch: the lock shows open."""
    await _call(hass, SERVICE_OPEN)
    await wait_for_state(hass, LOCK, LockState.OPEN)
    assert [c["command"] for c in await control.commands()] == ["open"]


async def test_lock_open_door_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """Locking while the door stands open fails with a translated explanation."""
    await _call(hass, SERVICE_UNLOCK)
    await wait_for_state(hass, LOCK, LockState.UNLOCKED)
    await control.post("/devices/lock-1/door", {"state": "open"})
    await wait_for_state(hass, "binary_sensor.front_door_lock_door", "on")

    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, SERVICE_LOCK)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "door_open"
    assert str(err.value) == "The door is open. Close it before locking"
    assert hass.states.get(LOCK).state == LockState.UNLOCKED
    assert (await control.commands())[-1]["result"] == "door_open"


async def test_jammed_lock(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """A lock whose motor jams shows jammed; locking it again is refused; unlock clears it."""
    await _call(hass, SERVICE_UNLOCK)
    await wait_for_state(hass, LOCK, LockState.UNLOCKED)
    await control.post("/devices/lock-1/jam", {"jam": True})

    await _call(hass, SERVICE_LOCK)
    await wait_for_state(hass, LOCK, LockState.JAMMED)

    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, SERVICE_LOCK)
    assert err.value.translation_key == "jammed"

    await _call(hass, SERVICE_UNLOCK)
    await wait_for_state(hass, LOCK, LockState.UNLOCKED)


async def test_busy_lock(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """A command while the motor still runs is refused as busy."""
    await _call(hass, SERVICE_UNLOCK)
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, SERVICE_LOCK)
    assert err.value.translation_key == "busy"
    assert str(err.value) == (
        "The device is still carrying out another command. Try again in a moment"
    )
    await wait_for_state(hass, LOCK, LockState.UNLOCKED)


async def test_physical_use_is_followed(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """Unlocking with the keypad, and the lock relocking when the door closes, show up."""
    await control.post("/devices/lock-1/activity", {"activity": "keypad", "user": "resident"})
    await wait_for_state(hass, LOCK, LockState.UNLOCKED)

    await _call_number(hass, 0)
    await control.post("/devices/lock-1/door", {"state": "open"})
    await control.post("/devices/lock-1/door", {"state": "closed"})
    await wait_for_state(hass, LOCK, LockState.LOCKED)


async def _call_number(hass: HomeAssistant, value: float) -> None:
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: "number.front_door_lock_auto_lock_delay", "value": value},
        blocking=True,
    )
    await wait_for_state(hass, "number.front_door_lock_auto_lock_delay", str(float(value)))


async def test_offline_lock_is_unavailable(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """An unreachable lock is unavailable, and back with its state when it returns."""
    await control.post("/devices/lock-1/online", {"online": False})
    await wait_for_state(hass, LOCK, STATE_UNAVAILABLE)
    await control.post("/devices/lock-1/online", {"online": True})
    await wait_for_state(hass, LOCK, LockState.LOCKED)


async def test_lock_without_latch_release(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """A lock added later, without the open capability, appears and offers no open."""
    await control.post(
        "/devices",
        {
            "id": "lock-2",
            "type": "door_lock",
            "name": "Balcony lock",
            "battery": 70,
            "capabilities": ["lock", "unlock", "door_contact"],
        },
    )
    state = await wait_for_state(hass, "lock.balcony_lock", LockState.LOCKED)
    assert state.attributes[ATTR_SUPPORTED_FEATURES] == 0
    # No auto-lock delay or activity entity without those capabilities.
    assert hass.states.get("number.balcony_lock_auto_lock_delay") is None
    assert hass.states.get("event.balcony_lock_lock_activity") is None
    assert hass.states.get("binary_sensor.balcony_lock_door") is not None

    await _call(hass, SERVICE_UNLOCK, "lock.balcony_lock")
    await wait_for_state(hass, "lock.balcony_lock", LockState.UNLOCKED)

    await control.request("DELETE", "/devices/lock-2")
    await wait_for_state(hass, "lock.balcony_lock", STATE_UNAVAILABLE)


async def test_device_replaced_by_another_kind(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """A hub that reuses the lock's id for another kind of device leaves the lock unknown."""
    await control.request("DELETE", "/devices/lock-1")
    await control.post("/devices", {"id": "lock-1", "type": "emergency_bell", "name": "Bell"})
    await wait_for_state(hass, LOCK, STATE_UNKNOWN)
    await wait_for_state(hass, "binary_sensor.front_door_lock_door", STATE_UNKNOWN)
