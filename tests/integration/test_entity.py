"""Entity updates: only what changed is written to the state machine."""

from __future__ import annotations

from homeassistant.core import Event, HomeAssistant, callback
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.conftest import Control
from tests.integration.common import wait_for_state

DOOR = "binary_sensor.front_door_lock_door"
SIBLINGS = (
    "lock.front_door_lock",
    "number.front_door_lock_auto_lock_delay",
    "sensor.front_door_lock_battery",
)


async def test_a_door_event_rewrites_only_the_door(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """The door closing reaches automations without rewriting the lock's other entities."""
    await control.post("/devices/lock-1/activity", {"activity": "keypad", "user": None})
    await wait_for_state(hass, "lock.front_door_lock", "unlocked")
    written: list[str] = []

    @callback
    def record(event: Event) -> None:
        written.append(event.data["entity_id"])

    @callback
    def ours(data: dict) -> bool:
        return data["entity_id"] in (DOOR, *SIBLINGS)

    unsubscribe = [
        hass.bus.async_listen(kind, record, event_filter=ours)
        for kind in ("state_changed", "state_reported")
    ]
    await control.post("/devices/lock-1/door", {"state": "open"})
    await wait_for_state(hass, DOOR, "on")
    await hass.async_block_till_done()
    for remove in unsubscribe:
        remove()

    assert DOOR in written
    assert not set(written) & set(SIBLINGS)
