"""Base entities for Seoul SafeHome: one device-registry device per physical device."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api import Device, Hub
from .compat import with_via_device
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


class SafeHomeBaseEntity(CoordinatorEntity[SafeHomeCoordinator]):
    """An entity kept up to date by the hub's event stream.

    It writes its state only when what it reads from the coordinator changed: the object
    it shows (a device or the hub, replaced by the coordinator on every change) or its
    availability. Any write by another path makes the next update compare afresh.
    """

    _attr_has_entity_name = True
    _written_from: tuple[object, bool] | None = None

    def _source(self) -> tuple[object, bool]:
        """Return what the entity shows now: the object it reads and its availability."""
        raise NotImplementedError

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only if the object read or the availability changed."""
        source = self._source()
        if (written_from := self._written_from) is not None and (
            source[0] is written_from[0] and source[1] == written_from[1]
        ):
            return
        self._write_changed()
        self._written_from = source

    def _write_changed(self) -> None:
        """Write the state (what it reads changed)."""
        self.async_write_ha_state()

    @callback
    def _async_write_ha_state(self) -> None:
        """Write the state; the next update compares afresh (another path wrote it).

        Overrides the hook every state write goes through (`async_write_ha_state` is
        final in newer Home Assistant releases).
        """
        super()._async_write_ha_state()
        self._written_from = None

    async def async_update(self) -> None:
        """Do nothing on `homeassistant.update_entity`: the hub pushes every change.

        While the stream is in sync the data is already current; while it is not, a REST
        read could not make the entity trustworthy (the stream resyncs by itself).
        """


class SafeHomeEntity(SafeHomeBaseEntity):
    """An entity of one SafeHome device, showing the coordinator's data of it.

    It keeps no copy of its device: `device` reads the coordinator's data each time. It
    writes its state only when what it shows changed.
    """

    def __init__(
        self,
        coordinator: SafeHomeCoordinator,
        device: Device,
        description: EntityDescription,
    ) -> None:
        """Bind the entity to a device (by id) and a description."""
        super().__init__(coordinator)
        self.entity_description = description
        self._device_id = device.id
        # Only for a device the hub no longer has (the entity is then unavailable and
        # shows nothing of it): what the entity's fixed features were built from.
        self._created_from = device
        hub_id = coordinator.data.hub.id
        self._attr_unique_id = f"{hub_id}_{device.id}_{description.key}"
        self._attr_device_info = with_via_device(
            coordinator.hass,
            coordinator.config_entry.entry_id,
            DeviceInfo(
                identifiers={device_identifier(hub_id, device.id)},
                manufacturer=device.manufacturer,
                model=device.model,
                name=device.name,
                sw_version=device.firmware,
            ),
            (DOMAIN, hub_id),
        )
        # The state last written by an update (None: another path wrote since).
        self._written: tuple[object, ...] | None = None

    @property
    def device(self) -> Device:
        """The device as the hub last reported it (from the coordinator's data).

        A device the hub no longer has makes the entity unavailable; its fixed features
        (capabilities) are then read from the device it was created from.
        """
        return self.coordinator.data.devices.get(self._device_id, self._created_from)

    @property
    def available(self) -> bool:
        """Available while the data is the hub's truth and the device is present and online."""
        device = self.coordinator.data.devices.get(self._device_id)
        return self.coordinator.in_sync and device is not None and device.online

    def _source(self) -> tuple[object, bool]:
        """Return the device object the entity reads and its availability."""
        return self.coordinator.data.devices.get(self._device_id), self.available

    def _write_changed(self) -> None:
        """Write the state only if what this entity shows changed.

        One device update (the door closed) must reach the automations listening to it
        (lock the door) without first rewriting the device's unchanged sibling entities.
        """
        shown = self._shown()
        if shown != self._written:
            self.async_write_ha_state()
            self._written = shown

    def _shown(self) -> tuple[object, ...]:
        """Return what the state machine would get from this entity now."""
        if not self.available:
            return (False,)
        return (True, self.state, self.state_attributes, self.extra_state_attributes)

    @callback
    def _async_write_ha_state(self) -> None:
        """Write the state; the next update compares what is shown afresh too."""
        super()._async_write_ha_state()
        self._written = None


class SafeHomeHubEntity(SafeHomeBaseEntity):
    """An entity of the hub itself, showing the coordinator's data of it."""

    def __init__(self, coordinator: SafeHomeCoordinator, description: EntityDescription) -> None:
        """Bind the entity to the hub."""
        super().__init__(coordinator)
        self.entity_description = description
        hub = coordinator.data.hub
        self._attr_unique_id = f"{hub.id}_{description.key}"
        self._attr_device_info = hub_device_info(hub)

    @property
    def hub(self) -> Hub:
        """The hub as last reported (from the coordinator's data)."""
        return self.coordinator.data.hub

    @property
    def available(self) -> bool:
        """Available while the data is the hub's truth."""
        return self.coordinator.in_sync

    def _source(self) -> tuple[object, bool]:
        """Return the hub object the entity reads and its availability."""
        return self.coordinator.data.hub, self.available


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
