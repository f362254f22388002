"""Selects: when the emergency bell sounds its own siren (at once, at escalation, never)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Device, EmergencyBellState, SafeHomeClient, SirenMode
from .commands import async_run
from .coordinator import SafeHomeCoordinator
from .data import SafeHomeConfigEntry
from .entity import SafeHomeEntity, async_add_device_entities

# Commands go straight to the hub, which handles several at once.
PARALLEL_UPDATES = 0


def _siren_mode(device: Device) -> str | None:
    """Return the bell's mode; None (unknown) for a mode this version does not know."""
    state = device.state
    if isinstance(state, EmergencyBellState) and state.siren_mode is not None:
        return state.siren_mode.value
    return None


@dataclass(frozen=True, kw_only=True)
class SafeHomeSelectEntityDescription(SelectEntityDescription):
    """Describes a select of a SafeHome device."""

    exists_fn: Callable[[Device], bool]
    current_fn: Callable[[Device], str | None]
    select_fn: Callable[[SafeHomeClient, str, str], Awaitable[Device]]


DESCRIPTIONS: tuple[SafeHomeSelectEntityDescription, ...] = (
    # The hub's own reaction to an emergency (docs/protocol.md §4): `immediate` sounds
    # the siren at once, `escalation` leaves it to the emergency blueprint, `silent`
    # never sounds it (a silent alarm). Only bells that report the setting get it.
    SafeHomeSelectEntityDescription(
        key="siren_mode",
        translation_key="siren_mode",
        entity_category=EntityCategory.CONFIG,
        options=[mode.value for mode in SirenMode],
        exists_fn=lambda device: (
            device.has("siren_mode") and isinstance(device.state, EmergencyBellState)
        ),
        current_fn=_siren_mode,
        select_fn=lambda client, device_id, option: client.set_siren_mode(device_id, option),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SafeHomeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each device's selects."""

    def create(coordinator: SafeHomeCoordinator, device: Device) -> Iterable[SelectEntity]:
        return (
            SafeHomeSelect(coordinator, device, description)
            for description in DESCRIPTIONS
            if description.exists_fn(device)
        )

    async_add_device_entities(entry, async_add_entities, create)


class SafeHomeSelect(SafeHomeEntity, SelectEntity):
    """A setting of a SafeHome device; the new choice arrives back from the hub."""

    entity_description: SafeHomeSelectEntityDescription

    @property
    def current_option(self) -> str | None:
        """Return the setting from the device."""
        return self.entity_description.current_fn(self.device)

    async def async_select_option(self, option: str) -> None:
        """Send the new setting to the device."""
        await async_run(
            self.entity_description.select_fn(self.coordinator.client, self._device_id, option)
        )
