"""Binary sensors: motion, door and window contacts, tamper, emergency, alarm, connection."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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
from .api.models import DeviceType, PersonalAlarmState, WindowLockState, WindowState
from .coordinator import SafeHomeCoordinator
from .data import AnyConfigEntry, is_monitoring_entry
from .entity import SafeHomeEntity, SafeHomeHubEntity, async_add_device_entities
from .monitoring_entity import MonitoringEntity

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


# The emergency's source when a personal alarm raised it on the bell (API 2.1; the hub
# reports it as `button`, naming the alarm in `emergency_device`).
SOURCE_PERSONAL_ALARM = "personal_alarm"


def _emergency_attributes(device: Device, devices: Mapping[str, Device]) -> dict[str, Any]:
    state = device.state
    if not isinstance(state, EmergencyBellState):
        return {}
    source = state.emergency_source.value if state.emergency_source else None
    raised_by = devices.get(state.emergency_device) if state.emergency_device else None
    if raised_by is not None and raised_by.type == DeviceType.PERSONAL_ALARM:
        source = SOURCE_PERSONAL_ALARM
    return {
        "source": source,
        "since": state.emergency_since.isoformat() if state.emergency_since else None,
    }


def _window_open(device: Device) -> bool | None:
    state = device.state
    return state.window is WindowState.OPEN if isinstance(state, WindowLockState) else None


def _tamper(device: Device) -> bool | None:
    state = device.state
    return state.tamper if isinstance(state, WindowLockState) else None


def _sounding(device: Device) -> bool | None:
    state = device.state
    return state.sounding if isinstance(state, PersonalAlarmState) else None


def _sounding_attributes(device: Device, _devices: Mapping[str, Device]) -> dict[str, Any]:
    state = device.state
    if not isinstance(state, PersonalAlarmState):
        return {}
    # `since`, as the emergency's: the escalation blueprint keys an emergency by it.
    return {"since": state.sounding_since.isoformat() if state.sounding_since else None}


@dataclass(frozen=True, kw_only=True)
class SafeHomeBinarySensorEntityDescription(BinarySensorEntityDescription):
    """Describes a binary sensor of a SafeHome device."""

    exists_fn: Callable[[Device], bool]
    value_fn: Callable[[Device], bool | None]
    # (The device, and every device of the hub by id.)
    attributes_fn: Callable[[Device, Mapping[str, Device]], dict[str, Any]] | None = None


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
    # The district options (API 2.1).
    SafeHomeBinarySensorEntityDescription(
        key="window",
        device_class=BinarySensorDeviceClass.WINDOW,
        exists_fn=lambda device: isinstance(device.state, WindowLockState),
        value_fn=_window_open,
    ),
    SafeHomeBinarySensorEntityDescription(
        key="tamper",
        device_class=BinarySensorDeviceClass.TAMPER,
        entity_category=EntityCategory.DIAGNOSTIC,
        exists_fn=lambda device: (
            device.has("tamper") and isinstance(device.state, WindowLockState)
        ),
        value_fn=_tamper,
    ),
    SafeHomeBinarySensorEntityDescription(
        key="sounding",
        translation_key="sounding",
        device_class=BinarySensorDeviceClass.SAFETY,
        exists_fn=lambda device: isinstance(device.state, PersonalAlarmState),
        value_fn=_sounding,
        attributes_fn=_sounding_attributes,
    ),
)

CONNECTIVITY = BinarySensorEntityDescription(
    key="connectivity",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
)

# A monitoring-centre link's health: on while its reports and tests are acknowledged.
CENTRE_LINK = BinarySensorEntityDescription(
    key="link",
    translation_key="centre_link",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AnyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the hub's connection sensor and each device's binary sensors (or a link's)."""
    if is_monitoring_entry(entry):
        async_add_entities([MonitoringLinkSensor(entry, CENTRE_LINK)])
        return
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
        """Return extra details (the emergency's source and start, the alarm's start)."""
        if (attributes_fn := self.entity_description.attributes_fn) is None:
            return None
        return attributes_fn(self.device, self.coordinator.data.devices)


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


class MonitoringLinkSensor(MonitoringEntity, BinarySensorEntity):
    """On while the monitoring centre acknowledges the reports and supervision tests."""

    @property
    def is_on(self) -> bool | None:
        """Return whether the link works (unknown before the first message)."""
        return self.link.link_up
