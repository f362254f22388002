"""The doorbell's history: a reload, a lost link or a restart is never a ring.

These tests read what a resident reads: the logbook (asked for as the frontend does) and
the states the recorder kept. Home Assistant gives every event entity two logbook entries
when it goes away and comes back: `unavailable`, then its restored state, the time of its
last event unchanged. While the hub's link is down the entities must be unavailable, so
the integration cannot avoid these two; it owns that the last event is never lost or
replaced and that nothing more is written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

from homeassistant.components.recorder import Recorder, get_instance, history
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import restore_state
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_load_restore_state_from_storage,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import (
    RecorderInstanceGenerator,
    WebSocketGenerator,
)

from tests.conftest import Control
from tests.integration.common import until, wait_for_state

RING = "event.front_door_doorbell_ring"

type Outage = Callable[[HomeAssistant, MockConfigEntry, Control], Awaitable[object]]


@pytest.fixture(autouse=True)
def mock_recorder_before_hass(async_setup_recorder_instance: RecorderInstanceGenerator) -> None:
    """Let the recorder start before Home Assistant, as it does in a real installation."""


@pytest.fixture
async def logbook(recorder_mock: Recorder, hass: HomeAssistant) -> None:
    """The recorder and the logbook of a default installation."""
    # The logbook depends on the frontend, whose files (hass_frontend) are not needed here
    # and not installed on every test lane: count it as loaded.
    hass.config.components.add("frontend")
    assert await async_setup_component(hass, "logbook", {})


@pytest.fixture
async def ready(
    logbook: None, hass: HomeAssistant, init_integration: MockConfigEntry
) -> MockConfigEntry:
    """The integration, following the hub's event stream."""
    await until(lambda: init_integration.runtime_data.coordinator.link_up)
    return init_integration


def _watch(hass: HomeAssistant) -> list[str]:
    """Collect every state the doorbell is given from now on."""
    states: list[str] = []

    @callback
    def record(event: Event[EventStateChangedData]) -> None:
        if event.data["entity_id"] == RING and (new := event.data["new_state"]) is not None:
            states.append(new.state)

    hass.bus.async_listen("state_changed", record)
    return states


async def _ring(hass: HomeAssistant, control: Control) -> str:
    """Press the doorbell; return the ring's time (the event entity's new state)."""
    before = hass.states.get(RING)
    assert before is not None
    await control.post("/devices/doorbell-1/ring")

    def rung() -> bool:
        state = hass.states.get(RING)
        return state is not None and state.state not in (before.state, STATE_UNAVAILABLE)

    await until(rung)
    return hass.states.get(RING).state


async def _logbook(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, start: datetime
) -> list[dict[str, Any]]:
    """The doorbell's logbook entries since `start`, asked for as the frontend does."""
    await async_wait_recording_done(hass)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": "logbook/get_events", "start_time": start.isoformat(), "entity_ids": [RING]}
    )
    response = await client.receive_json()
    assert response["success"]
    return response["result"]


async def _recorded(hass: HomeAssistant, start: datetime) -> list[str]:
    """The doorbell's states the recorder kept since `start`."""
    await async_wait_recording_done(hass)
    changes = await get_instance(hass).async_add_executor_job(
        partial(
            history.state_changes_during_period,
            hass,
            start,
            entity_id=RING,
            include_start_time_state=False,
        )
    )
    return [state.state for state in changes.get(RING, [])]


def _shown(states: list[str]) -> list[str]:
    """What the doorbell showed while it was available, each value once in a row."""
    shown: list[str] = []
    for state in states:
        if state != STATE_UNAVAILABLE and (not shown or shown[-1] != state):
            shown.append(state)
    return shown


async def _reload(hass: HomeAssistant, entry: MockConfigEntry, control: Control) -> None:
    """Reload the integration (Settings → the hub → Reload)."""
    assert await hass.config_entries.async_reload(entry.entry_id)


async def _drop_link(hass: HomeAssistant, entry: MockConfigEntry, control: Control) -> None:
    """Cut the event stream; the integration reconnects."""
    await control.post("/stream/drop")


async def _restart_hub(hass: HomeAssistant, entry: MockConfigEntry, control: Control) -> None:
    """Reboot the hub (a new boot: Home Assistant reloads its state)."""
    await control.post("/restart", {"downtime": 0.5})


