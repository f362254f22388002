"""Instant lock: the door closes, the lock locks at once; failures reach the phone."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from tests.blueprints.common import (
    DOOR,
    LOCK,
    Clock,
    Phone,
    async_create_automations,
    commands_named,
    wait_for_commands,
)
from tests.conftest import Control
from tests.integration.common import until, wait_for_state

BLUEPRINT = "instant_lock.yaml"


async def _walk_in(control: Control, hass: HomeAssistant) -> None:
    """The resident unlocks with the keypad and opens the door."""
    await control.post("/devices/lock-1/activity", {"activity": "keypad", "user": "지우"})
    await wait_for_state(hass, LOCK, "unlocked")
    await control.post("/devices/lock-1/door", {"state": "open"})
    await wait_for_state(hass, DOOR, "on")


async def test_door_closes_lock_locks_at_once(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control, iphone: Phone
) -> None:
    """Closing the door makes Home Assistant send `lock` at once, long before the auto-lock."""
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": {"door_sensor": DOOR, "lock_entity": LOCK, "phones": [iphone.device_id]},
        },
    )
    await _walk_in(control, hass)
    await control.request("DELETE", "/log")

    await control.post("/devices/lock-1/door", {"state": "closed"})

    log = await wait_for_commands(control, lambda log: commands_named(log, "lock", "lock-1"))
    assert commands_named(log, "lock", "lock-1")[0]["result"] == "accepted"
    await wait_for_state(hass, LOCK, "locked")
    assert (await control.device("lock-1"))["state"]["lock_state"] == "locked"
    await hass.async_block_till_done()
    assert iphone.calls == []


async def test_jammed_lock_is_retried_once_then_the_phones_are_alerted(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    iphone: Phone,
    galaxy: Phone,
) -> None:
    """A lock that jams gets one more try; then every phone hears about it, in time."""
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": {
                "door_sensor": DOOR,
                "lock_entity": LOCK,
                "phones": [iphone.device_id, galaxy.device_id],
            },
        },
    )
    await _walk_in(control, hass)
    await control.post("/devices/lock-1/jam", {"jam": True})
    await control.request("DELETE", "/log")

    await control.post("/devices/lock-1/door", {"state": "closed"})

    log = await wait_for_commands(
        control, lambda log: len(commands_named(log, "lock", "lock-1")) == 2
    )
    first, second = commands_named(log, "lock", "lock-1")
    assert first["result"] == "accepted"  # the motor ran and jammed
    assert second["result"] == "jammed"  # the retry: the hub refuses a jammed lock
    await until(lambda: iphone.calls and galaxy.calls)
    await hass.async_block_till_done()
    assert len(iphone.calls) == len(galaxy.calls) == 1

    for phone in (iphone, galaxy):
        note = phone.last
        assert note["title"] == "⚠️ 도어락이 걸렸어요"
        assert "Front door lock" in note["message"]
        assert "직접 확인" in note["message"]
        assert note["data"]["tag"] == f"safehome-lock-{LOCK}"
    # Delivered at once, not batched: time-sensitive on iOS, high priority on Android.
    assert iphone.last["data"]["push"] == {"interruption-level": "time-sensitive"}
    assert "priority" not in iphone.last["data"]
    assert galaxy.last["data"]["priority"] == "high"
    assert galaxy.last["data"]["ttl"] == 0
    assert galaxy.last["data"]["clickAction"] == f"entityId:{LOCK}"
    assert "push" not in galaxy.last["data"]


async def test_door_left_open_alert(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control, iphone: Phone
) -> None:
    """With the alert on, a door left open for the chosen minutes reaches the phone, once."""
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": {
                "door_sensor": DOOR,
                "lock_entity": LOCK,
                "phones": [iphone.device_id],
                "left_open_minutes": 10,
            },
        },
    )
    await _walk_in(control, hass)

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=9))
    await hass.async_block_till_done()
    assert iphone.calls == []

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=10, seconds=1))
    await hass.async_block_till_done()
    assert len(iphone.calls) == 1
    assert iphone.last["title"] == "🚪 문이 열려 있어요"
    assert iphone.last["message"].startswith("문(Front door lock Door)이 10분째 열려 있어요.")

    # Closing the door locks it, and the open-door alert does not come back.
    await control.post("/devices/lock-1/door", {"state": "closed"})
    await wait_for_state(hass, LOCK, "locked")
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=30))
    await hass.async_block_till_done()
    assert len(iphone.calls) == 1


@pytest.fixture
async def back_door(hass: HomeAssistant) -> None:
    """A lock and a door contact from other integrations: template entities over helpers."""
    assert await async_setup_component(
        hass,
        "input_boolean",
        {"input_boolean": {"back_door_open": {}, "back_door_bolt": {"initial": False}}},
    )
    assert await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {
                    "binary_sensor": [
                        {
                            "name": "Back door",
                            "device_class": "door",
                            "state": "{{ is_state('input_boolean.back_door_open', 'on') }}",
                        }
                    ],
                    "lock": [
                        {
                            "name": "Back door lock",
                            "state": (
                                "{{ 'locked' if is_state('input_boolean.back_door_bolt', 'on')"
                                " else 'unlocked' }}"
                            ),
                            "lock": {
                                "action": "input_boolean.turn_on",
                                "target": {"entity_id": "input_boolean.back_door_bolt"},
                            },
                            "unlock": {
                                "action": "input_boolean.turn_off",
                                "target": {"entity_id": "input_boolean.back_door_bolt"},
                            },
                        }
                    ],
                }
            ]
        },
    )
    await hass.async_block_till_done()


async def _toggle(hass: HomeAssistant, entity_id: str, on: bool) -> None:
    """Flip a helper (the "hardware" behind the template entities)."""
    await hass.services.async_call(
        "input_boolean", "turn_on" if on else "turn_off", {"entity_id": entity_id}, blocking=True
    )


async def test_any_lock_and_door_sensor_with_a_delay(
    hass: HomeAssistant, config_dir: object, back_door: None, iphone: Phone, clock: Clock
) -> None:
    """The blueprint is not tied to SafeHome: a template lock and contact work the same."""
    from custom_components.seoul_safehome.blueprints import async_setup_blueprints

    await async_setup_blueprints(hass)
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": {
                "door_sensor": "binary_sensor.back_door",
                "lock_entity": "lock.back_door_lock",
                "lock_delay": 1.5,
                "phones": [iphone.device_id],
            },
        },
    )
    assert hass.states.get("lock.back_door_lock").state == "unlocked"
    await _toggle(hass, "input_boolean.back_door_open", True)
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.back_door").state == "on"
    await _toggle(hass, "input_boolean.back_door_open", False)
    await until(lambda: hass.states.get("binary_sensor.back_door").state == "off")

    # The chosen delay first ...
    await clock.advance(1)
    assert hass.states.get("lock.back_door_lock").state == "unlocked"
    await clock.advance(0.6)
    # ... then the lock locks, and nobody is bothered.
    await until(lambda: hass.states.get("lock.back_door_lock").state == "locked")
    assert hass.states.get("input_boolean.back_door_bolt").state == "on"
    await hass.async_block_till_done()
    assert iphone.calls == []

    # Already locked: closing the door again does nothing.
    await _toggle(hass, "input_boolean.back_door_open", True)
    await hass.async_block_till_done()
    await _toggle(hass, "input_boolean.back_door_open", False)
    await hass.async_block_till_done()
    await clock.advance(10)
    await hass.async_block_till_done()
    assert hass.states.get("lock.back_door_lock").state == "locked"
    assert iphone.calls == []
