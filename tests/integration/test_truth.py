"""What Home Assistant shows is the hub's true state or `unavailable`, never a stale guess.

Each test reproduces a way the integration once showed a state that was not the hub's
(issue 8): a failed reload after a reboot or a gap, a REST refresh bringing the link "up"
without a stream, a stream outliving Home Assistant, and a replayed ring passing for a
live one.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
import logging

from homeassistant.components.lock import LockState
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.seoul_safehome as integration
from custom_components.seoul_safehome.event import ATTR_DELAYED, ATTR_OCCURRED_AT, ATTR_SEQ
from safehome_emulator import Emulator
from tests.conftest import Control
from tests.integration.common import until, wait_for_state

LOCK = "lock.front_door_lock"
RING = "event.front_door_doorbell_ring"
CONNECTIVITY = "binary_sensor.safehome_hub_connectivity"
DOOR = "binary_sensor.front_door_lock_door"


def record_states(hass: HomeAssistant, entity_id: str) -> list[State]:
    """Record every state `entity_id` is written with from now on."""
    seen: list[State] = []

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        if event.data["entity_id"] == entity_id and (new := event.data["new_state"]):
            seen.append(new)

    hass.bus.async_listen("state_changed", changed)
    return seen


async def unlock_at_keypad(control: Control) -> None:
    """Unlock the front door at its keypad and wait until the hub says it is unlocked."""
    await control.post("/devices/lock-1/activity", {"activity": "keypad", "user": "1"})

    async def unlocked() -> bool:
        return (await control.device("lock-1"))["state"]["lock_state"] == "unlocked"

    for _ in range(200):
        if await unlocked():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the emulated lock did not unlock")


async def test_failed_reload_after_a_reboot_is_never_shown_as_the_truth(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The hub reboots, the door is unlocked meanwhile, the first reload fails.

    The lock is unavailable until a reload succeeds, then unlocked: never *locked*.
    """
    await wait_for_state(hass, LOCK, LockState.LOCKED)
    await control.post("/restart", {"downtime": 300})  # down until the test says so
    await wait_for_state(hass, LOCK, STATE_UNAVAILABLE)
    states = record_states(hass, LOCK)
    await unlock_at_keypad(control)
    await control.post("/reads/fail", {"count": 1})
    await control.post("/restart", {"downtime": 0})  # the reboot ends now

    await wait_for_state(hass, LOCK, LockState.UNLOCKED, timeout=10)
    assert [state.state for state in states] == [LockState.UNLOCKED]
    assert (await control.post("/reads/fail", {"count": 0}))["left"] == 0  # it did fail
    # One failed read while a hub finishes booting is expected: no error in the log.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_failed_reload_after_a_gap_is_never_shown_as_the_truth(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """The link drops, the door is unlocked, the hub forgets the events, a reload fails."""
    await wait_for_state(hass, LOCK, LockState.LOCKED)
    coordinator = init_integration.runtime_data.coordinator
    # Hold the stream (nothing is sent, a new link gets no welcome yet) so that Home
    # Assistant misses the unlock, then make the hub forget it and drop the link.
    await control.post("/stream/pause", {"seconds": 3})
    await unlock_at_keypad(control)
    await control.post("/buffer/clear")
    await control.post("/reads/fail", {"count": 1})
    states = record_states(hass, LOCK)
    await control.post("/stream/drop")

    await wait_for_state(hass, LOCK, LockState.UNLOCKED, timeout=10)
    assert [state.state for state in states] == [STATE_UNAVAILABLE, LockState.UNLOCKED]
    assert coordinator.in_sync
    assert (await control.post("/reads/fail", {"count": 0}))["left"] == 0  # it did fail


