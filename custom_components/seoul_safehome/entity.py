"""Base entities for Seoul SafeHome: one device-registry device per physical device."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api import Device, Hub
from .const import DOMAIN
from .coordinator import SafeHomeCoordinator
from .data import SafeHomeConfigEntry


def device_identifier(hub_id: str, device_id: str) -> tuple[str, str]:
    """Return the device-registry identifier of a hub's device."""
    return (DOMAIN, f"{hub_id}_{device_id}")


def hub_device_info(hub: Hub) -> DeviceInfo:
    """Return the device-registry description of the hub itself."""
    return DeviceInfo(
        identifiers={(DOMAIN, hub.id)},
        manufacturer=hub.manufacturer,
        model=hub.model,
        name=hub.name,
        sw_version=hub.firmware,
        serial_number=hub.id,
    )


class SafeHomeEntity(CoordinatorEntity[SafeHomeCoordinator]):
    """An entity of one SafeHome device; writes its state only when its device changed."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: SafeHomeCoordinator,
        device: Device,
        description: EntityDescription,
    ) -> None:
        """Bind the entity to a device and a description."""
        super().__init__(coordinator)
        self.entity_description = description
        self._device_id = device.id
        self._device = device
        hub_id = coordinator.data.hub.id
        self._attr_unique_id = f"{hub_id}_{device.id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={device_identifier(hub_id, device.id)},
            manufacturer=device.manufacturer,
            model=device.model,
            name=device.name,
            sw_version=device.firmware,
            via_device=(DOMAIN, hub_id),
        )
        self._written_available: bool | None = None
        self._written: tuple[object, ...] | None = None

    @property
    def device(self) -> Device:
        """The device as last reported by the hub."""
        return self._device

    @property
    def available(self) -> bool:
        """Available while the hub link is up and the device is present and online."""
        return (
            self.coordinator.link_up
            and self._device_id in self.coordinator.data.devices
            and self._device.online
        )

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only if what this entity shows changed.

        One device update (the door closed) must reach the automations listening to it
        (lock the door) without first rewriting the device's unchanged sibling entities.
        """
        device = self.coordinator.data.devices.get(self._device_id, self._device)
        if device is self._device and self.available == self._written_available:
            return
        self._device = device
        self._written_available = self.available
        shown = self._shown()
        if shown != self._written:
            self._written = shown
            self.async_write_ha_state()

    def _shown(self) -> tuple[object, ...]:
        """Return what the state machine would get from this entity now."""
        if not self._written_available:
            return (False,)
        return (True, self.state, self.state_attributes, self.extra_state_attributes)


class SafeHomeHubEntity(CoordinatorEntity[SafeHomeCoordinator]):
    """An entity of the hub itself."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: SafeHomeCoordinator, description: EntityDescription) -> None:
        """Bind the entity to the hub."""
        super().__init__(coordinator)
        self.entity_description = description
        hub = coordinator.data.hub
        self._hub = hub
        self._attr_unique_id = f"{hub.id}_{description.key}"
        self._attr_device_info = hub_device_info(hub)
        self._written_available: bool | None = None

    @property
    def hub(self) -> Hub:
        """The hub as last reported."""
        return self._hub

    @property
    def available(self) -> bool:
        """Available while the hub link is up."""
        return self.coordinator.link_up

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only if the hub or the link changed."""
        hub = self.coordinator.data.hub
        changed = hub is not self._hub
        self._hub = hub
        available = self.available
        if changed or available != self._written_available:
            self._written_available = available
            self.async_write_ha_state()


@callback
def async_add_device_entities(
    entry: SafeHomeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    create: Callable[[SafeHomeCoordinator, Device], Iterable[Entity]],
) -> None:
    """Add entities for every device now and for each device that appears later."""
    coordinator = entry.runtime_data.coordinator
    known: set[str] = set()

    @callback
    def add_new_devices() -> None:
        new = [dev for key, dev in coordinator.data.devices.items() if key not in known]
        if not new:
            return
        known.update(dev.id for dev in new)
        if entities := [entity for dev in new for entity in create(coordinator, dev)]:
            async_add_entities(entities)

    add_new_devices()
    entry.async_on_unload(coordinator.async_add_listener(add_new_devices))
