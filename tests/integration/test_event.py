"""Event entities: rings, lock activity and emergencies fire once, and never again on restore."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from homeassistant.components.event import ATTR_EVENT_TYPE, ATTR_EVENT_TYPES
from homeassistant.const import ATTR_DEVICE_CLASS, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event as HassEvent, HomeAssistant, ServiceCall, State, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
    mock_restore_cache_with_extra_data,
)

from custom_components.seoul_safehome.api import Event
from custom_components.seoul_safehome.const import DOMAIN
from custom_components.seoul_safehome.entity import device_identifier
from tests.conftest import Control
from tests.integration.common import until, wait_for_state

RING = "event.front_door_doorbell_ring"
ACTIVITY = "event.front_door_lock_lock_activity"
EMERGENCY = "event.emergency_bell_emergency_call"


async def _next_event(
    hass: HomeAssistant, entity_id: str, action: Callable[[], Awaitable[object]]
) -> State:
    """Run `action` and wait for the event entity to fire (its state is the event's time)."""
    before = hass.states.get(entity_id)
    assert before is not None
    await action()

    def fired() -> bool:
        state = hass.states.get(entity_id)
        return state is not None and state.state not in (before.state, STATE_UNAVAILABLE)

    await until(fired)
    state = hass.states.get(entity_id)
    assert state is not None
    return state


async def _setup_automation(hass: HomeAssistant, entity_id: str) -> list[ServiceCall]:
    """An automation on the event entity, written the way Home Assistant recommends."""
    calls = async_mock_service(hass, "test", "automation")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "triggers": [
                    {
                        "trigger": "state",
                        "entity_id": entity_id,
                        "not_from": STATE_UNAVAILABLE,
                        "not_to": STATE_UNAVAILABLE,
                    }
                ],
                "actions": [
                    {
                        "action": "test.automation",
                        "data": {"event_type": "{{ trigger.to_state.attributes.event_type }}"},
                    }
                ],
            }
        },
    )
    # Let the automation integration finish copying its example blueprints first.
    await hass.async_block_till_done()
    return calls


