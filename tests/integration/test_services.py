"""The trigger_emergency and cancel_emergency actions (phone, widget, NFC tag, automations)."""

from __future__ import annotations

from unittest.mock import patch

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, selector
from homeassistant.helpers.translation import async_get_translations
from homeassistant.loader import async_get_integration
from homeassistant.util.yaml import load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.seoul_safehome.api import SafeHomeCommandError, SafeHomeProtocolError
from custom_components.seoul_safehome.const import DOMAIN
from custom_components.seoul_safehome.entity import device_identifier
from safehome_emulator import Emulator
from tests.conftest import Control
from tests.integration.common import until, wait_for_state

EMERGENCY = "binary_sensor.emergency_bell_emergency"


def _device_id(hass: HomeAssistant, device_id: str) -> str:
    """The device-registry id of one of the hub's devices (what the device selector gives)."""
    wanted = device_identifier("shub-demo01", device_id)
    registry = dr.async_get(hass)
    return next(
        device.id
        for entry in hass.config_entries.async_entries(DOMAIN)
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
        if wanted in device.identifiers
    )


async def _call(hass: HomeAssistant, service: str, device_id: str | list[str]) -> None:
    await hass.services.async_call(DOMAIN, service, {"device_id": device_id}, blocking=True)


async def test_actions_are_described(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Both bell actions offer only emergency bells to pick, and have translated names.

    (report_alarm, for a monitoring centre, is checked in test_monitoring_centre.py.)
    """
    integration = await async_get_integration(hass, DOMAIN)
    services = load_yaml_dict(str(integration.file_path / "services.yaml"))
    assert set(services) == {"trigger_emergency", "cancel_emergency", "report_alarm"}
    for name in ("trigger_emergency", "cancel_emergency"):
        field = services[name]["fields"]["device_id"]
        assert field["required"] is True
        device_selector = selector.selector(field["selector"])
        assert device_selector.config["entity"] == [
            {"integration": DOMAIN, "domain": ["binary_sensor"], "device_class": ["safety"]}
        ]
        # Several bells can be picked (every bell of the home in one tap).
        assert device_selector(["abc", "def"]) == ["abc", "def"]
    prefix = f"component.{DOMAIN}.services"
    english = await async_get_translations(hass, "en", "services", [DOMAIN])
    assert english[f"{prefix}.trigger_emergency.name"] == "Trigger emergency"
    assert english[f"{prefix}.cancel_emergency.fields.device_id.name"] == "Emergency bell"
    korean = await async_get_translations(hass, "ko", "services", [DOMAIN])
    assert korean[f"{prefix}.trigger_emergency.name"] == "비상 호출 보내기"


async def test_trigger_and_cancel(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """Triggering raises the emergency on the bell with the phone as source; cancel ends it."""
    bell = _device_id(hass, "bell-1")

    await _call(hass, "trigger_emergency", bell)
    state = await wait_for_state(hass, EMERGENCY, STATE_ON)
    assert state.attributes["source"] == "phone"
    emulated = (await control.device("bell-1"))["state"]
    assert emulated["emergency"] is True
    assert emulated["emergency_source"] == "phone"
    await wait_for_state(hass, "siren.emergency_bell_siren", STATE_ON)

    await _call(hass, "cancel_emergency", [bell])
    await wait_for_state(hass, EMERGENCY, STATE_OFF)
    await wait_for_state(hass, "siren.emergency_bell_siren", STATE_OFF)
    assert (await control.device("bell-1"))["state"]["emergency"] is False

    commands = [(c["device_id"], c["command"], c["params"]) for c in await control.commands()]
    assert commands == [
        ("bell-1", "trigger_emergency", {"source": "phone"}),
        ("bell-1", "cancel_emergency", commands[1][2]),
    ]


async def test_several_bells(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """One call can raise the emergency on every bell of the home."""
    await control.post(
        "/devices", {"id": "bell-2", "type": "emergency_bell", "name": "Bedroom bell"}
    )
    await wait_for_state(hass, "binary_sensor.bedroom_bell_emergency", STATE_OFF)

    await _call(hass, "trigger_emergency", [_device_id(hass, "bell-1"), _device_id(hass, "bell-2")])
    await wait_for_state(hass, EMERGENCY, STATE_ON)
    await wait_for_state(hass, "binary_sensor.bedroom_bell_emergency", STATE_ON)


async def test_target_is_not_a_bell(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """Targeting the door lock is refused before anything reaches the hub."""
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "trigger_emergency", _device_id(hass, "lock-1"))
    assert err.value.translation_key == "not_emergency_bell"
    assert str(err.value) == "Front door lock is not a Seoul SafeHome emergency bell"
    assert await control.commands() == []


async def test_unknown_target(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """A device id that does not exist is refused."""
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "trigger_emergency", "0123456789abcdef")
    assert err.value.translation_key == "not_emergency_bell"


async def test_target_of_another_integration(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A device of another integration is refused."""
    other = MockConfigEntry(domain="demo")
    other.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("demo", "bell")}, name="Demo bell"
    )
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "trigger_emergency", device.id)
    assert str(err.value) == "Demo bell is not a Seoul SafeHome emergency bell"


