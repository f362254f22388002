"""Numbers: a door lock's own auto-lock delay (0 = lock the instant the door closes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Device, DoorLockState, SafeHomeClient
from .api.const import AUTO_LOCK_DELAY_MAX
from .commands import async_run
from .coordinator import SafeHomeCoordinator
from .data import SafeHomeConfigEntry
from .entity import SafeHomeEntity, async_add_device_entities

# Commands go straight to the hub, which handles several at once.
PARALLEL_UPDATES = 0


def _auto_lock_delay(device: Device) -> float | None:
    state = device.state
    return state.auto_lock_delay if isinstance(state, DoorLockState) else None


@dataclass(frozen=True, kw_only=True)
class SafeHomeNumberEntityDescription(NumberEntityDescription):
    """Describes a number of a SafeHome device."""

    exists_fn: Callable[[Device], bool]
    value_fn: Callable[[Device], float | None]
    set_fn: Callable[[SafeHomeClient, str, float], Awaitable[Device]]


DESCRIPTIONS: tuple[SafeHomeNumberEntityDescription, ...] = (
    SafeHomeNumberEntityDescription(
        key="auto_lock_delay",
        translation_key="auto_lock_delay",
        device_class=NumberDeviceClass.DURATION,
        entity_category=EntityCategory.CONFIG,
        native_min_value=0,
        native_max_value=AUTO_LOCK_DELAY_MAX,
        native_step=0.1,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        mode=NumberMode.BOX,
        exists_fn=lambda device: (
            device.has("auto_lock_delay") and isinstance(device.state, DoorLockState)
        ),
        value_fn=_auto_lock_delay,
        set_fn=lambda client, device_id, value: client.set_auto_lock_delay(device_id, value),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SafeHomeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each device's numbers."""

    def create(coordinator: SafeHomeCoordinator, device: Device) -> Iterable[NumberEntity]:
        return (
            SafeHomeNumber(coordinator, device, description)
            for description in DESCRIPTIONS
            if description.exists_fn(device)
        )

    async_add_device_entities(entry, async_add_entities, create)


class SafeHomeNumber(SafeHomeEntity, NumberEntity):
    """A setting of a SafeHome device; the new value arrives back from the hub."""

    entity_description: SafeHomeNumberEntityDescription

    @property
    def native_value(self) -> float | None:
        """Return the setting from the device."""
        return self.entity_description.value_fn(self.device)

    async def async_set_native_value(self, value: float) -> None:
        """Send the new value to the device."""
        # 0.1 s steps: send 2.5, not 2.5000000000000004.
        await async_run(
            self.entity_description.set_fn(
                self.coordinator.client, self._device_id, round(value, 1)
            )
        )
