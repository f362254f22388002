"""Setting up, losing and regaining a real hub (the emulator): what a user sees when the hub
reboots, refuses Home Assistant, gains or loses devices, or runs an unsupported API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
import logging
import socket

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import (
    CONF_HOST,
    CONF_PORT,
    CONF_TOKEN,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.seoul_safehome.const import CONF_FINGERPRINT, DOMAIN, ISSUE_API_VERSION
from custom_components.seoul_safehome.entity import device_identifier
from safehome_emulator import Emulator
from tests.conftest import Control, running_emulator
from tests.integration.common import until, wait_for_state

HUB_ID = "shub-demo01"
CAMERA = "camera.home_camera"
CONNECTIVITY = "binary_sensor.safehome_hub_connectivity"
LOGGER_NAME = "custom_components.seoul_safehome"


def entity_ids(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    """Return the enabled entities of a config entry, except the hub's connectivity."""
    return [
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.disabled_by is None and e.entity_id != CONNECTIVITY
    ]


def unavailable(hass: HomeAssistant, ids: list[str]) -> list[str]:
    """Return which of `ids` are unavailable (or missing)."""
    return [
        entity_id
        for entity_id in ids
        if (state := hass.states.get(entity_id)) is None or state.state == STATE_UNAVAILABLE
    ]


def find_device(
    hass: HomeAssistant, entry: MockConfigEntry, identifier: tuple[str, str]
) -> dr.DeviceEntry | None:
    """Return the entry's device with an identifier (works on every supported release)."""
    return next(
        (
            device
            for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
            if identifier in device.identifiers
        ),
        None,
    )


def reauth_flows(hass: HomeAssistant, entry: MockConfigEntry) -> list[dict]:
    """Return the re-authentication flows in progress for an entry."""
    return [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == SOURCE_REAUTH
        and flow["context"].get("entry_id") == entry.entry_id
    ]