async def test_bell_removed_from_hub(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """A bell the hub no longer has (but still in the device list) is refused."""
    bell = _device_id(hass, "bell-1")
    await control.request("DELETE", "/devices/bell-1")
    await until(lambda: "bell-1" not in init_integration.runtime_data.coordinator.data.devices)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "cancel_emergency", bell)
    assert err.value.translation_key == "not_emergency_bell"


async def test_hub_not_loaded(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """With the hub's entry unloaded the action explains that the hub is not set up."""
    bell = _device_id(hass, "bell-1")
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "trigger_emergency", bell)
    assert err.value.translation_key == "entry_not_loaded"
    assert str(err.value) == (
        "The SafeHome hub of Emergency bell is not set up. Check that it is connected"
    )


async def test_offline_bell(
    hass: HomeAssistant, init_integration: MockConfigEntry, control: Control
) -> None:
    """A bell the hub cannot reach: the action fails with a translated explanation."""
    await control.post("/devices/bell-1/online", {"online": False})
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "trigger_emergency", _device_id(hass, "bell-1"))
    assert err.value.translation_key == "offline"
    assert str(err.value) == "The device does not answer the hub. Check its power and batteries"


async def test_hub_unreachable(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """With the hub gone the action says it cannot reach the hub."""
    bell = _device_id(hass, "bell-1")
    await emulator.stop()
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "trigger_emergency", bell)
    assert err.value.translation_key == "command_cannot_connect"
    assert str(err.value) == (
        "Could not reach the SafeHome hub. Check that it is powered and on the network"
    )


async def test_pairing_revoked(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    mock_config_entry: MockConfigEntry,
) -> None:
    """With the pairing revoked on the hub the action asks to pair again; no token shows."""
    token = mock_config_entry.data["token"]
    await control.post("/tokens/revoke")
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "trigger_emergency", _device_id(hass, "bell-1"))
    assert err.value.translation_key == "command_unauthorized"
    assert token not in str(err.value)


@pytest.mark.parametrize(
    ("error", "key", "message"),
    [
        (
            SafeHomeCommandError("siren fuse blown", code="siren_fault", status=409),
            "command_failed",
            "The SafeHome hub refused the command (error siren_fault)",
        ),
        (
            SafeHomeProtocolError("Device: field 'state' is missing"),
            "command_invalid_answer",
            "The SafeHome hub sent an answer that could not be understood",
        ),
    ],
)
async def test_hub_answers_outside_the_spec(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    error: Exception,
    key: str,
    message: str,
) -> None:
    """A hub from another vendor with an unknown error code, or a broken answer, is explained."""
    client = init_integration.runtime_data.client
    with (
        patch.object(client, "trigger_emergency", side_effect=error),
        pytest.raises(HomeAssistantError) as err,
    ):
        await _call(hass, "trigger_emergency", _device_id(hass, "bell-1"))
    assert err.value.translation_key == key
    assert str(err.value) == message


async def test_no_deprecated_device_registry_use(
    hass: HomeAssistant, init_integration: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """Set-up and the actions use the device registry the way the running release wants.

    Releases from 2026.8 warn about `via_device` and `DeviceEntry.config_entries` (gone in
    2027.8 and 2027.10) with "Detected that custom integration ..."; the newest-release
    lane runs this test on one of them.
    """
    await _call(hass, "trigger_emergency", _device_id(hass, "bell-1"))
    await wait_for_state(hass, EMERGENCY, STATE_ON)
    with pytest.raises(ServiceValidationError):
        await _call(hass, "cancel_emergency", _device_id(hass, "lock-1"))
    reports = [
        record.getMessage()
        for record in (*caplog.get_records("setup"), *caplog.records)
        if f"custom integration '{DOMAIN}'" in record.getMessage()
    ]
    assert reports == []