async def test_update_entity_during_an_outage_does_not_bring_the_link_up(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """A REST refresh is not a link: without a welcomed stream entities stay unavailable."""
    assert await async_setup_component(hass, "homeassistant", {})
    await control.post("/stream/pause", {"seconds": 3})
    await control.post("/stream/drop")
    await wait_for_state(hass, LOCK, STATE_UNAVAILABLE)
    assert hass.states.get(CONNECTIVITY).state == STATE_OFF

    await hass.services.async_call(
        "homeassistant", "update_entity", {"entity_id": [LOCK, CONNECTIVITY]}, blocking=True
    )
    await asyncio.sleep(0.3)
    assert hass.states.get(LOCK).state == STATE_UNAVAILABLE
    assert hass.states.get(CONNECTIVITY).state == STATE_OFF
    # Once the hub talks again the link is back by itself.
    await wait_for_state(hass, LOCK, LockState.LOCKED, timeout=10)
    assert hass.states.get(CONNECTIVITY).state == STATE_ON


async def test_home_assistant_stop_ends_the_stream(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """At stop the stream is closed and never reconnects; nothing is logged as an error."""
    caplog.set_level(logging.DEBUG, logger="custom_components.seoul_safehome")
    await until(lambda: len(emulator.hub.subscribers) == 1)
    await hass.async_stop()
    await until(lambda: not emulator.hub.subscribers)
    await asyncio.sleep(0.5)  # several quick retry intervals
    assert not emulator.hub.subscribers
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Reconnecting the SafeHome event stream" not in caplog.text


async def test_replayed_ring_carries_its_real_time(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """A ring during an outage fires once when the link is back, marked late, with its time."""
    written = record_states(hass, RING)
    await control.post("/devices/doorbell-1/ring")
    live = await until_fired(written, 1)
    assert live.attributes[ATTR_DELAYED] is False

    await control.post("/stream/pause", {"seconds": 4})
    await control.post("/stream/drop")
    await wait_for_state(hass, RING, STATE_UNAVAILABLE)
    await control.post("/devices/doorbell-1/ring")
    rang_at = (await control.device("doorbell-1"))["state"]["last_ring"]

    late = await until_fired(written, 2, timeout=10)
    assert late.attributes[ATTR_DELAYED] is True
    assert datetime.fromisoformat(late.attributes[ATTR_OCCURRED_AT]) == datetime.fromisoformat(
        rang_at
    )
    assert late.attributes[ATTR_SEQ] > live.attributes[ATTR_SEQ]
    await asyncio.sleep(0.2)
    assert len(fired(written)) == 2  # once each


def fired(written: list[State]) -> list[State]:
    """Return the written states that are firings (a new event, not a restored one)."""
    firings: list[State] = []
    for state in written:
        if state.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN) and state.state not in {
            f.state for f in firings
        }:
            firings.append(state)
    return firings


async def until_fired(written: list[State], count: int, timeout: float = 5.0) -> State:
    """Wait until the ring entity fired `count` times; return the last firing."""
    await until(lambda: len(fired(written)) >= count, timeout)
    return fired(written)[-1]


async def test_nothing_falls_between_the_load_and_the_first_event(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    control: Control,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A ring and a door opened while the entities are being set up are not lost.

    Setting the platforms up awaits (here: a slow platform); the hub's state was loaded
    before, so whatever happens meanwhile must still reach the entities.
    """
    forward = hass.config_entries.async_forward_entry_setups

    async def slow_forward(entry: ConfigEntry, platforms: list[Platform]) -> None:
        await control.post("/devices/doorbell-1/ring")
        await control.post("/devices/lock-1/door", {"state": "open"})
        await asyncio.sleep(0.2)
        await forward(entry, platforms)

    monkeypatch.setattr(hass.config_entries, "async_forward_entry_setups", slow_forward)
    written = record_states(hass, RING)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    ring = await until_fired(written, 1)
    assert ring.attributes["event_type"] == "ring"
    await wait_for_state(hass, DOOR, STATE_ON)
    await asyncio.sleep(0.2)
    assert len(fired(written)) == 1


async def test_events_between_a_reboot_and_the_reconnection_are_not_lost(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """The hub reboots and someone rings before Home Assistant is back: the ring fires once.

    The hub still holds its new boot's events; after the reload Home Assistant applies them
    (found by the soak: they were skipped by the resync to the hub's current position).
    """
    stream = init_integration.runtime_data.coordinator.stream
    stream._uniform = lambda low, high: 5.0  # reconnect 0.5 s after the drop
    written = record_states(hass, RING)
    await control.post("/restart", {"downtime": 0})
    await control.post("/devices/doorbell-1/ring")
    rang_at = (await control.device("doorbell-1"))["state"]["last_ring"]

    ring = await until_fired(written, 1, timeout=10)
    assert datetime.fromisoformat(ring.attributes[ATTR_OCCURRED_AT]) == datetime.fromisoformat(
        rang_at
    )
    assert ring.attributes[ATTR_SEQ] <= 2  # the new boot's first events
    await asyncio.sleep(0.3)
    assert len(fired(written)) == 1


async def test_a_link_that_catches_up_after_a_failed_reload_is_trusted_again(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """A gap's reload fails; the next link finds nothing missed: all available again.

    Nothing else happens at home meanwhile, so no event can bring the entities back: the
    link being in sync again must.
    """
    states = record_states(hass, LOCK)
    await control.post("/reads/fail", {"count": 1})
    await control.post("/stream/garbage", {"kind": "skipped_seq"})
    await until(lambda: any(state.state == STATE_UNAVAILABLE for state in states))
    await wait_for_state(hass, LOCK, LockState.LOCKED, timeout=10)
    assert init_integration.runtime_data.coordinator.in_sync
    written = record_states(hass, RING)
    await control.post("/devices/doorbell-1/ring")
    await until_fired(written, 1)


async def test_a_ring_replayed_after_its_doorbell_went_offline_still_fires(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """During an outage someone rings, then the doorbell drops offline: the ring still fires.

    The replay applies both; the ring must not be written into an entity that is already
    unavailable (no state change: no automation, no logbook row). It shows, late, and the
    entity then shows the doorbell's state now (unavailable).
    """
    coordinator = init_integration.runtime_data.coordinator
    written = record_states(hass, RING)
    await control.post("/stream/pause", {"seconds": 4})
    await control.post("/stream/drop")
    await until(lambda: not coordinator.link_up)
    await control.post("/devices/doorbell-1/ring")
    await control.post("/devices/doorbell-1/online", {"online": False})

    ring = await until_fired(written, 1, timeout=10)
    assert ring.attributes[ATTR_DELAYED] is True
    await wait_for_state(hass, RING, STATE_UNAVAILABLE)
    await asyncio.sleep(0.2)
    assert len(fired(written)) == 1
    assert written[-1].state == STATE_UNAVAILABLE


@pytest.mark.parametrize("skew", [-300, 300], ids=["hub-clock-behind", "hub-clock-ahead"])
async def test_late_or_live_is_right_from_the_first_event(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, control: Control, skew: int
) -> None:
    """A hub without NTP, 5 minutes off: right after set-up (before any heartbeat) a live
    ring is live and a ring replayed after a short outage is late."""
    await control.post("/clock", {"skew": skew})
    try:
        mock_config_entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
        coordinator = mock_config_entry.runtime_data.coordinator
        await until(lambda: coordinator.in_sync)
        written = record_states(hass, RING)
        await control.post("/devices/doorbell-1/ring")  # someone at the door now
        live = await until_fired(written, 1)
        assert live.attributes[ATTR_DELAYED] is False

        await control.post("/stream/pause", {"seconds": 4})
        await control.post("/stream/drop")
        await until(lambda: not coordinator.link_up)
        await control.post("/devices/doorbell-1/ring")
        late = await until_fired(written, 2, timeout=10)
        assert late.attributes[ATTR_DELAYED] is True
    finally:
        await control.post("/clock", {"skew": 0})


async def test_nothing_changes_while_the_entry_unloads(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A device added on the hub while the platforms are being unloaded leaves no entity.

    (The platforms' own unloading awaits; the test widens that moment.)
    """
    unload = hass.config_entries.async_unload_platforms

    async def slow_unload(entry: ConfigEntry, platforms: list[Platform]) -> bool:
        result = await unload(entry, platforms)
        await control.post("/devices", {"id": "bell-9", "type": "doorbell", "name": "Back door"})
        await asyncio.sleep(0.5)
        return result

    monkeypatch.setattr(hass.config_entries, "async_unload_platforms", slow_unload)
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    live = [
        state.entity_id
        for state in hass.states.async_all()
        if "back_door" in state.entity_id and state.state != STATE_UNAVAILABLE
    ]
    assert live == []


async def test_a_ring_during_a_reload_is_not_lost(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Someone rings while the integration reloads (an option changed): it fires once, late
    if the reload took long, after the reload; and only that ring."""
    written = record_states(hass, RING)
    await control.post("/devices/doorbell-1/ring")
    await until_fired(written, 1)
    unload = hass.config_entries.async_unload_platforms

    async def slow_unload(entry: ConfigEntry, platforms: list[Platform]) -> bool:
        result = await unload(entry, platforms)
        await control.post("/devices/doorbell-1/ring")  # during the reload
        await asyncio.sleep(0.3)
        return result

    monkeypatch.setattr(hass.config_entries, "async_unload_platforms", slow_unload)
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    monkeypatch.undo()
    rang_at = (await control.device("doorbell-1"))["state"]["last_ring"]
    ring = await until_fired(written, 2, timeout=10)
    assert datetime.fromisoformat(ring.attributes[ATTR_OCCURRED_AT]) == datetime.fromisoformat(
        rang_at
    )
    await asyncio.sleep(0.3)
    assert len(fired(written)) == 2


async def test_an_entry_set_up_again_long_after_its_unload_fires_nothing_old(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Disabled, a ring meanwhile, enabled again later: it starts from the hub's state.

    (Only a set-up soon after the unload, such as a reload, tells what happened between.)
    """
    monkeypatch.setattr(integration, "RESUME_WITHIN", 0.0)  # "later": any time at all
    written = record_states(hass, RING)
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await control.post("/devices/doorbell-1/ring")
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await until(lambda: init_integration.runtime_data.coordinator.in_sync)
    await control.post("/devices/lock-1/door", {"state": "open"})  # a live event after it
    await wait_for_state(hass, DOOR, STATE_ON)
    await asyncio.sleep(0.2)
    assert fired(written) == []


async def test_entities_follow_the_hub_when_unloading_fails(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A platform that cannot be unloaded keeps its entities: they still follow the hub."""

    async def refuse(entry: ConfigEntry, platforms: list[Platform]) -> bool:
        return False

    written = record_states(hass, RING)
    await control.post("/devices/doorbell-1/ring")  # told before the unload ...
    await until_fired(written, 1)
    monkeypatch.setattr(hass.config_entries, "async_unload_platforms", refuse)
    assert not await hass.config_entries.async_unload(init_integration.entry_id)
    assert init_integration.state is ConfigEntryState.FAILED_UNLOAD
    await control.post("/devices/lock-1/door", {"state": "open"})
    await wait_for_state(hass, DOOR, STATE_ON)
    await control.post("/devices/doorbell-1/ring")
    await until_fired(written, 2)
    await asyncio.sleep(0.2)
    assert len(fired(written)) == 2  # ... and not told again
