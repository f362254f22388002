"""Sensors: the battery level of battery-powered devices; a monitoring-centre link's reports."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Device
from .coordinator import SafeHomeCoordinator
from .data import AnyConfigEntry, is_monitoring_entry
from .entity import SafeHomeEntity, async_add_device_entities
from .monitoring import MonitoringCentreLink
from .monitoring_entity import MonitoringEntity

# State is pushed by the hub; nothing is polled.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SafeHomeSensorEntityDescription(SensorEntityDescription):
    """Describes a sensor of a SafeHome device."""

    exists_fn: Callable[[Device], bool]
    value_fn: Callable[[Device], int | float | None]


DESCRIPTIONS: tuple[SafeHomeSensorEntityDescription, ...] = (
    SafeHomeSensorEntityDescription(
        key="battery",
        device_class=SensorDeviceClass.BATTERY,
        entity_category=EntityCategory.DIAGNOSTIC,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        # Mains-powered devices (the home camera) report no battery.
        exists_fn=lambda device: device.battery is not None,
        value_fn=lambda device: device.battery,
    ),
)


def _last_report_attributes(link: MonitoringCentreLink) -> dict[str, Any]:
    if (last := link.queue.last_report) is None:
        return {}
    return {
        "code": last.code,
        "zone": last.zone,
        "sequence": last.seq,
        "delivered": last.delivered is not None,
    }


@dataclass(frozen=True, kw_only=True)
class MonitoringSensorEntityDescription(SensorEntityDescription):
    """Describes a sensor of a monitoring-centre link."""

    value_fn: Callable[[MonitoringCentreLink], datetime | int | None]
    attributes_fn: Callable[[MonitoringCentreLink], dict[str, Any]] | None = None


CENTRE_SENSORS: tuple[MonitoringSensorEntityDescription, ...] = (
    MonitoringSensorEntityDescription(
        key="last_report",
        translation_key="centre_last_report",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda link: link.queue.last_report.queued if link.queue.last_report else None,
        attributes_fn=_last_report_attributes,
    ),
    MonitoringSensorEntityDescription(
        key="last_ack",
        translation_key="centre_last_ack",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda link: link.queue.last_ack,
    ),
    MonitoringSensorEntityDescription(
        key="queued_reports",
        translation_key="centre_queued_reports",
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda link: len(link.queue.pending),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AnyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each device's sensors (or a monitoring-centre link's)."""
    if is_monitoring_entry(entry):
        async_add_entities(MonitoringSensor(entry, description) for description in CENTRE_SENSORS)
        return

    def create(coordinator: SafeHomeCoordinator, device: Device) -> Iterable[SensorEntity]:
        return (
            SafeHomeSensor(coordinator, device, description)
            for description in DESCRIPTIONS
            if description.exists_fn(device)
        )

    async_add_device_entities(entry, async_add_entities, create)


class SafeHomeSensor(SafeHomeEntity, SensorEntity):
    """A sensor of a SafeHome device."""

    entity_description: SafeHomeSensorEntityDescription

    @property
    def native_value(self) -> int | float | None:
        """Return the sensor's value from the device."""
        return self.entity_description.value_fn(self.device)


class MonitoringSensor(MonitoringEntity, SensorEntity):
    """A sensor of a monitoring-centre link: its last report, last ACK, queued reports."""

    entity_description: MonitoringSensorEntityDescription

    @property
    def native_value(self) -> datetime | int | None:
        """Return the value from the link."""
        return self.entity_description.value_fn(self.link)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the last report's code, zone, sequence number and delivery."""
        if (attributes_fn := self.entity_description.attributes_fn) is None:
            return None
        return attributes_fn(self.link)