def link_log(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    """Return the integration's INFO records that contain `text`."""
    return [
        r
        for r in caplog.records
        if r.name.startswith(LOGGER_NAME) and r.levelno == logging.INFO and text in r.getMessage()
    ]


async def test_setup_and_unload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """The hub and each device of the kit appear; unloading takes them offline."""
    entry = init_integration
    assert entry.state is ConfigEntryState.LOADED
    hub = find_device(hass, entry, (DOMAIN, HUB_ID))
    assert hub is not None
    assert hub.manufacturer == "Seoul SafeHome"
    assert hub.model == "SH-HUB1"
    assert hub.sw_version == "1.4.2"
    for device_id in ("doorbell-1", "cam-1", "lock-1", "bell-1"):
        device = find_device(hass, entry, device_identifier(HUB_ID, device_id))
        assert device is not None, device_id
        assert device.via_device_id == hub.id
    ids = entity_ids(hass, entry)
    assert CAMERA in ids
    assert not unavailable(hass, ids)

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert unavailable(hass, [*ids, CONNECTIVITY]) == [*ids, CONNECTIVITY]


async def test_hub_down_at_setup(
    hass: HomeAssistant, emulator: Emulator, mock_config_entry: MockConfigEntry
) -> None:
    """A hub that is switched off: setup is retried later, not failed."""
    await emulator.stop()
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    assert "Could not reach the SafeHome hub" in mock_config_entry.reason


async def test_wrong_port_at_setup(hass: HomeAssistant, token: str) -> None:
    """Nothing listens at the configured address: setup is retried later."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free_port = sock.getsockname()[1]
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=HUB_ID,
        data={
            CONF_HOST: "127.0.0.1",
            CONF_PORT: free_port,
            CONF_TOKEN: token,
            CONF_FINGERPRINT: "00" * 32,
        },
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_event_stream_silent_at_setup(
    hass: HomeAssistant, control: Control, mock_config_entry: MockConfigEntry
) -> None:
    """A hub that answers REST but does not open its event stream yet.

    The entry loads, but nothing is shown as the hub's state until the stream is in sync:
    the entities are unavailable and the connectivity sensor is off, then all come back.
    """
    await control.post("/stream/pause", {"seconds": 1.5})
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED
    ids = entity_ids(hass, mock_config_entry)
    assert unavailable(hass, ids) == ids
    assert hass.states.get(CONNECTIVITY).state == STATE_OFF
    await until(lambda: not unavailable(hass, ids), timeout=10)
    assert hass.states.get(CONNECTIVITY).state == STATE_ON


async def test_token_refused_at_setup(
    hass: HomeAssistant, control: Control, mock_config_entry: MockConfigEntry
) -> None:
    """A hub that no longer knows Home Assistant's token asks the user to pair again."""
    await control.post("/tokens/revoke")
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    assert len(reauth_flows(hass, mock_config_entry)) == 1


async def test_token_revoked_at_runtime(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """The hub revokes the token while running: entities go offline and re-pairing starts."""
    ids = entity_ids(hass, init_integration)
    assert not reauth_flows(hass, init_integration)
    await control.post("/tokens/revoke")
    await until(lambda: reauth_flows(hass, init_integration))
    await until(lambda: unavailable(hass, ids) == ids)
    assert len(reauth_flows(hass, init_integration)) == 1


async def test_link_lost_and_regained(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A hub reboot makes every entity unavailable, then available; logged once each way."""
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    ids = entity_ids(hass, init_integration)
    await control.post("/restart", {"downtime": 1.5})
    await until(lambda: unavailable(hass, ids) == ids)
    # The hub's connectivity sensor stays available to tell that the hub is away.
    assert hass.states.get(CONNECTIVITY).state == STATE_OFF
    await until(lambda: not unavailable(hass, ids), timeout=10)
    assert hass.states.get(CONNECTIVITY).state == STATE_ON

    assert len(link_log(caplog, "Lost connection to SafeHome hub")) == 1
    assert len(link_log(caplog, "Connection to SafeHome hub")) == 1
    assert init_integration.state is ConfigEntryState.LOADED


async def test_dropped_stream_reconnects(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """A dropped event stream resumes without losing what happened meanwhile."""
    await control.post("/stream/drop")
    await control.post("/devices/cam-1/online", {"online": False})
    await wait_for_state(hass, CAMERA, STATE_UNAVAILABLE)
    await control.post("/devices/cam-1/online", {"online": True})
    await wait_for_state(hass, CAMERA, "idle")


async def test_states_after_restart(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """What changed while the hub rebooted, and what happens after, is shown correctly."""
    await control.post("/restart", {"downtime": 1.0})
    await wait_for_state(hass, CAMERA, STATE_UNAVAILABLE)
    # While the hub is away the camera goes offline; Home Assistant cannot hear it.
    await control.post("/devices/cam-1/online", {"online": False})
    # After the reboot the hub tells Home Assistant to reload: the camera stays offline.
    entry = init_integration
    coordinator = entry.runtime_data.coordinator
    await until(lambda: coordinator.link_up, timeout=10)
    await until(lambda: not coordinator.data.devices["cam-1"].online)
    assert hass.states.get(CAMERA).state == STATE_UNAVAILABLE
    # Events of the new boot (sequence numbers restart at 1) are not taken for duplicates.
    await control.post("/devices/cam-1/online", {"online": True})
    await wait_for_state(hass, CAMERA, "idle")
    await control.post("/devices/doorbell-1/online", {"online": False})
    await wait_for_state(hass, "camera.front_door_doorbell_camera", STATE_UNAVAILABLE)


async def test_devices_come_and_go(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """A device added on the hub appears; a removed one goes offline and can be deleted."""
    assert await async_setup_component(hass, "config", {})
    devices = dr.async_get(hass)
    await control.post("/devices", {"id": "cam-2", "type": "camera", "name": "Kitchen camera"})
    await wait_for_state(hass, "camera.kitchen_camera", "idle")
    kitchen = find_device(hass, init_integration, device_identifier(HUB_ID, "cam-2"))
    assert kitchen is not None
    assert kitchen.name == "Kitchen camera"

    await control.request("DELETE", "/devices/cam-2")
    await wait_for_state(hass, "camera.kitchen_camera", STATE_UNAVAILABLE)

    ws = await hass_ws_client(hass)

    async def remove(device: dr.DeviceEntry) -> bool:
        await ws.send_json_auto_id(
            {
                "type": "config/device_registry/remove_config_entry",
                "config_entry_id": init_integration.entry_id,
                "device_id": device.id,
            }
        )
        return (await ws.receive_json())["success"]

    # Devices the hub still has, and the hub itself, cannot be deleted.
    present = find_device(hass, init_integration, device_identifier(HUB_ID, "cam-1"))
    hub = find_device(hass, init_integration, (DOMAIN, HUB_ID))
    assert not await remove(present)
    assert not await remove(hub)
    assert devices.async_get(present.id) is not None

    assert await remove(kitchen)
    assert devices.async_get(kitchen.id) is None
    assert hass.states.get("camera.kitchen_camera") is None


@pytest.fixture
async def old_emulator(socket_enabled: None) -> AsyncIterator[Emulator]:
    """A hub whose firmware speaks SafeHome Local API 1.9 (older than the secure link)."""
    async with running_emulator(api_version="1.9") as emu:
        yield emu


def hub_entry(emulator: Emulator) -> MockConfigEntry:
    """A config entry for an emulator, paired directly."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="SafeHome Hub",
        unique_id=HUB_ID,
        data={
            CONF_HOST: "127.0.0.1",
            CONF_PORT: emulator.port,
            CONF_TOKEN: emulator.issue_token("Home Assistant"),
            CONF_FINGERPRINT: emulator.fingerprint,
        },
    )


async def test_hub_firmware_too_old(hass: HomeAssistant, old_emulator: Emulator) -> None:
    """A hub too old for the integration: set-up fails for good with a repair issue (no
    endless retries), and the reload the issue asks for after the update sets it up."""
    entry = hub_entry(old_emulator)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert "Update the hub's firmware" in entry.reason

    issues = ir.async_get(hass)
    issue = issues.async_get_issue(DOMAIN, f"{ISSUE_API_VERSION}_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_key == "api_version_too_old"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert not issue.is_fixable
    assert issue.translation_placeholders == {
        "name": "SafeHome Hub",
        "version": "1.9",
        "min_version": "2.0",
        "major": "2",
    }

    # Nothing retries a hub that would answer the same.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=10))
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR

    # The user updates the hub's firmware, then reloads the integration as the issue says.
    old_emulator.hub.config = old_emulator.hub.config.replace(api_version="2.0")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert issues.async_get_issue(DOMAIN, f"{ISSUE_API_VERSION}_{entry.entry_id}") is None
    await wait_for_state(hass, CAMERA, "idle")


async def test_hub_api_newer_than_integration(hass: HomeAssistant, emulator: Emulator) -> None:
    """A hub of a newer major API asks for a newer integration; removing the entry clears it."""
    emulator.hub.config = emulator.hub.config.replace(api_version="3.0")
    entry = hub_entry(emulator)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert "Update the Seoul SafeHome integration" in entry.reason

    issues = ir.async_get(hass)
    issue_id = f"{ISSUE_API_VERSION}_{entry.entry_id}"
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "api_version_unsupported"
    assert issue.translation_placeholders["version"] == "3.0"

    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, issue_id) is None


async def test_hub_firmware_changes_while_running(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator, control: Control
) -> None:
    """A hub that reboots into an unsupported API version fails the entry with a repair
    issue; after the next firmware update, reloading the integration brings it back."""
    issue_id = f"{ISSUE_API_VERSION}_{init_integration.entry_id}"
    issues = ir.async_get(hass)
    emulator.hub.config = emulator.hub.config.replace(api_version="1.9")
    await control.post("/restart", {"downtime": 0})
    await until(lambda: init_integration.state is ConfigEntryState.SETUP_ERROR, timeout=10)
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "api_version_too_old"
    assert hass.states.get(CAMERA).state == STATE_UNAVAILABLE

    emulator.hub.config = emulator.hub.config.replace(api_version="2.1")
    await control.post("/restart", {"downtime": 0})
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await until(lambda: init_integration.state is ConfigEntryState.LOADED, timeout=10)
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    await wait_for_state(hass, CAMERA, "idle")
