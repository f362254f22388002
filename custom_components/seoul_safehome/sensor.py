"""Sensors: the battery level of battery-powered devices."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

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
from .data import SafeHomeConfigEntry
from .entity import SafeHomeEntity, async_add_device_entities

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


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SafeHomeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each device's sensors."""

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
