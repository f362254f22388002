"""Base entity of a monitoring-centre link: one service device per link, pushed updates."""

from __future__ import annotations

from typing import Final

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from .const import DOMAIN, ENTRY_TYPE_MONITORING
from .data import MonitoringConfigEntry
from .monitoring import MonitoringCentreLink

# The device's name is translated ("device" in the translations).
DEVICE_TRANSLATION_KEY: Final = "monitoring_centre"
MODEL: Final = "SIA DC-09"


def monitoring_device_info(entry: MonitoringConfigEntry) -> DeviceInfo:
    """Return the device-registry description of a link."""
    return DeviceInfo(
        identifiers={(DOMAIN, f"{ENTRY_TYPE_MONITORING}_{entry.entry_id}")},
        entry_type=DeviceEntryType.SERVICE,
        model=MODEL,
        translation_key=DEVICE_TRANSLATION_KEY,
    )


class MonitoringEntity(Entity):
    """An entity of a monitoring-centre link, written whenever the link changes."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, entry: MonitoringConfigEntry, description: EntityDescription) -> None:
        """Bind the entity to the entry's link."""
        self.entity_description = description
        self.link: MonitoringCentreLink = entry.runtime_data.link
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = monitoring_device_info(entry)

    async def async_added_to_hass(self) -> None:
        """Follow the link's changes."""
        self.async_on_remove(self.link.async_add_listener(self.async_write_ha_state))
