"""Binary sensors: motion, door contact, emergency and the hub connection."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import (
    CameraState,
    Device,
    DoorbellState,
    DoorLockState,
    DoorState,
    EmergencyBellState,
)
from .coordinator import SafeHomeCoordinator
from .data import SafeHomeConfigEntry
from .entity import SafeHomeEntity, SafeHomeHubEntity, async_add_device_entities

# State is pushed by the hub; nothing is polled.
PARALLEL_UPDATES = 0


def _motion(device: Device) -> bool | None:
    state = device.state
    return state.motion if isinstance(state, DoorbellState | CameraState) else None


def _door_open(device: Device) -> bool | None:
    state = device.state
    return state.door is DoorState.OPEN if isinstance(state, DoorLockState) else None


def _emergency(device: Device) -> bool | None:
    state = device.state
    return state.emergency if isinstance(state, EmergencyBellState) else None


def _emergency_attributes(device: Device) -> dict[str, Any]:
    state = device.state
    if not isinstance(state, EmergencyBellState):
        return {}
    return {
        "source": state.emergency_source.value if state.emergency_source else None,
        "since": state.emergency_since.isoformat() if state.emergency_since else None,
    }


@dataclass(frozen=True, kw_only=True)
class SafeHomeBinarySensorEntityDescription(BinarySensorEntityDescription):
    """Describes a binary sensor of a SafeHome device."""

    exists_fn: Callable[[Device], bool]
    value_fn: Callable[[Device], bool | None]
    attributes_fn: Callable[[Device], dict[str, Any]] | None = None


DESCRIPTIONS: tuple[SafeHomeBinarySensorEntityDescription, ...] = (
    SafeHomeBinarySensorEntityDescription(
        key="motion",
        device_class=BinarySensorDeviceClass.MOTION,
        exists_fn=lambda device: (
            device.has("motion") and isinstance(device.state, DoorbellState | CameraState)
        ),
        value_fn=_motion,
    ),
    SafeHomeBinarySensorEntityDescription(
        key="door",
        device_class=BinarySensorDeviceClass.DOOR,
        exists_fn=lambda device: (
            device.has("door_contact") and isinstance(device.state, DoorLockState)
        ),
        value_fn=_door_open,
    ),
    SafeHomeBinarySensorEntityDescription(
        key="emergency",
        translation_key="emergency",
        device_class=BinarySensorDeviceClass.SAFETY,
        exists_fn=lambda device: isinstance(device.state, EmergencyBellState),
        value_fn=_emergency,
        attributes_fn=_emergency_attributes,
    ),
)

CONNECTIVITY = BinarySensorEntityDescription(
    key="connectivity",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SafeHomeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the hub's connection sensor and each device's binary sensors."""
    async_add_entities([SafeHomeConnectivitySensor(entry.runtime_data.coordinator, CONNECTIVITY)])

    def create(coordinator: SafeHomeCoordinator, device: Device) -> Iterable[BinarySensorEntity]:
        return (
            SafeHomeBinarySensor(coordinator, device, description)
            for description in DESCRIPTIONS
            if description.exists_fn(device)
        )

    async_add_device_entities(entry, async_add_entities, create)


class SafeHomeBinarySensor(SafeHomeEntity, BinarySensorEntity):
    """A binary sensor of a SafeHome device."""

    entity_description: SafeHomeBinarySensorEntityDescription

    @property
    def is_on(self) -> bool | None:
        """Return the sensor's state from the device."""
        return self.entity_description.value_fn(self.device)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return extra details (the emergency's source and start)."""
        if (attributes_fn := self.entity_description.attributes_fn) is None:
            return None
        return attributes_fn(self.device)


class SafeHomeConnectivitySensor(SafeHomeHubEntity, BinarySensorEntity):
    """On while the hub's event stream is connected; always available."""

    def __init__(
        self, coordinator: SafeHomeCoordinator, description: BinarySensorEntityDescription
    ) -> None:
        """Bind the sensor to the hub."""
        super().__init__(coordinator, description)
        self._written_link_up: bool | None = None

    @property
    def available(self) -> bool:
        """Stay available: reporting the link being down is this sensor's job."""
        return True

    @property
    def is_on(self) -> bool:
        """Return whether the hub link is up."""
        return self.coordinator.link_up

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state when the link goes up or down."""
        if self.coordinator.link_up != self._written_link_up:
            self._written_link_up = self.coordinator.link_up
            self.async_write_ha_state()