async def test_doorbell_ring(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """Pressing the doorbell fires its ring event entity, once per press."""
    state = hass.states.get(RING)
    assert state is not None
    assert state.state == STATE_UNKNOWN
    assert state.attributes[ATTR_DEVICE_CLASS] == "doorbell"
    assert state.attributes[ATTR_EVENT_TYPES] == ["ring"]

    fired: list[str] = []

    @callback
    def record(event: HassEvent) -> None:
        if event.data["entity_id"] == RING:
            fired.append(event.data["new_state"].attributes[ATTR_EVENT_TYPE])

    hass.bus.async_listen("state_changed", record)

    state = await _next_event(hass, RING, lambda: control.post("/devices/doorbell-1/ring"))
    assert state.attributes[ATTR_EVENT_TYPE] == "ring"
    datetime.fromisoformat(state.state)  # the time of the ring

    await _next_event(hass, RING, lambda: control.post("/devices/doorbell-1/ring"))
    assert fired == ["ring", "ring"]


@pytest.mark.parametrize(
    ("activity", "user", "lock_state"),
    [
        ("keypad", "resident", "unlocked"),
        ("fingerprint", "resident", "unlocked"),
        ("card", None, "unlocked"),
        ("inside_handle", None, "unlocked"),
        ("forced_entry", None, "locked"),
        ("tamper", None, "locked"),
    ],
)
async def test_lock_activity(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    activity: str,
    user: str | None,
    lock_state: str,
) -> None:
    """Using the lock fires lock activity with how and who; forcing it is reported too."""
    state = hass.states.get(ACTIVITY)
    assert state is not None
    assert state.attributes[ATTR_EVENT_TYPES] == [
        "keypad",
        "fingerprint",
        "card",
        "inside_handle",
        "forced_entry",
        "tamper",
        "remote",
        "auto_lock",
        "wrong_code",
    ]

    state = await _next_event(
        hass,
        ACTIVITY,
        lambda: control.post("/devices/lock-1/activity", {"activity": activity, "user": user}),
    )
    assert state.attributes[ATTR_EVENT_TYPE] == activity
    assert state.attributes["user"] == user
    await wait_for_state(hass, "lock.front_door_lock", lock_state)


async def test_remote_and_auto_lock_activity(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """Unlocking from Home Assistant is remote activity; relocking on door close is auto-lock."""
    state = await _next_event(
        hass,
        ACTIVITY,
        lambda: hass.services.async_call(
            "lock", "unlock", {"entity_id": "lock.front_door_lock"}, blocking=True
        ),
    )
    assert state.attributes[ATTR_EVENT_TYPE] == "remote"
    await wait_for_state(hass, "lock.front_door_lock", "unlocked")

    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.front_door_lock_auto_lock_delay", "value": 0},
        blocking=True,
    )
    await wait_for_state(hass, "number.front_door_lock_auto_lock_delay", "0.0")

    async def open_and_close() -> None:
        await control.post("/devices/lock-1/door", {"state": "open"})
        await control.post("/devices/lock-1/door", {"state": "closed"})

    state = await _next_event(hass, ACTIVITY, open_and_close)
    assert state.attributes[ATTR_EVENT_TYPE] == "auto_lock"
    await wait_for_state(hass, "lock.front_door_lock", "locked")


async def test_emergency_button_and_cancel(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """The bell's button raises an emergency; pressing it again cancels it."""
    state = hass.states.get(EMERGENCY)
    assert state is not None
    assert state.attributes[ATTR_EVENT_TYPES] == ["button", "voice", "phone", "cancelled"]

    state = await _next_event(hass, EMERGENCY, lambda: control.post("/devices/bell-1/press"))
    assert state.attributes[ATTR_EVENT_TYPE] == "button"
    assert "keyword" not in state.attributes

    state = await _next_event(hass, EMERGENCY, lambda: control.post("/devices/bell-1/press"))
    assert state.attributes[ATTR_EVENT_TYPE] == "cancelled"
    assert state.attributes["source"] == "button"


async def test_emergency_voice(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """A shout for help raises a voice emergency with the words the bell recognised."""
    state = await _next_event(
        hass, EMERGENCY, lambda: control.post("/devices/bell-1/say", {"text": "누가 사람 살려"})
    )
    assert state.attributes[ATTR_EVENT_TYPE] == "voice"
    assert state.attributes["keyword"] == "사람 살려"


async def test_emergency_from_phone(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """An emergency raised and cancelled through the actions fires phone, then cancelled."""
    wanted = device_identifier("shub-demo01", "bell-1")
    bell = next(
        device
        for device in dr.async_entries_for_config_entry(
            dr.async_get(hass), init_integration.entry_id
        )
        if wanted in device.identifiers
    )

    state = await _next_event(
        hass,
        EMERGENCY,
        lambda: hass.services.async_call(
            DOMAIN, "trigger_emergency", {"device_id": bell.id}, blocking=True
        ),
    )
    assert state.attributes[ATTR_EVENT_TYPE] == "phone"

    state = await _next_event(
        hass,
        EMERGENCY,
        lambda: hass.services.async_call(
            DOMAIN, "cancel_emergency", {"device_id": bell.id}, blocking=True
        ),
    )
    assert state.attributes[ATTR_EVENT_TYPE] == "cancelled"
    assert state.attributes["source"] == "phone"


async def test_unknown_event_type_is_ignored(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A lock activity from a newer hub that this version does not know changes nothing."""
    coordinator = init_integration.runtime_data.coordinator
    before = hass.states.get(ACTIVITY)
    coordinator._handle_event(
        Event.from_dict(
            {
                "seq": 10_000,
                "time": "2026-11-25T14:03:07.125Z",
                "event": "lock_activity",
                "device_id": "lock-1",
                "data": {"activity": "face_id", "user": None},
            }
        )
    )
    await hass.async_block_till_done()
    assert hass.states.get(ACTIVITY) == before


async def test_reload_and_link_loss_do_not_refire(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """A ring runs the automation once; reloading or losing the link does not run it again."""
    calls = await _setup_automation(hass, RING)

    rung = await _next_event(hass, RING, lambda: control.post("/devices/doorbell-1/ring"))
    await until(lambda: len(calls) == 1)
    assert calls[0].data == {"event_type": "ring"}

    # Reload: the entity goes away and comes back with the ring restored.
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    await wait_for_state(hass, RING, rung.state)
    assert hass.states.get(RING).attributes[ATTR_EVENT_TYPE] == "ring"

    # The event stream drops: unavailable, then back with the same ring.
    seen: list[str] = []
    hass.bus.async_listen(
        "state_changed",
        callback(
            lambda event: seen.append(event.data["new_state"].state)
            if event.data["entity_id"] == RING
            else None
        ),  # a callback: recorded in order, in the event loop
    )
    await control.post("/stream/drop")
    await until(lambda: seen[-2:] == [STATE_UNAVAILABLE, rung.state])

    await hass.async_block_till_done()
    assert len(calls) == 1

    await _next_event(hass, RING, lambda: control.post("/devices/doorbell-1/ring"))
    await until(lambda: len(calls) == 2)


async def test_restart_restores_without_firing(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    control: Control,
) -> None:
    """After a restart the last ring is restored, and the automation does not run for it."""
    mock_config_entry.add_to_hass(hass)
    # What Home Assistant holds after a restart: the registered entity, marked unavailable
    # until its integration is set up, and the last state it saved.
    entity_registry.async_get_or_create(
        "event",
        DOMAIN,
        "shub-demo01_doorbell-1_ring",
        suggested_object_id="front_door_doorbell_ring",
        config_entry=mock_config_entry,
    )
    hass.states.async_set(RING, STATE_UNAVAILABLE, {"restored": True})
    last_ring = datetime(2026, 11, 25, 14, 3, 7, 125000, tzinfo=UTC)
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(RING, last_ring.isoformat(timespec="milliseconds"), {"event_type": "ring"}),
                {"last_event_type": "ring", "last_event_attributes": None},
            )
        ],
    )
    calls = await _setup_automation(hass, RING)

    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    await until(lambda: mock_config_entry.runtime_data.coordinator.in_sync)
    await hass.async_block_till_done()

    state = hass.states.get(RING)
    assert state is not None
    assert datetime.fromisoformat(state.state) == last_ring
    assert state.attributes[ATTR_EVENT_TYPE] == "ring"
    assert calls == []

    await _next_event(hass, RING, lambda: control.post("/devices/doorbell-1/ring"))
    await until(lambda: len(calls) == 1)
