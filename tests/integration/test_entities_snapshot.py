"""Every entity of the Seoul kit: registry entry and state, compared with a snapshot."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.icon import async_get_icons
from homeassistant.helpers.json import json_dumps
from homeassistant.util.json import json_loads
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.seoul_safehome.const import DOMAIN

# Camera entities carry rotating access tokens; their own tests cover them.
SKIPPED_DOMAINS = {"camera"}


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Home Assistant's snapshot format and folder on every test plugin release."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


def _entry(entry: er.RegistryEntry, device: dr.DeviceEntry | None) -> dict[str, Any]:
    """The registry fields that make up what the user sees (stable across HA releases)."""
    return {
        "unique_id": entry.unique_id,
        "device": sorted(device.identifiers) if device else None,
        "device_class": entry.device_class,
        "original_device_class": entry.original_device_class,
        "entity_category": entry.entity_category,
        "translation_key": entry.translation_key,
        "original_name": entry.original_name,
        "has_entity_name": entry.has_entity_name,
        "capabilities": entry.capabilities,
        "supported_features": entry.supported_features,
        "unit_of_measurement": entry.unit_of_measurement,
        "disabled_by": entry.disabled_by,
    }


def _plain(data: dict[str, Any]) -> Any:
    """Plain JSON types, as the frontend receives them (enum keys differ between releases)."""
    return json_loads(json_dumps(data))


async def test_entities(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """The full set of entities, their registry entries and first states."""
    entries = sorted(
        (
            entry
            for entry in er.async_entries_for_config_entry(
                entity_registry, init_integration.entry_id
            )
            if entry.domain not in SKIPPED_DOMAINS
        ),
        key=lambda entry: entry.entity_id,
    )
    assert entries
    for entry in entries:
        device = device_registry.async_get(entry.device_id) if entry.device_id else None
        assert _plain(_entry(entry, device)) == snapshot(name=f"{entry.entity_id}-entry")
        state = hass.states.get(entry.entity_id)
        assert state is not None, entry.entity_id
        assert _plain({"state": state.state, "attributes": state.attributes}) == snapshot(
            name=f"{entry.entity_id}-state"
        )


async def test_every_named_entity_has_an_icon(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Entities named by translation key (no device class) have an icon in icons.json."""
    icons = (await async_get_icons(hass, "entity", [DOMAIN]))[DOMAIN]
    for entry in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id):
        if entry.domain in SKIPPED_DOMAINS or entry.translation_key is None:
            continue
        assert icons[entry.domain][entry.translation_key]["default"].startswith("mdi:"), (
            entry.entity_id
        )
    services = await async_get_icons(hass, "services", [DOMAIN])
    assert services[DOMAIN]["trigger_emergency"] == {"service": "mdi:alarm-light"}
