"""Buttons: stand an emergency down from the dashboard, as the bell's own button does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Device, EmergencyBellState, SafeHomeClient
from .commands import async_run
from .coordinator import SafeHomeCoordinator
from .data import SafeHomeConfigEntry
from .entity import SafeHomeEntity, async_add_device_entities

# Commands go straight to the hub, which handles several at once.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SafeHomeButtonEntityDescription(ButtonEntityDescription):
    """Describes a button of a SafeHome device."""

    exists_fn: Callable[[Device], bool]
    press_fn: Callable[[SafeHomeClient, str], Awaitable[Device]]


DESCRIPTIONS: tuple[SafeHomeButtonEntityDescription, ...] = (
    # A button, not a switch: the emergency's state is the emergency binary sensor, and
    # raising one from a dashboard toggle would be too easy by mistake (the
    # `trigger_emergency` action does that on purpose).
    SafeHomeButtonEntityDescription(
        key="cancel_emergency",
        translation_key="cancel_emergency",
        exists_fn=lambda device: (
            device.has("emergency") and isinstance(device.state, EmergencyBellState)
        ),
        press_fn=lambda client, device_id: client.cancel_emergency(device_id),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SafeHomeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each device's buttons."""

    def create(coordinator: SafeHomeCoordinator, device: Device) -> Iterable[ButtonEntity]:
        return (
            SafeHomeButton(coordinator, device, description)
            for description in DESCRIPTIONS
            if description.exists_fn(device)
        )

    async_add_device_entities(entry, async_add_entities, create)


class SafeHomeButton(SafeHomeEntity, ButtonEntity):
    """A command of a SafeHome device; its result arrives back from the hub."""

    entity_description: SafeHomeButtonEntityDescription

    async def async_press(self) -> None:
        """Send the command to the device."""
        await async_run(self.entity_description.press_fn(self.coordinator.client, self._device_id))