@pytest.mark.parametrize(
    "outage",
    [_reload, _drop_link, _restart_hub],
    ids=["reload", "dropped link", "hub restart"],
)
async def test_outage_is_not_a_ring(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    ready: MockConfigEntry,
    control: Control,
    outage: Outage,
) -> None:
    """One ring is one logbook entry at its time; an outage only shows the same ring again."""
    start = dt_util.utcnow()
    rung = await _ring(hass, control)
    states = _watch(hass)
    outage_started = dt_util.utcnow().timestamp()

    await outage(hass, ready, control)
    await until(lambda: STATE_UNAVAILABLE in states and states[-1] == rung, timeout=10)
    await hass.async_block_till_done()

    assert hass.states.get(RING).attributes["event_type"] == "ring"
    entries = await _logbook(hass, hass_ws_client, start)
    assert [entry["state"] for entry in entries] == [rung, STATE_UNAVAILABLE, rung]
    # The ring is logged when it rang; the outage adds no entry with a new time.
    assert entries[0]["when"] < outage_started <= entries[1]["when"]
    assert _shown(await _recorded(hass, start)) == [rung]


async def test_ring_while_hub_away_is_logged_once(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    ready: MockConfigEntry,
    control: Control,
) -> None:
    """A ring the hub replays after an outage comes back as itself, not after the last one."""
    start = dt_util.utcnow()
    rung = await _ring(hass, control)
    states = _watch(hass)

    # The hub's API restarts (the same boot): it keeps the ring that happens meanwhile.
    await control.post("/restart", {"downtime": 300, "new_boot": False})
    await wait_for_state(hass, RING, STATE_UNAVAILABLE)
    await control.post("/devices/doorbell-1/ring")
    await control.post("/restart", {"downtime": 0, "new_boot": False})
    await until(lambda: bool(states) and states[-1] not in (STATE_UNAVAILABLE, rung), timeout=10)
    await hass.async_block_till_done()

    replayed = hass.states.get(RING).state
    entries = await _logbook(hass, hass_ws_client, start)
    assert [entry["state"] for entry in entries] == [rung, STATE_UNAVAILABLE, replayed]
    assert _shown(await _recorded(hass, start)) == [rung, replayed]


async def _hub_away(hass: HomeAssistant, control: Control) -> None:
    """Take the hub away (rebooting) until `_hub_back`; the doorbell is unavailable."""
    await control.post("/restart", {"downtime": 300})
    await wait_for_state(hass, RING, STATE_UNAVAILABLE)


async def _hub_back(control: Control) -> None:
    """Finish the hub's reboot now."""
    await control.post("/restart", {"downtime": 0})


async def test_reload_while_hub_away_keeps_the_last_ring(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    ready: MockConfigEntry,
    control: Control,
) -> None:
    """Reloading while the hub is away, then the hub coming back, keeps the last ring."""
    start = dt_util.utcnow()
    rung = await _ring(hass, control)
    await _hub_away(hass, control)

    # The hub cannot be reached: the entry waits to retry, its entities unavailable.
    assert not await hass.config_entries.async_reload(ready.entry_id)
    assert ready.state is ConfigEntryState.SETUP_RETRY
    assert hass.states.get(RING).state == STATE_UNAVAILABLE

    await _hub_back(control)
    assert await hass.config_entries.async_reload(ready.entry_id)
    await wait_for_state(hass, RING, rung)
    assert hass.states.get(RING).attributes["event_type"] == "ring"

    entries = await _logbook(hass, hass_ws_client, start)
    assert [entry["state"] for entry in entries] == [rung, STATE_UNAVAILABLE, rung]
    assert _shown(await _recorded(hass, start)) == [rung]


async def test_restart_while_hub_away_keeps_the_last_ring(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    ready: MockConfigEntry,
    control: Control,
) -> None:
    """Home Assistant restarting while the hub is away still shows the last ring after."""
    start = dt_util.utcnow()
    rung = await _ring(hass, control)
    await _hub_away(hass, control)

    # Home Assistant stops (saving every entity's state: the doorbell's is `unavailable`)
    # and starts again with what it saved, the hub back.
    await restore_state.async_get(hass).async_dump_states()
    assert await hass.config_entries.async_unload(ready.entry_id)
    await async_mock_load_restore_state_from_storage(hass)
    await _hub_back(control)
    assert await hass.config_entries.async_setup(ready.entry_id)
    await wait_for_state(hass, RING, rung)
    assert hass.states.get(RING).attributes["event_type"] == "ring"

    entries = await _logbook(hass, hass_ws_client, start)
    assert [entry["state"] for entry in entries] == [rung, STATE_UNAVAILABLE, rung]
    assert _shown(await _recorded(hass, start)) == [rung]
